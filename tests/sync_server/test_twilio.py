"""Texting through Twilio: signed inbound texts and delivery states, STOP/START/HELP, the outbox
through the real twilio SDK against the stand-in, consent and quiet hours, lead acknowledgement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from core.clock import FixedClock, HybridLogicalClock
from core.permissions import Role
from sync_server import tenancy
from sync_server.db import Database
from sync_server.jobs.models import FAILED, Job
from sync_server.jobs.worker import Worker
from sync_server.messaging import service as messaging
from sync_server.messaging.models import Message, MessageMedia, SmsOptOut
from sync_server.messaging.service import read_media
from sync_server.records.service import ServerWrites
from sync_server.settings import Settings
from sync_server.webhooks.models import WebhookEvent
from tests.standins.signing import twilio_signature
from tests.standins.twilio_api import TwilioStandin

from .conftest import SECRET, ClinicRef, World
from .integration_setup import connect_twilio
from .outside import consents, make_patient, outside, rows, server, table, twilio, worker  # noqa: F401

CLINIC_NUMBER = "+14155550100"
AVA = "+14155550142"
PUBLIC = "https://glowdesk.test"


@pytest.fixture
def glow(world: World, db: Database, twilio: TwilioStandin, server: TestClient) -> ClinicRef:  # noqa: F811
    clinic = world.clinic("glow", "Glow Med Spa")
    connect_twilio(db, clinic, from_number=CLINIC_NUMBER, account_sid=twilio.account_sid,
                   auth_token=twilio.auth_token)
    twilio.poster = lambda url, params, headers: server.post(url, data=params, headers=headers).status_code
    return clinic


@pytest.fixture
def desk(world: World, glow: ClinicRef, server: TestClient) -> Any:  # noqa: F811
    device = world.device(glow)
    staff = world.staff(glow, Role.FRONT_DESK, "Fran Desk")

    def send(patient_id: str, body: str, **extra: Any) -> Any:
        return server.post("/api/v1/messages", json={"patient_id": patient_id, "body": body, **extra},
                           headers=device.headers(staff))

    send.headers = device.headers(staff)  # type: ignore[attr-defined]
    return send


def text_in(server: TestClient, twilio: TwilioStandin, *, body: str, from_: str = AVA,  # noqa: F811
            media: list[tuple[bytes, str]] | None = None) -> Any:
    params = twilio.inbound(from_=from_, to=CLINIC_NUMBER, body=body, media=media)
    return server.post("/webhooks/twilio/sms", data=params, headers=twilio.sign(f"{PUBLIC}/webhooks/twilio/sms", params))


def messages(db: Database, clinic: ClinicRef) -> list[Message]:
    return sorted(table(db, clinic, Message), key=lambda m: (m.created_at, m.id))


# --- inbound ----------------------------------------------------------------------------------


def test_a_text_from_a_new_number_becomes_a_client_a_lead_and_gets_acknowledged(
    db: Database, glow: ClinicRef, server: TestClient, twilio: TwilioStandin, worker: Worker,  # noqa: F811
) -> None:
    response = text_in(server, twilio, body="Hi, do you have Botox openings Friday?")
    assert response.status_code == 200 and "<Response>" in response.text
    worker.drain()
    [patient] = rows(db, glow, "patient")
    assert patient["phone"] == AVA and patient["consents"]["transactional_sms"]["granted"] is True
    [lead] = rows(db, glow, "lead")
    assert (lead["source"], lead["patient_id"], lead["message"]) == ("sms", patient["id"],
                                                                     "Hi, do you have Botox openings Friday?")
    inbound = [m for m in messages(db, glow) if m.direction == "inbound"]
    assert [(m.body, m.status, m.patient_id) for m in inbound] == [
        ("Hi, do you have Botox openings Friday?", "received", patient["id"])]
    [ack] = twilio.sent_to(AVA)  # the instant acknowledgement, through the real SDK
    assert "Glow Med Spa" in ack["body"] and ack["from"] == CLINIC_NUMBER
    types = [a["type"] for a in rows(db, glow, "activity")]
    assert "message.received" in types and "lead.received" in types and "message.outbound" in types


@pytest.mark.parametrize(("signature", "status"), [(None, 401), ("bad", 403), ("other-url", 403)])
def test_an_unsigned_or_missigned_text_stores_nothing(
    db: Database, glow: ClinicRef, server: TestClient, twilio: TwilioStandin,  # noqa: F811
    signature: str | None, status: int,
) -> None:
    params = twilio.inbound(from_=AVA, to=CLINIC_NUMBER, body="hello")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "bad":
        headers["X-Twilio-Signature"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
    elif signature == "other-url":
        headers["X-Twilio-Signature"] = twilio_signature(twilio.auth_token, "https://evil.example/webhooks/twilio/sms",
                                                         params)
    assert server.post("/webhooks/twilio/sms", data=params, headers=headers).status_code == status
    assert table(db, glow, WebhookEvent) == []


def test_a_repeated_delivery_stores_one_text(
    db: Database, glow: ClinicRef, server: TestClient, twilio: TwilioStandin, worker: Worker,  # noqa: F811
) -> None:
    params = twilio.inbound(from_=AVA, to=CLINIC_NUMBER, body="hello")
    headers = twilio.sign(f"{PUBLIC}/webhooks/twilio/sms", params)
    for _ in range(3):
        assert server.post("/webhooks/twilio/sms", data=params, headers=headers).status_code == 200
    worker.drain()
    assert len(table(db, glow, WebhookEvent)) == 1
    assert len([m for m in messages(db, glow) if m.direction == "inbound"]) == 1


def test_mms_media_is_fetched_from_twilio_and_stored_sealed(
    db: Database, outside: Settings, glow: ClinicRef, server: TestClient, twilio: TwilioStandin,  # noqa: F811
    worker: Worker,  # noqa: F811
) -> None:
    make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    photo = b"\xff\xd8\xff\xe0 a JPEG of a bruise"
    assert text_in(server, twilio, body="Is this normal?", media=[(photo, "image/jpeg")]).status_code == 200
    worker.drain()
    [inbound] = [m for m in messages(db, glow) if m.direction == "inbound"]
    [media] = table(db, glow, MessageMedia)
    assert media.message_id == inbound.id and media.content_type == "image/jpeg" and media.size == len(photo)
    assert inbound.media == [{"media_id": media.id, "content_type": "image/jpeg", "size": len(photo)}]
    assert photo not in (outside.server_home / media.path).read_bytes()
    assert read_media(outside.server_home, SECRET, media.path) == photo


# --- consent ----------------------------------------------------------------------------------


def test_stop_makes_the_next_send_refused_and_start_restores_it(
    db: Database, glow: ClinicRef, server: TestClient, twilio: TwilioStandin, worker: Worker, desk: Any,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms", "marketing_sms"))
    assert text_in(server, twilio, body="  stop ").status_code == 200  # whole body, any case
    worker.drain()
    [patient] = rows(db, glow, "patient")
    assert patient["consents"]["transactional_sms"]["granted"] is False
    assert patient["consents"]["marketing_sms"]["granted"] is False
    assert [(o.phone, o.opted_out) for o in table(db, glow, SmsOptOut)] == [(AVA, True)]
    assert twilio.sent_to(AVA) == []  # no acknowledgement, no help text

    refused = desk(ava, "Your appointment is tomorrow at 10.")
    assert refused.status_code == 201
    assert refused.json()["status"] == "refused" and "STOP" in refused.json()["status_reason"]
    worker.drain()
    assert twilio.sent_to(AVA) == []  # refused before Twilio

    text_in(server, twilio, body="START")
    worker.drain()
    [patient] = rows(db, glow, "patient")
    assert patient["consents"]["transactional_sms"]["granted"] is True
    assert patient["consents"]["marketing_sms"]["granted"] is True  # as it was before STOP
    assert desk(ava, "Welcome back!").json()["status"] == "queued"
    worker.drain()
    assert [m["body"] for m in twilio.sent_to(AVA)] == ["Welcome back!"]


def test_keywords_are_whole_messages_only(
    db: Database, glow: ClinicRef, server: TestClient, twilio: TwilioStandin, worker: Worker,  # noqa: F811
) -> None:
    make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    text_in(server, twilio, body="Please don't stop texting me")
    worker.drain()
    assert table(db, glow, SmsOptOut) == []
    assert rows(db, glow, "patient")[0]["consents"]["transactional_sms"]["granted"] is True


def test_help_gets_the_clinics_help_text(
    db: Database, glow: ClinicRef, server: TestClient, twilio: TwilioStandin, worker: Worker,  # noqa: F811
) -> None:
    make_patient(db, glow, phone=AVA)  # no consent recorded: HELP is still answered
    text_in(server, twilio, body="Help")
    worker.drain()
    [reply] = twilio.sent_to(AVA)
    assert reply["body"].startswith("Glow Med Spa: for help") and "STOP" in reply["body"]


def test_a_send_without_consent_is_refused_with_a_reason(
    db: Database, glow: ClinicRef, twilio: TwilioStandin, worker: Worker, desk: Any,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    refused = desk(ava, "20% off fillers this week!", purpose="marketing")
    assert refused.status_code == 403  # front desk may not send marketing at all
    no_phone = make_patient(db, glow, consents=consents("transactional_sms"))
    assert "no mobile number" in desk(no_phone, "Hi").json()["status_reason"]
    without = make_patient(db, glow, phone="+14155550188")
    assert "not agreed" in desk(without, "Hi").json()["status_reason"]
    worker.drain()
    assert twilio.messages == []


# --- the outbox -------------------------------------------------------------------------------


def test_a_text_is_sent_once_and_its_delivery_states_never_go_back(
    db: Database, glow: ClinicRef, twilio: TwilioStandin, worker: Worker, desk: Any, server: TestClient,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    message_id = "01a20000-0000-7000-8000-000000000001"
    first = desk(ava, "See you at 10!", id=message_id)
    again = desk(ava, "See you at 10!", id=message_id)  # the desktop retried after a timeout
    assert first.json()["id"] == again.json()["id"] == message_id and first.json()["status"] == "queued"
    worker.drain()
    worker.drain()
    [sent] = twilio.sent_to(AVA)
    [message] = messages(db, glow)
    assert (message.provider_sid, message.status) == (sent["sid"], "submitted")
    twilio.callbacks.reverse()  # "delivered" arrives before "sent"
    assert twilio.deliver_callbacks() == 2
    worker.drain()
    [message] = messages(db, glow)
    assert message.status == "delivered" and message.delivered_at is not None
    thread = server.get(f"/api/v1/patients/{ava}/messages", headers=desk.headers).json()
    assert [(m["id"], m["status"], m["author_staff_id"] is not None) for m in thread] == [
        (message_id, "delivered", True)]
    assert server.get(f"/api/v1/patients/{ava}/messages").status_code == 401


def test_an_undelivered_text_shows_the_carriers_reason(
    db: Database, glow: ClinicRef, twilio: TwilioStandin, worker: Worker, desk: Any,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    twilio.unreachable.add(AVA)
    desk(ava, "Reminder: tomorrow 10 AM")
    worker.drain()
    twilio.deliver_callbacks()
    worker.drain()
    [message] = messages(db, glow)
    assert (message.status, message.error_code) == ("undelivered", "30003")
    assert "did not deliver" in (message.status_reason or "")
    assert any(a["type"] == "message.failed" for a in rows(db, glow, "activity"))


@pytest.mark.parametrize(("setup", "code", "reason"), [
    ("opted_out", "21610", "opted out"),
    ("invalid", "21211", "not a valid phone number"),
])
def test_permanent_twilio_errors_are_recorded_with_their_reason(
    db: Database, glow: ClinicRef, twilio: TwilioStandin, worker: Worker, desk: Any,  # noqa: F811
    setup: str, code: str, reason: str,
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    getattr(twilio, setup).add(AVA)  # Twilio knows something we did not
    desk(ava, "Your deposit link: https://pay.example/x")
    worker.drain()
    [message] = messages(db, glow)
    assert (message.status, message.error_code) == ("failed", code) and reason in (message.status_reason or "")
    [job] = [j for j in table(db, glow, Job) if j.kind == "message.send"]
    assert job.status == FAILED and job.attempts == 1
    assert [o.opted_out for o in table(db, glow, SmsOptOut)] == ([True] if code == "21610" else [])
    assert twilio.sent_to(AVA) == []


def test_a_twilio_outage_is_retried_without_sending_twice(
    db: Database, glow: ClinicRef, twilio: TwilioStandin, worker: Worker, desk: Any,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    twilio.fail_next.append(503)
    desk(ava, "Running 5 min late, sorry!")
    clock = FixedClock(datetime.now(UTC) + timedelta(seconds=1))
    worker.clock = clock
    worker.drain()
    [message] = messages(db, glow)
    assert message.status == "sending" and twilio.sent_to(AVA) == []
    clock.advance(timedelta(minutes=2))
    worker.drain()
    assert len(twilio.sent_to(AVA)) == 1 and messages(db, glow)[0].status == "submitted"


def test_a_send_whose_answer_was_lost_is_found_not_repeated(
    db: Database, glow: ClinicRef, twilio: TwilioStandin, worker: Worker, desk: Any,  # noqa: F811
) -> None:
    from twilio.rest import Client

    from sync_server.integrations.twilio_api import RedirectingHttpClient

    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    message_id = desk(ava, "Your consult is confirmed.").json()["id"]
    # The worker marked it sending, Twilio accepted it, and the worker died before recording that.
    started = datetime.now(UTC)
    sdk = Client(twilio.account_sid, twilio.auth_token, http_client=RedirectingHttpClient(twilio.url))
    accepted = sdk.messages.create(to=AVA, from_=CLINIC_NUMBER, body="Your consult is confirmed.")
    with db.transaction(app_role=True) as session:
        tenancy.enter_clinic(session, glow.id)
        session.execute(update(Message).where(Message.id == message_id).values(status="sending",
                                                                                attempt_started_at=started))
    worker.drain()
    assert len(twilio.sent_to(AVA)) == 1
    [message] = messages(db, glow)
    assert message.provider_sid == accepted.sid


def test_marketing_waits_for_the_end_of_quiet_hours_in_the_clients_time_zone(
    db: Database, outside: Settings, glow: ClinicRef, twilio: TwilioStandin, worker: Worker,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms", "marketing_sms"),
                       timezone="America/New_York")
    late = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)  # 21:30 on the 24th in New York
    with db.transaction(app_role=True) as session:
        tenancy.enter_clinic(session, glow.id)
        writes = ServerWrites(session, clinic_id=glow.id, now=late, hlc=HybridLogicalClock("server"))
        message = messaging.queue_outbound(writes, patient_id=ava, body="Holiday glow offer: 20% off HydraFacials.",
                                           purpose="marketing")
    assert message.send_after == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # 08:00 in New York
    worker.clock = FixedClock(late + timedelta(minutes=5))
    worker.drain()
    assert twilio.sent_to(AVA) == []
    worker.clock = FixedClock(datetime(2026, 11, 25, 13, 1, tzinfo=UTC))
    worker.drain()
    assert len(twilio.sent_to(AVA)) == 1


@pytest.mark.parametrize(("local_hour", "expected"), [(10, "will text you back in a few minutes"),
                                                      (23, "We're closed right now; we open Wednesday at 9 AM")])
def test_a_new_web_lead_is_acknowledged_at_once_with_the_after_hours_variant_at_night(
    db: Database, glow: ClinicRef, server: TestClient, twilio: TwilioStandin, worker: Worker,  # noqa: F811
    local_hour: int, expected: str,
) -> None:
    # Tuesday 24 November 2026 in Los Angeles (UTC-8)
    worker.clock = FixedClock(datetime(2026, 11, 24, local_hour, 5, tzinfo=UTC) + timedelta(hours=8))
    server.app.state.clock = worker.clock  # the form arrives at the same moment the worker sees
    form = {"first_name": "Lena", "phone": "(415) 555-0150", "sms_consent": "1", "submission_id": "x1",
            "service_interest": "Lip filler"}
    assert server.post("/f/glow/lead", data=form).status_code == 200
    server.post("/f/glow/lead", data=form)  # a double submit: one lead, one text
    worker.drain()
    [ack] = twilio.sent_to("+14155550150")
    assert ack["body"].startswith("Hi Lena, thanks for reaching out to Glow Med Spa!") and expected in ack["body"]
    [message] = messages(db, glow)
    assert (message.kind, message.lead_id) == ("lead_ack", rows(db, glow, "lead")[0]["id"])


def test_no_acknowledgement_without_sms_consent(
    db: Database, glow: ClinicRef, server: TestClient, twilio: TwilioStandin, worker: Worker,  # noqa: F811
) -> None:
    server.post("/f/glow/lead", data={"first_name": "Lena", "phone": "(415) 555-0150"})
    worker.drain()
    assert len(rows(db, glow, "lead")) == 1 and twilio.messages == []
