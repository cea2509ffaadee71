"""Replying by Instagram DM: a workstation pushes a ``channel: instagram`` message and the server
sends it once through the real facebook_business SDK against the Graph stand-in, within Meta's
24-hour window; Meta's refusals (window closed, unknown account, revoked token) come back on the
message with a reason staff can read; a Graph outage is retried; a send whose answer was lost is
found in the conversation, not repeated; the echo of our own send adds nothing to the thread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import update

from core.clock import FixedClock
from core.permissions import Role
from sync_server import tenancy
from sync_server.db import Database
from sync_server.integrations.meta_graph import GraphClient
from sync_server.jobs.worker import Worker
from sync_server.messaging import instagram
from sync_server.messaging.models import Message
from sync_server.webhooks.models import WebhookEvent
from tests.standins.meta_graph import MetaGraphStandin
from tests.standins.signing import instagram_body

from .conftest import ClinicRef, World
from .integration_setup import connect_meta
from .outside import graph, make_patient, outside, rows, server, table, worker  # noqa: F401 - fixtures
from .sync_helpers import Desk

MAYA = "6019384756"  # her Instagram-scoped id, as Meta gives it to the clinic's account
WHEN = "2026-03-05T18:00:00.000000Z"


@pytest.fixture
def glow(world: World, db: Database, graph: MetaGraphStandin) -> ClinicRef:  # noqa: F811
    clinic = world.clinic("glow", "Glow Med Spa")
    connect_meta(db, clinic, page_id=graph.page_id, instagram_id=graph.instagram_id, page_token=graph.page_token)
    return clinic


@pytest.fixture
def desk(world: World, glow: ClinicRef, server: TestClient) -> Desk:  # noqa: F811
    return Desk(server, world.device(glow), world.staff(glow, Role.FRONT_DESK, "Felix Park"))


@pytest.fixture
def dm_worker(worker: Worker) -> Worker:  # noqa: F811
    worker.handlers.pop("meta.sweep", None)  # the recurring lead-form sweep is tested on its own
    return worker


def dm_in(graph: MetaGraphStandin, server: TestClient, text: str, *, sender: str = MAYA) -> None:  # noqa: F811
    """Maya writes to the clinic's Instagram account (Meta signs and posts the webhook)."""
    body = graph.dm_webhook(sender_id=sender, mid=f"m_{graph.new_id()}", text=text)
    assert graph.deliver("", body, client=server).status_code == 200


def maya(db: Database, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient,  # noqa: F811
         worker: Worker) -> str:  # noqa: F811
    """Maya DMs the clinic: she becomes a client with her Instagram id; her record's id."""
    graph.add_profile(MAYA, username="maya.glows", name="Maya Reyes")
    dm_in(graph, server, "Hi! How much is lip filler?")
    worker.drain()
    [patient] = [p for p in rows(db, glow, "patient") if p["instagram_id"] == MAYA]
    return str(patient["id"])


def reply(desk: Desk, patient_id: str, body: str, **fields: Any) -> dict[str, Any]:
    return desk.m("message", "insert", patient_id=patient_id, body=body, occurred_at=WHEN, channel="instagram",
                  **fields)


def outbound(db: Database, glow: ClinicRef) -> list[Message]:
    return [m for m in table(db, glow, Message) if m.direction == "outbound"]


def synced(db: Database, glow: ClinicRef, message_id: str) -> dict[str, Any]:
    [row] = [r for r in rows(db, glow, "message") if r["id"] == message_id]
    return row


def test_a_dm_reply_is_sent_once_through_graph_and_its_echo_adds_nothing(
    db: Database, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient, desk: Desk,  # noqa: F811
    dm_worker: Worker,
) -> None:
    client = maya(db, glow, graph, server, dm_worker)  # a DM lead: no SMS consent at all, none needed here
    mutation = reply(desk, client, "Hi Maya! Lip filler starts at $650 per syringe. Want a free consult?")
    [result] = desk.push(mutation)
    data = result["current"]["data"]
    assert (data["status"], data["channel"], data["author_id"]) == ("queued", "instagram", desk.staff_id)
    [again] = desk.push(mutation)  # the acknowledgement was lost: pushed again
    assert again["status"] == "duplicate"
    dm_worker.drain()
    [sent] = graph.dms_to(MAYA)
    assert sent["text"] == "Hi Maya! Lip filler starts at $650 per syringe. Want a free consult?"
    assert sent["sender"] == graph.page_id  # POST /{page-id}/messages under the page token
    [message] = outbound(db, glow)
    assert (message.status, message.provider_sid, message.to_addr) == ("sent", sent["message_id"], MAYA)
    row = synced(db, glow, mutation["entity_id"])
    assert row["status"] == "sent" and row["provider_message_id"] == sent["message_id"] and row["sent_at"]
    [lead] = rows(db, glow, "lead")
    assert lead["source"] == "instagram_dm" and lead["first_reply_at"] is not None  # the reply stops its timer
    # Meta echoes our own send back through the webhook: it is not a second message
    assert graph.deliver_echoes(client=server) == 1
    dm_worker.drain()
    assert len(table(db, glow, Message)) == 2  # her DM and our reply
    assert [e for e in table(db, glow, WebhookEvent) if "echo" in str(e.payload)] == []
    assert len(graph.dms_to(MAYA)) == 1


