"""The shared thread on the desktop: reading it (audited), composing variables, sending through the
outbox, what the server's answer does to a message, read receipts and unread counts, notices of
new messages (no text unless asked), templates and attachments, on a real encrypted demo store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app.db.models import AuditEntry, OutboxEntry, Patient
from app.db.store import Store, open_store
from app.repositories.context import Actor
from app.repositories.uow import system_actor, unit_of_work
from app.services.demo import DemoSummary, generate_demo
from app.services.messaging import MessagingService
from app.services.patients import FieldErrors
from app.services.staff import sign_in
from app.sync.apply import apply_results, apply_rows, mutation_of
from core.clock import FixedClock
from core.errors import PermissionDenied, ValidationError
from core.ids import new_id
from core.sync import Change, MutationResult

NOW = datetime(2026, 3, 5, 22, 0, tzinfo=UTC)  # Thursday, 2 PM in San Francisco
PINS = {"Olivia Owens": "1234", "Marcus Mendoza": "2468", "Felix Park": "5555", "Priya Raman": "1111"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, DemoSummary]]:
    folder = tmp_path_factory.mktemp("messaging")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GLOWDESK_KEY_FILE", str(folder / "db.key"))
        store = open_store(folder / "home", clock=FixedClock(NOW))
    summary = generate_demo(store, patients=400, seed=42, now=NOW)
    yield store, summary
    store.close()


@pytest.fixture
def service(demo: tuple[Store, DemoSummary]) -> MessagingService:
    store, summary = demo
    return MessagingService(store, clinic_id=summary.clinic_id)


def staff(store: Store, name: str) -> Actor:
    return sign_in(store, pin=PINS[name], name=name)


def read(store: Store, func: Any) -> Any:
    with unit_of_work(store, system_actor(store)) as ctx:
        return func(ctx)


def audit_count(store: Store) -> int:
    return int(read(store, lambda ctx: ctx.session.execute(
        sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one()))


def texting_patient(store: Store, *, marketing: bool | None = None) -> str:
    """A client with a phone and transactional consent (and marketing consent as asked)."""
    def find(ctx: Any) -> str:
        for p in ctx.session.execute(select(Patient).where(Patient.phone.is_not(None))).scalars():
            consents = p.consents or {}
            if not (consents.get("transactional_sms") or {}).get("granted"):
                continue
            if marketing is not None and bool((consents.get("marketing_sms") or {}).get("granted")) != marketing:
                continue
            return str(p.id)
        raise AssertionError("no such client in the demo")
    return str(read(store, find))


def test_the_demo_has_threads_with_a_few_unread(demo: tuple[Store, DemoSummary], service: MessagingService) -> None:
    store, _ = demo
    unread = service.unread(actor=staff(store, "Felix Park"))
    assert len(unread.threads) == 6 and unread.total >= 6
    assert sum(unread.by_patient.values()) == unread.total
    assert [t.last_at for t in unread.threads] == sorted((t.last_at for t in unread.threads), reverse=True)
    first = unread.threads[0]
    thread = service.thread(actor=staff(store, "Felix Park"), patient_id=first.patient_id)
    assert thread.unread == first.unread and thread.messages
    assert [m.occurred_at for m in thread.messages] == sorted(m.occurred_at for m in thread.messages)
    assert thread.messages[-1].occurred_at <= NOW
    inbound = [m for m in thread.messages if m.inbound]
    assert inbound and all(m.author == thread.client_name for m in inbound)
    assert not any(m.pending for m in thread.messages)  # as the server delivered them


def test_reading_a_thread_is_audited(demo: tuple[Store, DemoSummary], service: MessagingService) -> None:
    store, _ = demo
    pid = texting_patient(store)
    before = audit_count(store)
    service.thread(actor=staff(store, "Felix Park"), patient_id=pid)
    [entry] = read(store, lambda ctx: list(ctx.session.execute(
        select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalars()))
    assert audit_count(store) == before + 1
    assert (entry.action, entry.entity_id, entry.detail) == ("patient.read", pid, {"purpose": "messages"})


def test_opening_an_unread_thread_marks_it_read_for_the_whole_team(
    demo: tuple[Store, DemoSummary], service: MessagingService,
) -> None:
    store, _ = demo
    felix, olivia = staff(store, "Felix Park"), staff(store, "Olivia Owens")
    unread = service.unread(actor=olivia)
    target = unread.threads[-1]
    thread = service.thread(actor=felix, patient_id=target.patient_id)
    assert thread.newest_inbound_at is not None
    assert service.mark_read(actor=felix, patient_id=target.patient_id, up_to=thread.newest_inbound_at)
    assert not service.mark_read(actor=felix, patient_id=target.patient_id, up_to=thread.newest_inbound_at)
    after = service.unread(actor=olivia)  # Olivia sees it read too
    assert target.patient_id not in after.by_patient and after.total == unread.total - target.unread
    again = service.thread(actor=olivia, patient_id=target.patient_id)
    assert again.unread == 0 and again.read_by == "Felix Park"
    receipts = read(store, lambda ctx: list(ctx.session.execute(
        select(OutboxEntry).where(OutboxEntry.entity == "message_read")).scalars()))
    assert [(r.op, r.fields["patient_id"], r.staff_id) for r in receipts] == [
        ("append", target.patient_id, felix.staff_id)]


def test_sending_writes_the_message_and_its_outbox_entry_and_waits(
    demo: tuple[Store, DemoSummary], service: MessagingService,
) -> None:
    store, summary = demo
    felix = staff(store, "Felix Park")
    pid = texting_patient(store)
    template = service.thread(actor=felix, patient_id=pid).templates[0]
    message_id = service.send(actor=felix, patient_id=pid, body="  See you Thursday at 2!  ", template_id=template.id)
    entry = read(store, lambda ctx: ctx.session.execute(
        select(OutboxEntry).where(OutboxEntry.entity_id == message_id)).scalar_one())
    assert (entry.op, entry.staff_id) == ("insert", felix.staff_id)
    assert entry.fields["body"] == "See you Thursday at 2!" and entry.fields["purpose"] == "transactional"
    assert entry.fields["template_id"] == template.id and entry.fields["channel"] == "sms"
    [last_audit] = read(store, lambda ctx: list(ctx.session.execute(
        select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalars()))
    assert last_audit.action == "message.send" and "See you" not in str(last_audit.detail)
    thread = service.thread(actor=felix, patient_id=pid)
    mine = thread.messages[-1]
    assert (mine.id, mine.pending, mine.author, mine.template) == (message_id, True, "Felix Park", template.name)
    assert thread.online is False and not thread.enrolled  # a local demo: waiting to send, offline

    # the server answers the push: refused, with its reason; the message is no longer pending
    sent = mutation_of(entry)
    data = {**entry.fields, "status": "refused", "author_id": felix.staff_id,
            "status_reason": "This client has opted out of texts (they replied STOP), so no text was sent."}
    current = Change(seq=99, entity="message", entity_id=message_id, version=2, hlc=entry.hlc, data=data,
                     created_hlc=entry.hlc)
    with unit_of_work(store, system_actor(store)) as ctx:
        apply_results(ctx, [sent], [MutationResult(mutation_id=sent.mutation_id, status="applied", server_seq=99,
                                                   current=current)])
    mine = service.thread(actor=felix, patient_id=pid).messages[-1]
    assert (mine.pending, mine.status) == (False, "refused") and "opted out" in (mine.status_reason or "")


def test_marketing_needs_the_permission_and_bad_texts_are_refused_with_a_sentence(
    demo: tuple[Store, DemoSummary], service: MessagingService,
) -> None:
    store, _ = demo
    pid = texting_patient(store)
    with pytest.raises(PermissionDenied, match="owners and managers"):
        service.send(actor=staff(store, "Felix Park"), patient_id=pid, body="20% off!", purpose="marketing")
    with pytest.raises(ValidationError, match="Write the text first"):
        service.send(actor=staff(store, "Felix Park"), patient_id=pid, body="   ")
    with pytest.raises(ValidationError, match="at most 1600 characters"):
        service.send(actor=staff(store, "Felix Park"), patient_id=pid, body="x" * 1601)
    assert service.send(actor=staff(store, "Marcus Mendoza"), patient_id=pid, body="20% off!", purpose="marketing")


def test_a_dm_is_written_with_its_channel_only_to_a_client_with_an_instagram_account(
    demo: tuple[Store, DemoSummary], service: MessagingService,
) -> None:
    store, _ = demo
    felix = staff(store, "Felix Park")
    no_account = texting_patient(store)
    if read(store, lambda ctx: ctx.session.get(Patient, no_account).instagram_id):
        pytest.skip("the demo gave this client an Instagram account")
    with pytest.raises(ValidationError, match="no Instagram account on their record"):
        service.send(actor=felix, patient_id=no_account, body="Hi!", channel="instagram")
    linked = read(store, lambda ctx: ctx.session.execute(
        select(Patient.id).where(Patient.instagram_id.is_not(None)).limit(1)).scalar_one())
    with pytest.raises(ValidationError, match="at most 1000 characters"):
        service.send(actor=felix, patient_id=linked, body="x" * 1001, channel="instagram")
    message_id = service.send(actor=felix, patient_id=linked, body="Thanks for your message!", channel="instagram")
    [mine] = [m for m in service.thread(actor=felix, patient_id=linked).messages if m.id == message_id]
    assert (mine.channel, mine.pending, mine.author) == ("instagram", True, "Felix Park")
    thread = service.thread(actor=felix, patient_id=linked)
    assert thread.instagram_connected is True  # the demo clinic has Instagram connected


def test_template_variables_come_from_the_clients_next_appointment(
    demo: tuple[Store, DemoSummary], service: MessagingService,
) -> None:
    store, _ = demo
    from app.db.models import Appointment

    appt = read(store, lambda ctx: ctx.session.execute(
        select(Appointment).where(Appointment.start_at > NOW, Appointment.status.in_(("booked", "confirmed")))
        .order_by(Appointment.start_at).limit(1)).scalar_one())
    thread = service.thread(actor=staff(store, "Felix Park"), patient_id=appt.patient_id, now=NOW)
    v = thread.variables
    local = appt.start_at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert v["appointment_time"] == f"{local:%a, %b} {local.day} at {local.hour % 12 or 12}:{local:%M %p}"
    assert v["provider"] and v["service"] and v["clinic_name"] == "Lumière Aesthetics"
    assert v["booking_link"] == "https://lumiere-aesthetics.example/book"
    assert v["deposit_link"] is None  # no card payments in this version


def test_notices_name_the_client_and_leave_the_text_out_unless_asked(
    demo: tuple[Store, DemoSummary], service: MessagingService,
) -> None:
    store, summary = demo
    felix = staff(store, "Felix Park")
    pid = texting_patient(store)
    mark = service.watermark(actor=felix)
    assert service.notices(actor=felix, after=mark).notices == ()
    pulled = Change(seq=500, entity="message", entity_id=new_id(), version=1, hlc="1772748000000-000001-server",
                    data={"clinic_id": summary.clinic_id, "patient_id": pid, "channel": "sms", "purpose": None,
                          "body": "Running 10 min late, sorry!", "template_id": None,
                          "occurred_at": "2026-03-04T09:00:00.000000Z", "direction": "inbound", "kind": "inbound",
                          "lead_id": None, "author_id": None, "media": [], "status": "received",
                          "status_reason": None, "error_code": None, "provider_message_id": "SM1",
                          "send_after": None, "sent_at": None, "delivered_at": None},
                    created_hlc="1772748000000-000001-server")
    with unit_of_work(store, system_actor(store)) as ctx:
        apply_rows(ctx, [pulled])
    quiet = service.notices(actor=felix, after=mark)
    [notice] = quiet.notices
    name = read(store, lambda ctx: ctx.session.get(Patient, pid))
    assert notice.name.endswith(name.last_name) and notice.text is None
    # it arrived now, although the client sent it yesterday: still new here
    assert service.notices(actor=felix, after=mark, with_text=True).notices[0].text == "Running 10 min late, sorry!"
    assert service.notices(actor=felix, after=quiet.watermark).notices == ()
    # and it counts as unread (it is newer than the thread's read receipt, if any)
    assert service.unread(actor=felix).by_patient.get(pid, 0) >= 1


def test_templates_are_checked_before_they_are_saved(
    demo: tuple[Store, DemoSummary], service: MessagingService,
) -> None:
    store, _ = demo
    marcus = staff(store, "Marcus Mendoza")
    with pytest.raises(FieldErrors) as refused:
        service.save_template(actor=marcus, template_id=None, data={"name": "", "body": "{{ first_name.__class__ }}"})
    assert set(refused.value.errors) == {"name", "body"}
    assert "cannot read attributes" in refused.value.errors["body"]
    with pytest.raises(PermissionDenied):
        service.save_template(actor=staff(store, "Felix Park"), template_id=None,
                              data={"name": "Mine", "body": "Hi {{ first_name }}"})
    tid = service.save_template(actor=marcus, template_id=None, data={
        "name": "Running late", "purpose": "transactional", "body": "Hi {{ first_name }}, we are running 10 minutes "
                                                                    "behind today. Sorry!"})
    service.save_template(actor=marcus, template_id=tid, data={"name": "Running late", "body": "Hi!", "active": False})
    items = {t.id: t for t in service.template_items(actor=marcus)}
    assert items[tid].body == "Hi!" and not items[tid].active
    names = [t.name for t in service.thread(actor=marcus, patient_id=texting_patient(store)).templates]
    assert "Running late" not in names and "Appointment reminder" in names  # inactive ones are not offered


def test_attachments_are_kept_in_the_store_and_their_reads_audited(
    demo: tuple[Store, DemoSummary], service: MessagingService,
) -> None:
    store, _ = demo
    felix = staff(store, "Felix Park")
    pid = texting_patient(store)
    media_id = new_id()
    assert service.attachment(actor=felix, patient_id=pid, media_id=media_id) is None
    service.keep_attachment(actor=felix, message_id=new_id(), media_id=media_id, content_type="image/jpeg",
                            data=b"\xff\xd8 photo")
    before = audit_count(store)
    assert service.attachment(actor=felix, patient_id=pid, media_id=media_id) == (b"\xff\xd8 photo", "image/jpeg")
    assert audit_count(store) == before + 1
