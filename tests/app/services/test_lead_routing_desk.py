"""The desk's side of lead routing and duplicates, on a real encrypted store: the board's claim,
deadline and escalation facts, the managers' escalation filter, a logged call, the staff rota,
possible duplicates with both records, a merged-away record followed to its survivor, and the
server's answers written into the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.db.models import Activity, AuditEntry, Lead, MergeReview, OutboxEntry, Patient
from app.db.store import Store, open_store
from app.repositories import patients as patient_repo
from app.repositories.context import Actor
from app.repositories.uow import system_actor, unit_of_work
from app.services.clinic_settings import ClinicSettingsService
from app.services.demo import DemoSummary, generate_demo
from app.services.leads import LeadFilter, LeadService
from app.services.merge_reviews import MergeReviewService
from app.services.patients import FieldErrors
from app.services.records import RecordService
from app.services.staff import sign_in
from app.sync.requests import Answer, NeedsServer, access, apply_answer
from core.clock import FixedClock
from core.errors import PermissionDenied
from core.ids import new_id
from core.sync import Change

NOW = datetime(2026, 11, 20, 19, 30, tzinfo=UTC)


@pytest.fixture
def demo(tmp_path, monkeypatch) -> Iterator[tuple[Store, DemoSummary]]:
    monkeypatch.setenv("GLOWDESK_KEY_FILE", str(tmp_path / "db.key"))
    store = open_store(tmp_path / "home", clock=FixedClock(NOW))
    summary = generate_demo(store, patients=120, seed=11, now=NOW)
    yield store, summary
    store.close()


def actor(store: Store, name: str) -> Actor:
    return sign_in(store, pin={"Olivia Owens": "1234", "Marcus Mendoza": "2468", "Felix Park": "5555",
                               "Priya Raman": "1111"}[name], name=name)


def test_the_board_carries_claims_deadlines_and_escalations(demo):
    store, summary = demo
    service = LeadService(store, clinic_id=summary.clinic_id)
    board = service.board(actor=actor(store, "Marcus Mendoza"), filter=LeadFilter(statuses=None))
    newest = max(board.rows, key=lambda r: r.received_at)
    assert newest.sla_due_at is not None and newest.sla_due_at > NOW  # its timer is running
    assert newest.claimed_by_name and newest.claim_expires_at is not None and newest.claim_expires_at > NOW
    escalated = [r for r in board.rows if r.escalated_at is not None]
    assert escalated and all(r.escalated_to_name == "Marcus Mendoza" for r in escalated)
    assert all(r.sla_due_at is not None and r.escalated_at >= r.sla_due_at for r in escalated)
    waiting = [r for r in escalated if r.first_reply_at is None and r.open]
    assert board.escalations == len(waiting)
    only = service.board(actor=actor(store, "Marcus Mendoza"), filter=LeadFilter(statuses=None, escalated=True))
    assert {r.id for r in only.rows} == {r.id for r in escalated}


def test_a_logged_call_is_contact_made_offline(demo):
    store, summary = demo
    service = LeadService(store, clinic_id=summary.clinic_id)
    felix = actor(store, "Felix Park")
    board = service.board(actor=felix, filter=LeadFilter(statuses=("new",)))
    lead = next(r for r in board.rows if r.patient_id)
    with unit_of_work(store, system_actor(store)) as ctx:
        before = max(ctx.session.execute(select(OutboxEntry.seq)).scalars())
    service.log_call(actor=felix, lead_id=lead.id)
    with unit_of_work(store, system_actor(store)) as ctx:
        row = ctx.session.get(Lead, lead.id)
        assert row is not None and row.status == "contacted"
        [call] = ctx.session.execute(select(Activity).where(Activity.lead_id == lead.id,
                                                            Activity.type == "lead.contacted")).scalars()
        assert call.actor_id == felix.staff_id and call.payload == {"channel": "call"}
        sent = {(e.entity, e.op) for e in ctx.session.execute(select(OutboxEntry).where(
            OutboxEntry.seq > before)).scalars()}
        assert sent == {("lead", "update"), ("activity", "append")}  # waits for the server in the outbox
    with pytest.raises(PermissionDenied):
        service.log_call(actor=actor(store, "Priya Raman"), lead_id=lead.id)


def test_working_hours_are_typed_on_the_staff_form(demo):
    store, summary = demo
    service = ClinicSettingsService(store, clinic_id=summary.clinic_id)
    owner = actor(store, "Olivia Owens")
    felix = next(s for s in service.snapshot(actor=owner).staff if s.display_name == "Felix Park")
    assert felix.working_hours == "Mon-Fri 08:30-17:30"  # the demo's rota
    data = {**vars(felix), "pin": "", "working_hours": "Tue-Sat 10-19"}
    service.save_staff(actor=owner, staff_id=felix.id, data=data)
    again = next(s for s in service.snapshot(actor=owner).staff if s.id == felix.id)
    assert again.working_hours == "Tue-Sat 10:00-19:00"
    with pytest.raises(FieldErrors) as bad:
        service.save_staff(actor=owner, staff_id=felix.id, data={**data, "working_hours": "Mon 17-9"})
    assert "must end after it starts" in bad.value.errors["working_hours"]


def _review_pair(store: Store, clinic_id: str) -> tuple[str, str, str]:
    """Two records of one person and the open review the server would have sent."""
    with unit_of_work(store, system_actor(store)) as ctx:
        old, new = ctx.session.execute(select(Patient).where(Patient.deleted.is_(False)).limit(2)).scalars()
        review = MergeReview(id=new_id(), clinic_id=clinic_id, patient_id=new.id, candidate_id=old.id,
                             reason="same_name_other_phone", status="open", opened_at=NOW, version=1, hlc="x",
                             deleted=False, created_at=NOW, updated_at=NOW)
        ctx.session.add(review)
        return old.id, new.id, review.id


def test_possible_duplicates_list_both_records_audited(demo):
    store, summary = demo
    old, new, review_id = _review_pair(store, summary.clinic_id)
    service = MergeReviewService(store, clinic_id=summary.clinic_id)
    [case] = service.open_cases(actor=actor(store, "Felix Park"))
    assert case.id == review_id and (case.left.id, case.right.id) == (old, new)
    assert case.reason == "Same name, another mobile number" and "first_name" in case.differs
    assert case.left.appointments + case.left.leads > 0
    with unit_of_work(store, system_actor(store)) as ctx:
        reads = ctx.session.execute(select(AuditEntry).where(AuditEntry.action == "patient.read",
                                                             AuditEntry.entity_id.in_([old, new]))).scalars().all()
        assert {r.entity_id for r in reads} == {old, new} and {r.detail["purpose"] for r in reads} == {"merge review"}
    with pytest.raises(PermissionDenied):
        service.open_cases(actor=actor(store, "Priya Raman"))


def _change(entity: str, entity_id: str, seq: int, data: dict, *, deleted: bool = False, version: int = 9) -> Change:
    return Change(seq=seq, entity=entity, entity_id=entity_id, version=version, hlc="1900000000000-000000-server",
                  deleted=deleted, data=data)


def test_a_merged_away_record_opens_as_its_survivor(demo):
    store, summary = demo
    old, new, review_id = _review_pair(store, summary.clinic_id)
    with unit_of_work(store, system_actor(store)) as ctx:
        tombstone = patient_repo.get_for_write(ctx, new)
        assert tombstone is not None
        data = {"clinic_id": summary.clinic_id, "first_name": tombstone.first_name, "last_name": tombstone.last_name,
                "merged_into": old}
    applied = apply_answer(store, Answer([
        _change("patient", new, 10_000, data, deleted=True),
        _change("merge_review", review_id, 10_001, {
            "clinic_id": summary.clinic_id, "patient_id": new, "candidate_id": old, "reason": "same_name_other_phone",
            "status": "merged", "opened_at": "2026-11-20T19:00:00.000000Z", "resolved_at": "2026-11-20T19:30:00.000000Z",
            "resolved_by": None, "survivor_id": old}),
    ], "The two records are now one; 3 related items moved."))
    assert applied.entities == {"patient", "merge_review"}
    records = RecordService(store, clinic_id=summary.clinic_id)
    file = records.client_file(actor=actor(store, "Felix Park"), patient_id=new)
    assert file.patient.id == old and file.merged_from == new
    records.timeline(actor=actor(store, "Felix Park"), patient_id=new)  # the survivor's, not "no longer exists"
    assert MergeReviewService(store, clinic_id=summary.clinic_id).open_cases(actor=actor(store, "Felix Park")) == []
    with unit_of_work(store, system_actor(store)) as ctx:
        assert not [h for h in patient_repo.search(ctx, str(data["last_name"])) if h.id == new]  # out of search


def test_actions_need_an_enrolled_server(demo):
    store, _summary = demo
    with pytest.raises(NeedsServer, match="not connected to a clinic server"):
        access(store)