def test_the_server_refuses_a_dm_outside_the_24_hour_window_before_it_reaches_meta(
    db: Database, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient, desk: Desk,  # noqa: F811
    dm_worker: Worker,
) -> None:
    with time_machine.travel(datetime.now(UTC) - timedelta(hours=25)):  # she wrote yesterday
        client = maya(db, glow, graph, server, dm_worker)
    [result] = desk.push(reply(desk, client, "Sorry for the late answer!"))
    data = result["current"]["data"]
    assert data["status"] == "refused" and data["status_reason"] == instagram.WINDOW_CLOSED
    assert "within 24 hours" in data["status_reason"]
    dm_worker.drain()
    assert graph.sent_dms == []


def test_meta_closing_the_window_fails_the_message_with_its_reason(
    db: Database, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient, desk: Desk,  # noqa: F811
    dm_worker: Worker,
) -> None:
    client = maya(db, glow, graph, server, dm_worker)
    # her message reached the clinic late (Meta retried the webhook): by Meta's clock it is 25 h old
    graph.last_inbound[MAYA] = datetime.now(UTC) - timedelta(hours=25)
    mutation = reply(desk, client, "Thanks for your message!")
    [result] = desk.push(mutation)
    assert result["current"]["data"]["status"] == "queued"  # the server saw a recent DM
    dm_worker.drain()
    assert graph.sent_dms == []
    row = synced(db, glow, mutation["entity_id"])
    assert (row["status"], row["error_code"]) == ("failed", "10/2534022")
    assert row["status_reason"].startswith("Instagram only allows replies within 24 hours")
    [failed] = [a for a in rows(db, glow, "activity") if a["type"] == "message.failed"]
    assert failed["payload"]["channel"] == "instagram"


def test_a_graph_outage_is_retried_with_backoff_and_sends_once(
    db: Database, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient, desk: Desk,  # noqa: F811
    dm_worker: Worker,
) -> None:
    client = maya(db, glow, graph, server, dm_worker)
    graph.fail_next.append((503, 2, None))  # "Service temporarily unavailable"
    mutation = reply(desk, client, "We have an opening Friday at 3 PM.")
    desk.push(mutation)
    clock = FixedClock(datetime.now(UTC) + timedelta(seconds=1))
    dm_worker.clock = clock
    dm_worker.drain()
    [message] = outbound(db, glow)
    assert message.status == "sending" and graph.sent_dms == []
    assert synced(db, glow, message.id)["status"] == "sending"  # the desktop sees it trying
    clock.advance(timedelta(minutes=2))  # past the backoff
    dm_worker.drain()
    assert len(graph.dms_to(MAYA)) == 1
    assert outbound(db, glow)[0].status == "sent"


def test_a_dm_whose_answer_was_lost_is_found_in_the_conversation_not_sent_again(
    db: Database, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient, desk: Desk,  # noqa: F811
    dm_worker: Worker,
) -> None:
    client = maya(db, glow, graph, server, dm_worker)
    # an earlier reply with the same words, already recorded: it must not be taken for this one
    desk.push(reply(desk, client, "See you then!"))
    dm_worker.drain()
    [earlier] = outbound(db, glow)
    mutation = reply(desk, client, "See you then!")
    desk.push(mutation)
    # The worker recorded its attempt, Graph accepted the DM, and the worker died before recording that.
    started = datetime.now(UTC)
    with db.transaction(app_role=True) as session:
        tenancy.enter_clinic(session, glow.id)
        session.execute(update(Message).where(Message.id == mutation["entity_id"]).values(
            status="sending", attempt_started_at=started))
    with GraphClient(graph.url, access_token=graph.page_token, app_secret=graph.app_secret) as sdk:
        accepted = sdk.send_message(graph.page_id, recipient_id=MAYA, text="See you then!")
    dm_worker.drain()
    assert len(graph.dms_to(MAYA)) == 2  # the earlier reply and this one: nothing sent twice
    mine = next(m for m in outbound(db, glow) if m.id == mutation["entity_id"])
    assert (mine.status, mine.provider_sid) == ("sent", accepted.message_id)
    assert mine.provider_sid != earlier.provider_sid


