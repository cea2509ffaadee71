"""Messages as sync rows: a workstation pushes a new outbound message and the server turns it into
exactly one send (consent and permission first); every later change of the message (sending,
sent, delivered, failed, refused, inbound) reaches the desktops as the synced row; attachments
come through an authenticated endpoint; templates follow core's rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.ids import new_id
from core.permissions import Role
from sync_server.db import Database
from sync_server.jobs.worker import Worker
from sync_server.messaging.models import Message
from tests.standins.twilio_api import TwilioStandin

from .conftest import ClinicRef, World
from .integration_setup import connect_twilio
from .outside import consents, make_patient, outside, rows, server, table, twilio, worker  # noqa: F401
from .sync_helpers import Desk, utc_text

CLINIC_NUMBER = "+14155550100"
AVA = "+14155550142"
PUBLIC = "https://glowdesk.test"
WHEN = "2026-03-05T18:00:00.000000Z"


@pytest.fixture
def glow(world: World, db: Database, twilio: TwilioStandin, server: TestClient) -> ClinicRef:  # noqa: F811
    clinic = world.clinic("glow", "Glow Med Spa")
    connect_twilio(db, clinic, from_number=CLINIC_NUMBER, account_sid=twilio.account_sid,
                   auth_token=twilio.auth_token)
    twilio.poster = lambda url, params, headers: server.post(url, data=params, headers=headers).status_code
    return clinic


@pytest.fixture
def desk(world: World, glow: ClinicRef, server: TestClient) -> Desk:  # noqa: F811
    return Desk(server, world.device(glow), world.staff(glow, Role.FRONT_DESK, "Felix Park"))


@pytest.fixture
def manager(world: World, glow: ClinicRef, server: TestClient, desk: Desk) -> Desk:  # noqa: F811
    return Desk(server, desk.device, world.staff(glow, Role.MANAGER, "Marcus Mendoza"))


def text(desk: Desk, patient_id: str, body: str, **fields: Any) -> dict[str, Any]:
    return desk.m("message", "insert", patient_id=patient_id, body=body, occurred_at=WHEN, **fields)


def synced(desk: Desk, message_id: str) -> dict[str, Any]:
    """The message's row as a desktop pulls it now."""
    changes, _ = desk.pull_all()
    [row] = [c for c in changes if c["entity"] == "message" and c["entity_id"] == message_id]
    return row


