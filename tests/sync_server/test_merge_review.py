"""One record per person: an uncertain match becomes a review the desktops see; staff merge the
two records (the server moves everything to the survivor and leaves a tombstone pointing at it)
or mark them different people. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from core.ids import new_id
from sync_server import tenancy
from sync_server.audit import service as audit
from sync_server.audit.models import AuditEntry
from sync_server.messaging import service as messaging
from sync_server.messaging.models import Message
from sync_server.patients.models import MergeReview
from sync_server.sync.service import iso

from .outside import table
from .routing_world import T0, Spa, spa  # noqa: F401 - fixture

JANE_PHONE, JANE_NEW_PHONE = "+14155550134", "+14155550999"


def jane_twice(spa: Spa) -> tuple[str, str, str]:  # noqa: F811
    """Jane Doe, a client with history; then a lead from "Jane Doe" with another phone.
    Returns (original record, new record, review id)."""
    original = spa.arrive(first="Jane", last="Doe", phone=JANE_PHONE).patient_id
    assert original is not None
    with spa.transaction() as writes:
        writes.update("patient", original, {
            "email": "jane@example.com", "email_key": "jane@example.com", "allergies": "Latex",
            "tags": ["filler"], "date_of_birth": "1988-03-04",
            "consents": {"marketing_sms": {"granted": True, "at": "2025-01-01T00:00:00.000000Z", "source": "form"}}})
        writes.insert("appointment", {
            "patient_id": original, "service_id": new_id(), "provider_id": spa.staff["Elena"],
            "start_at": iso(T0 + timedelta(days=2)), "end_at": iso(T0 + timedelta(days=2, minutes=30))})
    spa.clock.advance(timedelta(days=1))
    second = spa.arrive(first="Jane", last="Doe", phone=JANE_NEW_PHONE, interest="Lip filler")
    assert second.review_id is not None and second.patient_id != original
    with spa.transaction() as writes:
        writes.update("patient", second.patient_id, {
            "allergies": "Lidocaine", "tags": ["new client"], "vip": True,
            "consents": {"marketing_sms": {"granted": False, "at": iso(spa.clock.now()), "source": "sms_keyword"}}})
        messaging.record_inbound(writes, channel="sms", patient_id=second.patient_id, lead_id=second.lead_id,
                                 body="Do you have anything Saturday?", from_addr=JANE_NEW_PHONE, to_addr=None,
                                 provider_sid="SM" + "1" * 32, media=[])
    assert second.patient_id is not None
    return original, second.patient_id, second.review_id


def merge(spa: Spa, review_id: str, survivor: str, staff: str = "Felix", **keep: str) -> Any:  # noqa: F811
    return spa.post(f"/merge-reviews/{review_id}/merge", staff, {"survivor_id": survivor, "keep": keep})


def test_an_uncertain_match_reaches_the_desktops_as_a_review(spa: Spa) -> None:  # noqa: F811
    original, newer, review_id = jane_twice(spa)
    desk = spa.desk("Felix")
    changes, _ = desk.pull_all()
    [review] = [c for c in changes if c["entity"] == "merge_review"]
    assert review["entity_id"] == review_id
    assert review["data"]["status"] == "open" and review["data"]["reason"] == "same_name_other_phone"
    assert {review["data"]["patient_id"], review["data"]["candidate_id"]} == {original, newer}
    [refused] = desk.push(desk.m("merge_review", "update", review_id, base_version=review["version"],
                                 status="dismissed"))
    assert refused["status"] == "rejected" and refused["code"] == "not_writable"


def test_a_merge_keeps_one_record_with_both_histories(spa: Spa) -> None:  # noqa: F811
    original, newer, review_id = jane_twice(spa)
    before_other = {e["id"] for e in spa.entries(patient_id=newer)}
    answer = merge(spa, review_id, original, phone="other")
    assert answer.status_code == 200, answer.text
    assert answer.json()["message"].startswith("The two records are now one;")
    by_id = {c["entity_id"]: c for c in answer.json()["changes"]}
    survivor = by_id[original]["data"]
    assert survivor["phone"] == JANE_NEW_PHONE and survivor["email"] == "jane@example.com"  # chosen, and kept
    assert survivor["date_of_birth"] == "1988-03-04" and survivor["first_name"] == "Jane"
    assert survivor["allergies"] == "Latex\nLidocaine"  # an allergy is never chosen away
    assert survivor["tags"] == ["filler", "new client"] and survivor["vip"] is True
    assert survivor["consents"]["marketing_sms"]["granted"] is False  # the later opt-out wins
    tombstone = by_id[newer]
    assert tombstone["deleted"] is True and tombstone["data"]["merged_into"] == original
    assert tombstone["data"]["phone"] == JANE_NEW_PHONE  # its data stays with the tombstone
    assert by_id[review_id]["data"]["status"] == "merged" and by_id[review_id]["data"]["survivor_id"] == original

    # everything that pointed at the merged record now points at the survivor
    assert not spa.entries(patient_id=newer)
    moved = {e["id"] for e in spa.entries(patient_id=original)}
    assert before_other <= moved
    [entry] = [e for e in spa.entries(patient_id=original) if e["type"] == "patient.merged"]
    assert entry["actor_id"] == spa.staff["Felix"] and entry["payload"]["merged_patient_id"] == newer
    assert entry["payload"]["replaced"]["phone"] == JANE_PHONE  # what the survivor had before
    assert entry["payload"]["merged_record"]["allergies"] == "Lidocaine"
    assert entry["payload"]["moved"]["lead"] == 1 and entry["payload"]["moved"]["message"] == 1
    with spa.transaction() as writes:
        leads = writes.find("lead", patient_id=original)
        appointments = writes.find("appointment", patient_id=original)
    assert len(leads) == 2 and len(appointments) == 1
    assert [m.patient_id for m in table(spa.db, spa.clinic, Message)] == [original]
    [review] = table(spa.db, spa.clinic, MergeReview)
    assert (review.status, review.survivor_id, review.resolved_by) == ("merged", original, spa.staff["Felix"])

    # audited, ids and field names only; the chain still verifies
    with spa.db.transaction(write=False, app_role=True) as session:
        tenancy.enter_clinic(session, spa.clinic.id)
        [logged] = session.execute(select(AuditEntry).where(AuditEntry.clinic_id == spa.clinic.id,
                                                            AuditEntry.action == "patient.merge")).scalars()
        assert logged.staff_id == spa.staff["Felix"] and logged.detail["merged"] == newer
        assert JANE_PHONE not in str(logged.detail)
        assert audit.verify(session, clinic_id=spa.clinic.id).ok

    # a desktop pulling now sees the tombstone pointing at the survivor
    changes, _ = spa.desk("Daisy").pull_all()
    pulled = {c["entity_id"]: c for c in changes if c["entity"] == "patient"}
    assert pulled[newer]["deleted"] and pulled[newer]["data"]["merged_into"] == original


def test_an_offline_change_for_the_merged_record_lands_on_the_survivor(spa: Spa) -> None:  # noqa: F811
    original, newer, review_id = jane_twice(spa)
    assert merge(spa, review_id, newer).status_code == 200
    desk = spa.desk("Daisy")
    note = desk.m("activity", "append", patient_id=original, type="note", occurred_at=iso(spa.clock.now()),
                  actor_id=spa.staff["Daisy"], payload={"text": "Called about Saturday"})
    [result] = desk.push(note)
    assert result["status"] == "applied" and result["current"]["data"]["patient_id"] == newer


def test_a_review_is_resolved_once(spa: Spa) -> None:  # noqa: F811
    original, newer, review_id = jane_twice(spa)
    assert merge(spa, review_id, original).status_code == 200
    again = merge(spa, review_id, newer)
    assert again.status_code == 409 and again.json()["detail"] == "These two records were already merged; nothing was changed."
    assert spa.row("patient", original).deleted is False


def test_not_the_same_person(spa: Spa) -> None:  # noqa: F811
    original, newer, review_id = jane_twice(spa)
    answer = spa.post(f"/merge-reviews/{review_id}/dismiss", "Felix")
    assert answer.status_code == 200
    assert answer.json()["changes"][0]["data"]["status"] == "dismissed"
    for patient in (original, newer):
        assert "patient.not_duplicate" in [e["type"] for e in spa.entries(patient_id=patient)]
        assert spa.row("patient", patient).deleted is False
    late = merge(spa, review_id, original)
    assert late.status_code == 409 and "marked as different people" in late.json()["detail"]


def test_merging_needs_the_permission_and_sensible_choices(spa: Spa) -> None:  # noqa: F811
    original, newer, review_id = jane_twice(spa)
    assert merge(spa, review_id, original, staff="Pat").status_code == 403  # providers do not merge records
    outsider = merge(spa, review_id, new_id())
    assert outsider.status_code == 422 and "one of the two records" in outsider.json()["detail"]
    unknown = merge(spa, review_id, original, consents="other")
    assert unknown.status_code == 422 and "cannot be chosen" in unknown.json()["detail"]
    assert spa.post(f"/merge-reviews/{new_id()}/merge", "Felix", {"survivor_id": original}).status_code == 404
    assert spa.row("patient", newer).deleted is False  # nothing happened
