"""Meta lead ads and Instagram DMs end to end on the server: a signed webhook, the real
facebook_business SDK against the Graph stand-in, one record per person, the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from core.permissions import Role
from sync_server.db import Database
from sync_server.integrations import sealing
from sync_server.jobs.models import FAILED, Job
from sync_server.jobs.worker import Worker
from sync_server.messaging.models import Message, MessageMedia
from sync_server.messaging.service import read_media
from sync_server.patients.models import MergeReview
from sync_server.settings import Settings
from sync_server.webhooks.models import WebhookEvent
from tests.standins.meta_graph import MetaGraphStandin

from .conftest import SECRET, ClinicRef, World
from .integration_setup import connect_meta
from .outside import graph, outside, rows, server, table, worker  # noqa: F401 - fixtures
from .sync_helpers import Desk

JANE = {"full_name": "Jane Doe", "phone_number": "(415) 555-0134", "email": "Jane.Doe+ads@Gmail.com",
        "which_treatment_are_you_interested_in?": "Lip filler", "best_time_to_call": "evenings"}


@pytest.fixture
def glow(world: World, db: Database, graph: MetaGraphStandin) -> ClinicRef:  # noqa: F811
    clinic = world.clinic("glow")
    connect_meta(db, clinic, page_id=graph.page_id, instagram_id=graph.instagram_id, page_token=graph.page_token)
    return clinic


def deliver(graph: MetaGraphStandin, server: TestClient, body: dict) -> None:  # noqa: F811
    response = graph.deliver("", body, client=server)
    assert response.status_code == 200, response.text


def run_webhook_jobs(worker: Worker) -> None:  # noqa: F811
    """Run the jobs due now, except the recurring sweep (tested on its own)."""
    worker.handlers.pop("meta.sweep", None)
    worker.drain()


def test_a_lead_ad_becomes_a_client_a_lead_and_a_timeline_entry(
    db: Database, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient, worker: Worker,  # noqa: F811
) -> None:
    lead = graph.add_lead(fields=JANE, ad_id="120210001", adset_id="120210002", campaign_id="120210003")
    deliver(graph, server, graph.leadgen_webhook(lead))
    run_webhook_jobs(worker)
    [patient] = rows(db, glow, "patient")
    assert (patient["first_name"], patient["last_name"]) == ("Jane", "Doe")
    assert patient["phone"] == "+14155550134"
    assert patient["email"] == "jane.doe+ads@gmail.com" and patient["email_key"] == "janedoe@gmail.com"
    assert patient["consents"]["transactional_sms"]["granted"] is True
    [row] = rows(db, glow, "lead")
    assert row["source"] == "meta_lead_ad" and row["status"] == "new" and row["patient_id"] == patient["id"]
    assert (row["ad_id"], row["adset_id"], row["campaign_id"], row["form_id"]) == (
        "120210001", "120210002", "120210003", lead["form_id"])
    assert row["external_id"] == lead["id"] and row["service_interest"] == "Lip filler"
    assert "best time to call: evenings" in row["message"]
    assert patient["first_touch"]["lead_id"] == row["id"] and patient["first_touch"]["ad_id"] == "120210001"
    [entry] = [a for a in rows(db, glow, "activity") if a["type"] == "lead.received"]
    assert entry["lead_id"] == row["id"] and entry["payload"]["organic"] is False
    assert graph.lookups(lead["id"]) == 1


def test_desktops_receive_the_lead_through_pull(
    db: Database, world: World, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient,  # noqa: F811
    worker: Worker,  # noqa: F811
) -> None:
    desk = Desk(server, world.device(glow), world.staff(glow, Role.FRONT_DESK))
    before = desk.pull()["next_cursor"]
    deliver(graph, server, graph.leadgen_webhook(graph.add_lead(fields=JANE, ad_id="120210001")))
    run_webhook_jobs(worker)
    changes = desk.pull(before)["changes"]
    assert {c["entity"] for c in changes} >= {"patient", "lead", "activity"}
    lead = next(c for c in changes if c["entity"] == "lead")
    assert lead["data"]["ad_id"] == "120210001"


def test_a_lead_without_an_ad_is_organic(
    db: Database, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient, worker: Worker,  # noqa: F811
) -> None:
    deliver(graph, server, graph.leadgen_webhook(graph.add_lead(fields=JANE)))
    run_webhook_jobs(worker)
    [lead] = rows(db, glow, "lead")
    assert lead["ad_id"] is None and lead["campaign_id"] is None and lead["form_id"]
    [entry] = [a for a in rows(db, glow, "activity") if a["type"] == "lead.received"]
    assert entry["payload"]["organic"] is True


@pytest.mark.parametrize(("fields", "how"), [
    ({"full_name": "Jane Doe", "phone_number": "+1 415 555 0134"}, "phone"),
    ({"full_name": "J Doe", "email": "janedoe@gmail.com"}, "email"),
])
def test_a_returning_person_joins_their_record(
    db: Database, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient, worker: Worker,  # noqa: F811
    fields: dict[str, str], how: str,
) -> None:
    deliver(graph, server, graph.leadgen_webhook(graph.add_lead(fields=JANE, ad_id="1")))
    deliver(graph, server, graph.leadgen_webhook(graph.add_lead(fields=fields, ad_id="2")))
    run_webhook_jobs(worker)
    [patient] = rows(db, glow, "patient")
    assert [lead["patient_id"] for lead in rows(db, glow, "lead")] == [patient["id"]] * 2
    assert table(db, glow, MergeReview) == []


def test_same_name_other_phone_goes_to_a_merge_review(
    db: Database, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient, worker: Worker,  # noqa: F811
) -> None:
    deliver(graph, server, graph.leadgen_webhook(graph.add_lead(fields=JANE, ad_id="1")))
    run_webhook_jobs(worker)
    other = {"full_name": "Jane Doe", "phone_number": "(650) 555-0199", "email": "jd@example.com"}
    deliver(graph, server, graph.leadgen_webhook(graph.add_lead(fields=other, ad_id="2")))
    run_webhook_jobs(worker)
    first, second = rows(db, glow, "patient")  # never merged silently
    [review] = table(db, glow, MergeReview)
    assert (review.patient_id, review.candidate_id, review.status) == (second["id"], first["id"], "open")
    flagged = [a for a in rows(db, glow, "activity") if a["type"] == "patient.merge_review"]
    assert {a["patient_id"] for a in flagged} == {first["id"], second["id"]}


def test_a_graph_outage_is_retried_and_a_deleted_lead_fails_for_good(
    db: Database, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient, worker: Worker,  # noqa: F811
) -> None:
    from core.clock import FixedClock

    worker.handlers.pop("meta.sweep", None)
    lead = graph.add_lead(fields=JANE, ad_id="1")
    graph.fail_next.append((500, 2, None))  # "temporary issue", retry later
    deliver(graph, server, graph.leadgen_webhook(lead))
    clock = FixedClock(worker.clock.now() + timedelta(seconds=1))
    worker.clock = clock
    worker.drain()
    assert rows(db, glow, "lead") == []
    clock.advance(timedelta(minutes=5))
    worker.drain()
    assert len(rows(db, glow, "lead")) == 1

    gone = graph.add_lead(fields=JANE, ad_id="1")
    del graph.leads[gone["id"]]  # deleted before we fetched it: Graph answers 100/33
    deliver(graph, server, graph.leadgen_webhook(gone))
    clock.set(worker.clock.now() + timedelta(hours=1))
    worker.drain()
    failed = [j for j in table(db, glow, Job) if j.status == FAILED and j.kind == "webhook.process"]
    assert len(failed) == 1 and "does not exist" in (failed[0].last_error or "")
    event = next(e for e in table(db, glow, WebhookEvent) if e.external_id == f"leadgen:{gone['id']}")
    assert event.processed_at is None  # kept, visible, re-playable


def test_the_sweep_finds_a_lead_whose_webhook_never_came(
    db: Database, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient, worker: Worker,  # noqa: F811
) -> None:
    graph.page_size = 2  # make the SDK follow Graph's paging
    missed = [graph.add_lead(fields={**JANE, "phone_number": f"(415) 555-01{n:02d}", "email": f"p{n}@x.com",
                                     "full_name": f"Person {n}"}, ad_id="9") for n in range(5)]
    assert worker.drain() >= 1  # the recurring sweep queued by connect_meta, then the leads it found
    assert sorted(lead["external_id"] for lead in rows(db, glow, "lead")) == sorted(m["id"] for m in missed)
    deliver(graph, server, graph.leadgen_webhook(missed[0]))  # the late webhook changes nothing
    run_webhook_jobs(worker)
    assert len(rows(db, glow, "lead")) == 5
    sweeps = [j for j in table(db, glow, Job) if j.kind == "meta.sweep"]
    assert len(sweeps) == 2 and sorted(j.status for j in sweeps) == ["done", "queued"]  # the next one is planned


def test_an_instagram_dm_lands_on_the_record_with_the_username(
    db: Database, outside: Settings, glow: ClinicRef, graph: MetaGraphStandin, server: TestClient,  # noqa: F811
    worker: Worker,  # noqa: F811
) -> None:
    graph.add_profile("9911", username="jane.glows", name="Jane Doe")
    photo = graph.add_file(b"\x89PNG fake image bytes", "image/png")
    deliver(graph, server, graph.dm_webhook(sender_id="9911", mid="m1", text="Hi! Price for lip filler?"))
    deliver(graph, server, graph.dm_webhook(sender_id="9911", mid="m2", attachments=[
        {"type": "image", "payload": {"url": photo}}]))
    deliver(graph, server, graph.dm_webhook(sender_id="9911", mid="m3", text="sent by us", is_echo=True))
    run_webhook_jobs(worker)
    [patient] = rows(db, glow, "patient")
    assert (patient["instagram_id"], patient["instagram_handle"], patient["first_name"]) == ("9911", "jane.glows", "Jane")
    [lead] = rows(db, glow, "lead")
    assert lead["source"] == "instagram_dm" and lead["message"] == "Hi! Price for lip filler?"
    assert graph.lookups("9911") == 1  # the username is looked up once
    messages = sorted(table(db, glow, Message), key=lambda m: m.provider_sid or "")
    assert [(m.channel, m.direction, m.body, m.patient_id) for m in messages] == [
        ("instagram", "inbound", "Hi! Price for lip filler?", patient["id"]),
        ("instagram", "inbound", "", patient["id"]),
    ]
    [media] = table(db, glow, MessageMedia)
    assert media.content_type == "image/png" and media.message_id == messages[1].id
    stored = (outside.server_home / media.path).read_bytes()
    assert b"PNG" not in stored  # sealed at rest
    assert read_media(outside.server_home, SECRET, media.path) == b"\x89PNG fake image bytes"
    received = [a for a in rows(db, glow, "activity") if a["type"] == "message.received"]
    assert [a["payload"]["username"] for a in received] == ["jane.glows", "jane.glows"]
    assert sealing  # (imported for read_media's scheme)
