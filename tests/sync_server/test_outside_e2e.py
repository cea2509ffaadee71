"""End to end through real processes: ``serve`` and ``worker`` as the operator runs them, the
Graph and Twilio stand-ins on their own ports, an enrolled desktop over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from core.permissions import Role
from sync_server.db import Database
from sync_server.messaging.models import Message
from sync_server.settings import Settings
from sync_server.webhooks.models import WebhookEvent
from tests.standins.meta_graph import MetaGraphStandin
from tests.standins.signing import leadgen_body
from tests.standins.twilio_api import TwilioStandin

from .conftest import ClinicRef, World
from .integration_setup import connect_meta, connect_twilio
from .outside import graph, rows, table, twilio  # noqa: F401 - fixtures
from .sync_helpers import Desk
from .test_serve import REPO, free_port

CLINIC_NUMBER = "+14155550100"


def wait(condition: Callable[[], Any], what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Processes:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.running: list[subprocess.Popen[str]] = []

    def start(self, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen([sys.executable, "-m", "sync_server", *args], cwd=REPO, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.running.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.running:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def processes(settings: Settings, graph: MetaGraphStandin, twilio: TwilioStandin) -> Iterator[Processes]:  # noqa: F811
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GLOWDESK_SERVER_HOME": str(settings.server_home),
        "GLOWDESK_DATABASE_URL": settings.database_url,
        "GLOWDESK_SECRET_KEY": settings.ensure_secret_key(),
        "GLOWDESK_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "GLOWDESK_META_GRAPH_URL": graph.url,
        "GLOWDESK_TWILIO_API_URL": twilio.url,
        "GLOWDESK_PORT_FOR_TEST": str(port),
    }
    procs = Processes(env)
    yield procs
    procs.stop_all()


def test_webhooks_reach_the_desktop_through_real_processes(
    processes: Processes, db: Database, world: World, graph: MetaGraphStandin,  # noqa: F811
    twilio: TwilioStandin,  # noqa: F811
) -> None:
    clinic: ClinicRef = world.clinic("glow", "Glow Med Spa")
    connect_meta(db, clinic, page_id=graph.page_id, instagram_id=graph.instagram_id, page_token=graph.page_token)
    connect_twilio(db, clinic, from_number=CLINIC_NUMBER, account_sid=twilio.account_sid, auth_token=twilio.auth_token)
    base = processes.env["GLOWDESK_PUBLIC_URL"]
    port = processes.env["GLOWDESK_PORT_FOR_TEST"]
    server = processes.start("serve", "--port", port)  # no job worker yet: events wait in the inbox
    wait(lambda: _up(base, server), "the server")

    lead = graph.add_lead(fields={"full_name": "Nora Kim", "phone_number": "(415) 555-0161",
                                  "email": "nora@example.com"}, ad_id="120210001", adset_id="2", campaign_id="3")
    graph.add_profile("7733", username="nora.k", name="Nora Kim")
    assert graph.deliver(base, graph.leadgen_webhook(lead)).status_code == 200
    assert graph.deliver(base, graph.dm_webhook(sender_id="7733", mid="dm-1", text="Hi from IG")).status_code == 200
    forged = leadgen_body(page_id=graph.page_id, leadgen_id="31337", form_id="1")
    assert httpx.post(f"{base}/webhooks/meta", json=forged,
                      headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}).status_code == 403
    assert len(table(db, clinic, WebhookEvent)) == 2 and rows(db, clinic, "lead") == []

    # A worker is started and killed outright at once (it may have claimed work); a second one
    # takes over after the first one's lease; each event is processed exactly once.
    killed = processes.start("worker", "--poll-interval", "0.1")
    time.sleep(0.3)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    with db.transaction(app_role=True) as session:  # shorten a dead worker's lease instead of waiting 5 minutes
        from sqlalchemy import update

        from sync_server import tenancy
        from sync_server.jobs.models import Job
        tenancy.enter_clinic(session, clinic.id)
        session.execute(update(Job).where(Job.clinic_id == clinic.id, Job.status == "running")
                        .values(locked_until=Job.run_after))
    worker = processes.start("worker", "--poll-interval", "0.1")
    wait(lambda: len(rows(db, clinic, "lead")) == 2, "both leads")
    wait(lambda: all(e.processed_at for e in table(db, clinic, WebhookEvent)), "the events to be processed")

    device = world.device(clinic)
    desk = Desk(httpx.Client(base_url=base, timeout=10), device, world.staff(clinic, Role.FRONT_DESK))
    changes = desk.pull()["changes"]
    leads = {c["data"]["source"]: c["data"] for c in changes if c["entity"] == "lead"}
    patients = {c["entity_id"]: c["data"] for c in changes if c["entity"] == "patient"}
    assert leads["meta_lead_ad"]["ad_id"] == "120210001"
    assert patients[leads["meta_lead_ad"]["patient_id"]]["phone"] == "+14155550161"
    dm = next(c["data"] for c in changes if c["entity"] == "activity" and c["data"]["type"] == "message.received")
    assert dm["payload"]["username"] == "nora.k" and dm["payload"]["body"] == "Hi from IG"
    assert len([m for m in table(db, clinic, Message) if m.direction == "inbound"]) == 1
    wait(lambda: twilio.sent_to("+14155550161"), "the acknowledgement to reach Twilio")

    # STOP from Nora's phone: the next text to her is refused before Twilio.
    params = twilio.inbound(from_="+14155550161", to=CLINIC_NUMBER, body="STOP")
    url = f"{base}/webhooks/twilio/sms"
    assert httpx.post(url, data=params, headers=twilio.sign(url, params)).status_code == 200
    nora = leads["meta_lead_ad"]["patient_id"]
    wait(lambda: not next(p for p in rows(db, clinic, "patient") if p["id"] == nora)["consents"]["transactional_sms"]
         ["granted"], "the opt-out")
    sent = desk.client.post("/api/v1/messages", json={"patient_id": nora, "body": "Still interested?"},
                            headers=desk.headers())
    assert sent.status_code == 201 and sent.json()["status"] == "refused"
    assert len(twilio.sent_to("+14155550161")) == 1  # only the acknowledgement, before STOP

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=10) == 0
    server.send_signal(signal.SIGINT)
    server.wait(timeout=10)


def _up(base: str, server: subprocess.Popen[str]) -> bool:
    assert server.poll() is None, server.stdout.read() if server.stdout else ""
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_with_worker_puts_a_lead_on_the_live_channel_within_a_second(
    processes: Processes, db: Database, world: World, graph: MetaGraphStandin,  # noqa: F811
) -> None:
    from .sync_helpers import VERSION_HEADERS
    from .test_sync_live import events, next_changes

    clinic: ClinicRef = world.clinic("glow", "Glow Med Spa")
    connect_meta(db, clinic, page_id=graph.page_id, instagram_id=None, page_token=graph.page_token)
    base = processes.env["GLOWDESK_PUBLIC_URL"]
    server = processes.start("serve", "--port", processes.env["GLOWDESK_PORT_FOR_TEST"], "--with-worker")
    wait(lambda: _up(base, server), "the server")
    device = world.device(clinic)
    wait(lambda: not _pending(db, clinic), "the first sweep")
    with httpx.Client(base_url=base, timeout=10) as client, client.stream(
        "GET", "/api/v1/sync/live", headers={**device.headers(), **VERSION_HEADERS}
    ) as stream:
        received = events(stream)
        start_seq = next_changes(received)["data"]["up_to_seq"]
        started = time.monotonic()
        lead = graph.add_lead(fields={"full_name": "Ivy Lane", "phone_number": "(415) 555-0170"}, ad_id="77")
        assert graph.deliver(base, graph.leadgen_webhook(lead)).status_code == 200
        seen = next_changes(received)
        elapsed = time.monotonic() - started
    assert seen["data"]["up_to_seq"] > start_seq and elapsed < 1.0, elapsed
    desk = Desk(httpx.Client(base_url=base, timeout=10), device, world.staff(clinic, Role.FRONT_DESK))
    lead_rows = [c["data"] for c in desk.pull(start_seq)["changes"] if c["entity"] == "lead"]
    assert [r["ad_id"] for r in lead_rows] == ["77"]
    server.send_signal(signal.SIGTERM)  # uvicorn shuts down gracefully, the worker thread with it,
    assert server.wait(timeout=15) in (0, -signal.SIGTERM)  # then re-raises the signal it caught


def _pending(db: Database, clinic: ClinicRef) -> list[Any]:
    """Jobs due now (the recurring sweep's next run, 15 minutes away, is not)."""
    from sync_server.jobs.models import Job

    return [j for j in table(db, clinic, Job) if j.status == "running"
            or (j.status == "queued" and j.dedupe_key == "meta.sweep@first")]
