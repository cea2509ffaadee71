"""End to end through a real server process (``serve --with-worker``) and the Graph stand-in: a
Meta lead ad arrives by signed webhook (Meta delivered it late, ten minutes after the person
filled the form), is assigned by the clinic's rules, misses its first-reply time, and the
manager signed in on an enrolled desktop sees it escalated on the Leads screen."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.db.store import open_store
from app.repositories.context import Actor
from app.services.leads import LeadFilter, LeadService
from app.services.workspace import open_workspace
from app.sync import SyncEngine, enroll
from app.ui import theme
from app.ui.desk import Desk
from app.ui.leads_page import LeadsPage
from app.ui.operations import Operations
from tests.integration.conftest import ServerProcess
from tests.integration.routing_support import routed_clinic
from tests.standins.meta_graph import MetaGraphStandin
from tests.standins.server import StandinServer


@pytest.fixture
def graph() -> Iterator[MetaGraphStandin]:
    standin = MetaGraphStandin()
    with StandinServer(standin.app) as running:
        standin.url = running.url
        yield standin


@pytest.fixture
def server(tmp_path: Path, graph: MetaGraphStandin) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path / "server-home", serve_args=("--with-worker",),
                            extra_env={"GLOWDESK_META_GRAPH_URL": graph.url})
    process.extra_env["GLOWDESK_PUBLIC_URL"] = process.url
    process.start()
    yield process
    process.stop()


def test_a_late_meta_lead_is_assigned_escalated_and_seen_by_the_manager(
    qtbot: Any, qapp: Any, server: ServerProcess, graph: MetaGraphStandin, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clinic = routed_clinic(server, tmp_path, codes=1)
    server.cli("integrations", "set", "--clinic", clinic.slug, "--meta-app-secret", str(graph.app_secret),
               "--meta-page-id", graph.page_id, "--meta-page-token", graph.page_token)
    monkeypatch.setenv("GLOWDESK_KEY_FILE", str(tmp_path / "desk.key"))
    store = open_store(tmp_path / "desk")
    assert enroll(store, server.url, clinic.codes.pop(0), "Manager's laptop").first_sync_error is None

    lead = graph.add_lead(fields={"full_name": "Nora Quinn", "phone_number": "(415) 555-0161",
                                  "what_treatment_are_you_interested_in?": "Botox"},
                          ad_id="120210001", adset_id="2", campaign_id="3",
                          created=datetime.now(UTC) - timedelta(minutes=10))
    assert graph.deliver(server.url, graph.leadgen_webhook(lead)).status_code == 200

    # the worker fetches it, routes it, finds its reply due already, escalates it; the desktop pulls
    engine = SyncEngine.for_store(store)
    service = LeadService(store, clinic_id=clinic.clinic_id)
    marcus = Actor(staff_id=clinic.staff["manager"], device_id=store.device_id, role="manager",
                   name="Marcus Mendoza")
    deadline = time.monotonic() + 30
    while True:
        engine.sync_once()
        board = service.board(actor=marcus, filter=LeadFilter(escalated=True))
        if board.rows:
            break
        assert time.monotonic() < deadline, "the escalation did not reach the desktop"
        time.sleep(0.2)
    engine.close()
    [row] = board.rows
    assert (row.first_name, row.last_name, row.source) == ("Nora", "Quinn", "meta_lead_ad")
    assert row.owner in {"Felix Park", "Daisy Alvarez"}  # round robin among the front desk on shift
    assert row.escalated_to_name == "Marcus Mendoza" and row.first_reply_at is None
    assert row.sla_due_at is not None and row.sla_due_at <= datetime.now(UTC) - timedelta(minutes=4)
    assert board.escalations == 1
    store.close()

    # and on the Leads screen, signed in as the manager
    theme.apply_theme(qapp)
    workspace = open_workspace(tmp_path / "desk")
    ops = Operations()
    try:
        page = LeadsPage(Desk(ops, workspace, actor=workspace.actor_for(clinic.staff["manager"])))
        qtbot.addWidget(page)
        page.show()
        qtbot.waitUntil(lambda: page.board is not None and page.banner.isVisible(), timeout=5_000)
        assert page.banner_text.text().startswith("1 lead missed its first-reply time")
        reply = str(page.model.index(page.model.row_of(row.id), page.model.REPLY).data())
        assert reply.startswith("Escalated \u00b7 ")
    finally:
        assert ops.shutdown(final=workspace.close)