def test_an_interrupted_send_that_cannot_be_checked_is_failed_not_repeated(
    db: Database, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient, desk: Desk,  # noqa: F811
    dm_worker: Worker,
) -> None:
    client = maya(db, glow, graph, server, dm_worker)
    mutation = reply(desk, client, "Your consult is booked for Friday.")
    desk.push(mutation)
    with db.transaction(app_role=True) as session:  # the worker died after starting its attempt
        tenancy.enter_clinic(session, glow.id)
        session.execute(update(Message).where(Message.id == mutation["entity_id"]).values(
            status="sending", attempt_started_at=datetime.now(UTC)))
    graph.fail_next.append((400, 10, None))  # Meta will not list the conversation to this token
    dm_worker.drain()
    row = synced(db, glow, mutation["entity_id"])
    assert row["status"] == "failed" and row["status_reason"] == instagram.UNCERTAIN
    assert graph.sent_dms == []  # not sent (again) on a guess


def test_scripts_can_reply_by_dm_through_the_messages_api(
    db: Database, world: World, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient,  # noqa: F811
    dm_worker: Worker,
) -> None:
    client = maya(db, glow, graph, server, dm_worker)
    staff = world.staff(glow, Role.FRONT_DESK, "Fran Desk")
    answer = server.post("/api/v1/messages", json={"patient_id": client, "body": "Thanks!", "channel": "instagram"},
                         headers=world.device(glow).headers(staff))
    assert answer.status_code == 201 and answer.json()["status"] == "queued" and answer.json()["channel"] == "instagram"
    dm_worker.drain()
    assert [m["text"] for m in graph.dms_to(MAYA)] == ["Thanks!"]


@pytest.mark.parametrize(("setup", "reason", "code"), [
    ("revoked_token", "Meta refused the clinic's page token", "190"),
    ("unknown_account", "Instagram cannot find this client's account", "100/2534014"),
])
def test_permanent_graph_errors_fail_the_message_with_a_reason(
    db: Database, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient, desk: Desk,  # noqa: F811
    dm_worker: Worker, setup: str, reason: str, code: str,
) -> None:
    client = maya(db, glow, graph, server, dm_worker)
    if setup == "revoked_token":
        graph.page_token = "EAAB-a-new-token-the-clinic-has-not-set"
    else:  # a DM Meta delivered to us from an account it no longer knows
        graph.add_profile("7770001", username="gone.account", name="Gone Account")
        body = instagram_body(account_id=graph.instagram_id, sender_id="7770001", mid="m_gone", text="hello?")
        assert graph.deliver("", body, client=server).status_code == 200
        dm_worker.drain()
        client = next(p["id"] for p in rows(db, glow, "patient") if p["instagram_id"] == "7770001")
        graph.profiles.pop("7770001", None)
    mutation = reply(desk, client, "Happy to help!")
    desk.push(mutation)
    dm_worker.drain()
    row = synced(db, glow, mutation["entity_id"])
    assert (row["status"], row["error_code"]) == ("failed", code)
    assert row["status_reason"].startswith(reason)
    assert graph.sent_dms == []


def test_dms_need_instagram_connected_and_the_clients_instagram_account(
    db: Database, world: World, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient,  # noqa: F811
    desk: Desk, dm_worker: Worker,
) -> None:
    ava = make_patient(db, glow, phone="+14155550142", instagram_handle="ava.stone")  # a handle typed in, no id
    [no_id] = desk.push(reply(desk, ava, "Hi Ava!"))
    assert no_id["current"]["data"]["status_reason"] == instagram.NO_ACCOUNT
    other = world.clinic("other", "Other Spa")  # Meta connected for webhooks only: no page token
    connect_meta(db, other, page_id="2002", instagram_id="17841400000000002", page_token=None)
    outsider = Desk(server, world.device(other), world.staff(other, Role.OWNER))
    bea = make_patient(db, other, instagram_id="5550002")
    [not_connected] = outsider.push(reply(outsider, bea, "Hi Bea!"))
    assert not_connected["current"]["data"]["status_reason"] == instagram.NOT_CONNECTED
    [too_long] = desk.push(reply(desk, maya(db, glow, graph, server, dm_worker), "x" * 1001))
    assert "at most 1000 characters" in too_long["current"]["data"]["status_reason"]
    dm_worker.drain()
    assert graph.sent_dms == []