def test_a_pushed_message_is_sent_exactly_once(
    db: Database, glow: ClinicRef, desk: Desk, twilio: TwilioStandin, worker: Worker,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    mutation = text(desk, ava, "See you Thursday at 2!", author_id=new_id(), status="delivered")
    [result] = desk.push(mutation)
    assert result["status"] == "applied"
    current = result["current"]["data"]
    # the server decided: queued, by the acting staff member (a client cannot claim another
    # author or a delivery state), outbound, with the text as written
    assert (current["status"], current["author_id"], current["direction"]) == ("queued", desk.staff_id, "outbound")
    assert current["body"] == "See you Thursday at 2!" and current["occurred_at"] == WHEN
    [again] = desk.push(mutation)  # the desktop lost the acknowledgement and pushes again
    assert again["status"] == "duplicate"
    worker.drain()
    worker.drain()
    [sent] = twilio.sent_to(AVA)
    assert sent["body"] == "See you Thursday at 2!" and sent["from"] == CLINIC_NUMBER
    [message] = table(db, glow, Message)
    assert (message.id, message.author_staff_id, message.provider_sid) == (mutation["entity_id"], desk.staff_id,
                                                                          sent["sid"])
    row = synced(desk, mutation["entity_id"])
    assert row["data"]["status"] == "submitted" and row["data"]["provider_message_id"] == sent["sid"]
    assert row["data"]["sent_at"] is not None


def test_a_repeated_insert_under_a_new_change_id_sends_nothing_more(
    db: Database, glow: ClinicRef, desk: Desk, twilio: TwilioStandin, worker: Worker,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    mutation = text(desk, ava, "Running 5 minutes late!")
    desk.push(mutation)
    [again] = desk.push({**mutation, "mutation_id": new_id()})  # the same outbox entry, re-made
    assert again["status"] == "duplicate"
    worker.drain()
    assert len(twilio.sent_to(AVA)) == 1
    assert len(table(db, glow, Message)) == 1


def test_a_send_without_consent_comes_back_refused_with_its_reason(
    db: Database, glow: ClinicRef, desk: Desk, twilio: TwilioStandin, worker: Worker,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA)  # no consent recorded
    [result] = desk.push(text(desk, ava, "Your deposit link: https://pay.example/x"))
    data = result["current"]["data"]
    assert data["status"] == "refused"
    assert data["status_reason"] == "This client has not agreed to appointment and service texts, so no text was sent."
    worker.drain()
    assert twilio.messages == []  # never reached Twilio


def test_marketing_needs_the_permission_and_the_consent(
    db: Database, glow: ClinicRef, desk: Desk, manager: Desk, twilio: TwilioStandin, worker: Worker,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms", "marketing_sms"))
    [by_desk] = desk.push(text(desk, ava, "20% off HydraFacials this week!", purpose="marketing"))
    assert by_desk["current"]["data"]["status"] == "refused"
    assert "Felix Park (front desk) is not allowed to send marketing texts" in by_desk["current"]["data"][
        "status_reason"]
    bea = make_patient(db, glow, phone="+14155550143", consents=consents("transactional_sms"))
    [no_consent] = manager.push(text(manager, bea, "20% off HydraFacials this week!", purpose="marketing"))
    assert no_consent["current"]["data"]["status_reason"] == (
        "This client has not agreed to marketing texts, so no text was sent.")
    [ok] = manager.push(text(manager, ava, "20% off HydraFacials this week!", purpose="marketing"))
    assert ok["current"]["data"]["status"] == "queued"
    assert ok["current"]["data"]["author_id"] == manager.staff_id


def test_delivery_states_reach_the_synced_row_and_never_go_back(
    db: Database, glow: ClinicRef, desk: Desk, twilio: TwilioStandin, worker: Worker,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    mutation = text(desk, ava, "Reminder: tomorrow at 10 AM.")
    desk.push(mutation)
    worker.drain()
    _, cursor = desk.pull_all()
    callbacks = list(twilio.callbacks)
    twilio.callbacks.reverse()  # "delivered" arrives before "sent"
    assert twilio.deliver_callbacks() == 2
    worker.drain()
    row = synced(desk, mutation["entity_id"])
    assert row["data"]["status"] == "delivered" and row["data"]["delivered_at"] is not None
    version = row["version"]
    # a late "sent" callback again (Twilio retries): the row does not move back, nothing new to pull
    twilio.callbacks.extend(callbacks[:1])
    twilio.deliver_callbacks()
    worker.drain()
    row = synced(desk, mutation["entity_id"])
    assert row["data"]["status"] == "delivered" and row["version"] == version
    later, _ = desk.pull_all(cursor)
    assert [c["data"]["status"] for c in later if c["entity"] == "message"] == ["delivered"]


def test_a_carrier_failure_reaches_the_synced_row_with_its_reason(
    db: Database, glow: ClinicRef, desk: Desk, twilio: TwilioStandin, worker: Worker,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    twilio.unreachable.add(AVA)
    mutation = text(desk, ava, "Your consult is confirmed.")
    desk.push(mutation)
    worker.drain()
    twilio.deliver_callbacks()
    worker.drain()
    data = synced(desk, mutation["entity_id"])["data"]
    assert (data["status"], data["error_code"]) == ("undelivered", "30003")
    assert "did not deliver" in data["status_reason"]


def test_a_permanent_twilio_error_reaches_the_synced_row(
    db: Database, glow: ClinicRef, desk: Desk, twilio: TwilioStandin, worker: Worker,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    twilio.opted_out.add(AVA)  # opted out with the carrier, which we did not know
    mutation = text(desk, ava, "See you soon!")
    desk.push(mutation)
    worker.drain()
    data = synced(desk, mutation["entity_id"])["data"]
    assert (data["status"], data["error_code"]) == ("failed", "21610")
    assert "opted out" in data["status_reason"]


def test_an_inbound_text_lands_as_a_message_row(
    db: Database, glow: ClinicRef, desk: Desk, server: TestClient, twilio: TwilioStandin,  # noqa: F811
    worker: Worker,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    params = twilio.inbound(from_=AVA, to=CLINIC_NUMBER, body="Can I move my appointment to Friday?")
    assert server.post("/webhooks/twilio/sms", data=params,
                       headers=twilio.sign(f"{PUBLIC}/webhooks/twilio/sms", params)).status_code == 200
    worker.drain()
    changes, _ = desk.pull_all()
    [row] = [c for c in changes if c["entity"] == "message"]
    data = row["data"]
    assert (data["patient_id"], data["direction"], data["status"], data["channel"]) == (ava, "inbound", "received",
                                                                                        "sms")
    assert data["body"] == "Can I move my appointment to Friday?" and data["author_id"] is None
    assert data["provider_message_id"] == params["MessageSid"]


def test_workstations_cannot_change_or_delete_a_message(
    db: Database, glow: ClinicRef, desk: Desk, worker: Worker,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    mutation = text(desk, ava, "Hello!")
    [created] = desk.push(mutation)
    version = created["current"]["version"]
    [edit] = desk.push(desk.m("message", "update", mutation["entity_id"], base_version=version, body="Goodbye"))
    [delete] = desk.push(desk.m("message", "delete", mutation["entity_id"], base_version=version))
    for result in (edit, delete):
        assert result["status"] == "rejected" and result["code"] == "immutable"
        assert "cannot be changed or deleted" in result["reason"]
    [message] = table(db, glow, Message)
    assert message.body == "Hello!"


@pytest.mark.parametrize(("fields", "code", "says"), [
    ({"body": "   "}, "bad_value", "needs some words"),
    ({"body": "x" * 1601}, "bad_value", "at most 1600 characters"),
    ({"patient_id": None}, "missing_fields", "needs the client"),
    ({"patient_id": "01900000-0000-7000-8000-0000000000ff"}, "not_found", "no longer exists"),
])
def test_a_message_that_cannot_be_sent_is_rejected_and_leaves_nothing(
    db: Database, glow: ClinicRef, desk: Desk, fields: dict[str, Any], code: str, says: str,
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    mutation = text(desk, ava, "Hello!")
    mutation["fields"].update(fields)
    [result] = desk.push(mutation)
    assert result["status"] == "rejected" and result["code"] == code and says in result["reason"]
    assert table(db, glow, Message) == [] and rows(db, glow, "message") == []
    assert [a for a in rows(db, glow, "activity") if a["type"].startswith("message.")] == []


def test_an_instagram_reply_from_a_clinic_without_meta_is_refused_with_a_reason(
    db: Database, glow: ClinicRef, desk: Desk, twilio: TwilioStandin, worker: Worker,  # noqa: F811
) -> None:
    ava = make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"), instagram_id="6019384756")
    [result] = desk.push(text(desk, ava, "Hi from the clinic", channel="instagram"))
    data = result["current"]["data"]
    assert data["status"] == "refused" and data["channel"] == "instagram"
    assert data["status_reason"].startswith("Instagram is not connected for this clinic")
    worker.drain()
    assert twilio.messages == []


def test_mms_media_comes_through_an_authenticated_endpoint(
    db: Database, world: World, glow: ClinicRef, desk: Desk, server: TestClient, twilio: TwilioStandin,  # noqa: F811
    worker: Worker,  # noqa: F811
) -> None:
    make_patient(db, glow, phone=AVA, consents=consents("transactional_sms"))
    photo = b"\xff\xd8\xff\xe0 a JPEG of the treated area"
    params = twilio.inbound(from_=AVA, to=CLINIC_NUMBER, body="Is this swelling normal?", media=[(photo, "image/jpeg")])
    server.post("/webhooks/twilio/sms", data=params, headers=twilio.sign(f"{PUBLIC}/webhooks/twilio/sms", params))
    worker.drain()
    changes, _ = desk.pull_all()
    [row] = [c for c in changes if c["entity"] == "message"]
    [media] = row["data"]["media"]
    assert media["content_type"] == "image/jpeg" and media["size"] == len(photo)
    url = f"/api/v1/messages/{row['entity_id']}/media/{media['media_id']}"
    got = server.get(url, headers=desk.headers())
    assert got.status_code == 200 and got.content == photo and got.headers["content-type"] == "image/jpeg"
    assert got.headers["cache-control"] == "no-store"
    assert server.get(url).status_code == 401  # no workstation credential
    assert server.get(url, headers=desk.device.headers()).status_code == 403  # no staff member
    other = world.clinic("other", "Other Spa")
    outsider = Desk(server, world.device(other), world.staff(other, Role.OWNER))
    assert server.get(url, headers=outsider.headers()).status_code == 404  # another clinic's media: not found
    assert server.get(f"/api/v1/messages/{row['entity_id']}/media/{new_id()}",
                      headers=desk.headers()).status_code == 404


def test_templates_must_follow_the_template_rules(db: Database, glow: ClinicRef, manager: Desk, desk: Desk) -> None:
    good = manager.m("message_template", "insert", name="Reminder", purpose="transactional",
                     body="Hi {{ first_name }}, see you {{ appointment_time }}.{% if deposit_link %} "
                          "Deposit: {{ deposit_link }}{% endif %}")
    bad = manager.m("message_template", "insert", name="Sneaky", body="{{ first_name.__class__ }}")
    [ok, refused] = manager.push(good, bad)
    assert ok["status"] == "applied"
    assert refused["status"] == "rejected" and refused["code"] == "bad_template"
    assert "cannot read attributes" in refused["reason"]
    [edit] = manager.push(manager.m("message_template", "update", good["entity_id"], base_version=1,
                                    body="{{ frist_name }}"))
    assert edit["status"] == "rejected" and "not a template variable" in edit["reason"]
    [by_desk] = desk.push(desk.m("message_template", "insert", name="Mine", body="Hi"))
    assert by_desk["status"] == "rejected" and by_desk["code"] == "forbidden"
    assert [t["name"] for t in rows(db, glow, "message_template")] == ["Reminder"]


def test_read_receipts_are_appended_by_anyone_who_reads_the_thread(db: Database, glow: ClinicRef, desk: Desk) -> None:
    ava = make_patient(db, glow, phone=AVA)
    receipt = desk.m("message_read", "append", patient_id=ava, up_to=WHEN, staff_id=desk.staff_id,
                     read_at=utc_text(datetime.now(UTC)))
    [result] = desk.push(receipt)
    assert result["status"] == "applied"
    assert [r["patient_id"] for r in rows(db, glow, "message_read")] == [ava]
