"""The webhook inbox (Meta's endpoint as the example): signature on the raw body before anything
is stored, one row per external id, processing exactly once across duplicates and crashes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.clock import FixedClock
from sync_server import tenancy
from sync_server.db import Database
from sync_server.jobs import service as jobs
from sync_server.jobs.models import DONE, Job
from sync_server.jobs.worker import JobContext, Worker
from sync_server.webhooks import service as inbox
from sync_server.webhooks.models import WebhookEvent
from tests.standins.signing import instagram_body, leadgen_body, meta_post, meta_signature

from .conftest import ClinicRef, World
from .integration_setup import APP_SECRET, VERIFY_TOKEN, connect_meta


@pytest.fixture
def glow(world: World, db: Database) -> ClinicRef:
    clinic = world.clinic("glow")
    connect_meta(db, clinic, page_id="1001", instagram_id="17841400000000001", page_token=None)
    return clinic


@pytest.fixture
def handled(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A stand-in processor for leadgen events that records what it handled."""
    seen: list[str] = []

    def apply(session: Any, ctx: JobContext, event: WebhookEvent, prepared: Any) -> str:
        seen.append(event.external_id)
        return "recorded"

    monkeypatch.setitem(inbox.PROCESSORS, ("meta", "leadgen"), inbox.Processor(lambda ctx, e: None, apply))
    yield seen


def events(db: Database, clinic: ClinicRef) -> list[WebhookEvent]:
    with db.transaction(write=False, app_role=True) as session:
        tenancy.enter_clinic(session, clinic.id)
        return list(session.execute(select(WebhookEvent).where(WebhookEvent.clinic_id == clinic.id)).scalars())


def queued(db: Database, clinic: ClinicRef) -> list[Job]:
    with db.transaction(write=False, app_role=True) as session:
        tenancy.enter_clinic(session, clinic.id)
        return list(session.execute(select(Job).where(Job.clinic_id == clinic.id)).scalars())


def post(client: TestClient, body: dict[str, Any], secret: str = APP_SECRET, **headers: str) -> Any:
    raw, signed = meta_post(secret, body)
    return client.post("/webhooks/meta", content=raw, headers={**signed, **headers})


LEAD = leadgen_body(page_id="1001", leadgen_id="9001", form_id="555", ad_id="777", adgroup_id="666")


def test_a_signed_event_is_stored_once_and_queued(client: TestClient, db: Database, glow: ClinicRef) -> None:
    response = post(client, LEAD)
    assert response.status_code == 200, response.text
    assert response.json() == {"stored": 1, "duplicates": 0}
    [event] = events(db, glow)
    assert (event.source, event.external_id, event.kind) == ("meta", "leadgen:9001", "leadgen")
    assert event.payload["form_id"] == "555" and event.payload["ad_id"] == "777"
    assert [j.dedupe_key for j in queued(db, glow)] == [f"webhook:{event.id}"]

    again = post(client, LEAD)  # Meta retries deliveries
    assert again.json() == {"stored": 0, "duplicates": 1}
    assert len(events(db, glow)) == 1 and len(queued(db, glow)) == 1


@pytest.mark.parametrize(("headers", "status"), [
    ({"X-Hub-Signature-256": ""}, 401),
    ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, 403),
    ({"X-Hub-Signature-256": meta_signature("another-app", b"{}")}, 403),
])
def test_a_missing_or_bad_signature_stores_nothing(client: TestClient, db: Database, glow: ClinicRef,
                                                   headers: dict[str, str], status: int) -> None:
    raw = json.dumps(LEAD).encode()
    response = client.post("/webhooks/meta", content=raw, headers={"Content-Type": "application/json", **headers})
    assert response.status_code == status
    assert events(db, glow) == [] and queued(db, glow) == []


def test_the_signature_covers_the_raw_bytes(client: TestClient, db: Database, glow: ClinicRef) -> None:
    raw, headers = meta_post(APP_SECRET, LEAD)
    tampered = raw.replace(b'"777"', b'"778"')
    assert client.post("/webhooks/meta", content=tampered, headers=headers).status_code == 403
    reformatted = json.dumps(LEAD, indent=2).encode()  # same JSON, other bytes
    assert client.post("/webhooks/meta", content=reformatted, headers=headers).status_code == 403
    assert events(db, glow) == []


def test_another_clinics_secret_cannot_store_into_this_clinic(client: TestClient, db: Database, world: World,
                                                              glow: ClinicRef) -> None:
    other = world.clinic("other")
    connect_meta(db, other, page_id="2002", instagram_id=None, app_secret="other-secret", page_token=None)
    assert post(client, LEAD, secret="other-secret").status_code == 403
    unknown_page = leadgen_body(page_id="3003", leadgen_id="1", form_id="1")
    assert post(client, unknown_page).status_code == 403
    assert events(db, glow) == [] and events(db, other) == []


def test_instagram_echoes_are_not_kept(client: TestClient, db: Database, glow: ClinicRef) -> None:
    echo = instagram_body(account_id="17841400000000001", sender_id="555", mid="m-echo", text="hi", is_echo=True)
    dm = instagram_body(account_id="17841400000000001", sender_id="555", mid="m-1", text="Do you do lip filler?")
    assert post(client, echo).json() == {"stored": 0, "duplicates": 0}
    assert post(client, dm).json() == {"stored": 1, "duplicates": 0}
    [event] = events(db, glow)
    assert (event.external_id, event.payload["text"], event.payload["sender_id"]) == ("ig:m-1", "Do you do lip filler?", "555")


def test_the_handshake_answers_the_challenge_for_a_known_token(client: TestClient, glow: ClinicRef) -> None:
    ok = client.get("/webhooks/meta", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                              "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.text == "1158201444"
    bad = client.get("/webhooks/meta", params={"hub.mode": "subscribe", "hub.verify_token": "guess",
                                               "hub.challenge": "1"})
    assert bad.status_code == 403


def test_a_worker_killed_after_storing_loses_nothing(client: TestClient, db: Database, glow: ClinicRef,
                                                      handled: list[str]) -> None:
    assert post(client, LEAD).status_code == 200  # stored; the worker then dies before processing
    clock = FixedClock(datetime.now(UTC))
    dead = Worker(db, clock=clock, lease=timedelta(minutes=5))
    assert len(dead.claim()) == 1  # it had even claimed the job when it was killed
    assert handled == []
    clock.advance(timedelta(minutes=6))
    restarted = Worker(db, clock=clock)
    assert restarted.drain() == 1
    assert handled == ["leadgen:9001"]
    [event] = events(db, glow)
    assert event.processed_at is not None and event.outcome == "recorded"
    assert restarted.drain() == 0
    assert {j.status for j in queued(db, glow)} == {DONE}


def test_an_event_is_processed_once_even_with_two_jobs(client: TestClient, db: Database, glow: ClinicRef,
                                                       handled: list[str]) -> None:
    post(client, LEAD)
    [event] = events(db, glow)
    with db.transaction(app_role=True) as session:  # a second job for the same event (an operator re-queue)
        tenancy.enter_clinic(session, glow.id)
        jobs.enqueue(session, clinic_id=glow.id, kind=inbox.PROCESS_JOB, payload={"event_id": event.id},
                     dedupe_key="requeue", now=datetime.now(UTC))
    assert Worker(db).drain() == 2
    assert handled == ["leadgen:9001"]
