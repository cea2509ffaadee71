"""Settings > Lead routing against a real server process, driven as a manager would (pytest-qt,
offscreen): the clinic's rules are shown as the server holds them, edited (a reply deadline, the
claim time, a new service rule moved to the top, the escalation target) and saved to the server;
a rule without its words is refused in the dialog; the server's refusal outlines the setting it
names; a save after someone else changed the
routing reloads theirs and says so; an offline workstation says routing needs the server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import update

from app.db.store import open_store
from app.repositories import settings as local_settings
from app.repositories import sync_state
from app.repositories.uow import system_actor, unit_of_work
from app.services.workspace import Workspace, open_workspace
from app.sync import enroll
from app.ui import theme
from app.ui.desk import Desk
from app.ui.operations import Operations
from app.ui.settings_page import SettingsPage
from app.ui.settings_routing import CHANGED, OFFLINE
from core.routing import RuleKind
from sync_server.clinics.models import Staff
from tests.integration.conftest import ServerProcess, free_port
from tests.integration.routing_support import ALWAYS, RoutedClinic, routed_clinic


@pytest.fixture(scope="module", autouse=True)
def _themed(qapp: Any) -> Any:
    theme.apply_theme(qapp)
    return qapp


@dataclass
class Station:
    ops: Operations
    workspace: Workspace
    desk: Desk


@pytest.fixture
def clinic(server: ServerProcess, tmp_path: Path) -> RoutedClinic:
    return routed_clinic(server, tmp_path, codes=1)


@pytest.fixture
def manager(qapp: Any, clinic: RoutedClinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Station]:
    home = tmp_path / "marcus"
    monkeypatch.setenv("GLOWDESK_KEY_FILE", str(tmp_path / "marcus.key"))
    store = open_store(home)
    assert enroll(store, clinic.server.url, clinic.codes.pop(0), "Manager's desk").first_sync_error is None
    store.close()
    workspace = open_workspace(home)
    ops = Operations()
    station = Station(ops, workspace, Desk(ops, workspace, actor=workspace.actor_for(clinic.staff["manager"])))
    yield station
    assert ops.shutdown(final=workspace.close)


def routing_page(qtbot: Any, station: Station) -> Any:
    settings = SettingsPage(station.desk)
    qtbot.addWidget(settings)
    settings.resize(1366, 820)
    settings.show()
    settings.show_section("lead_routing")
    page = settings.routing
    qtbot.waitUntil(lambda: page.sheet is not None or page.retry.isVisible(), timeout=10_000)
    return page


def type_into(qtbot: Any, spin: Any, text: str) -> None:
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Tab)


def shown(page: Any) -> list[str]:
    return [page.rule_list.item(i).text() for i in range(page.rule_list.count())]


def test_a_manager_changes_the_routing_and_the_server_routes_with_it(
    qtbot: Any, clinic: RoutedClinic, manager: Station,
) -> None:
    page = routing_page(qtbot, manager)
    assert shown(page) == ["1.  Round robin on shift  \u2192  any front desk"]
    assert page.fallback.currentText().startswith("Marcus Mendoza")
    assert page.sla["web_form"].value() == 5 and page.sla["walk_in"].text() == "No deadline"
    assert page.after_hours.currentData() == "clock"

    type_into(qtbot, page.sla["web_form"], "3")
    type_into(qtbot, page.claim, "15")
    page.new_rule(RuleKind.SERVICE)  # Add rule > Service interest
    dialog = page.dialog
    assert dialog is not None
    done = dialog.findChild(type(page.save_button), "RuleDone")
    qtbot.mouseClick(done, Qt.MouseButton.LeftButton)  # nothing chosen yet: refused inline
    assert dialog.isVisible() and dialog.error.text() == "Choose who this rule gives leads to: a person or a role."
    nora = next(dialog.people.item(i) for i in range(dialog.people.count())
                if dialog.people.item(i).text().startswith("Nora Kim"))
    nora.setCheckState(Qt.CheckState.Checked)
    qtbot.mouseClick(done, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "List the words" in dialog.error.text()
    assert dialog.words.property("invalid") is True
    qtbot.keyClicks(dialog.words, "Laser, IPL")
    qtbot.mouseClick(done, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.rule_list.count() == 2)
    qtbot.mouseClick(page.up, Qt.MouseButton.LeftButton)
    assert shown(page) == ["1.  Service interest: laser, ipl  \u2192  Nora Kim",
                           "2.  Round robin on shift  \u2192  any front desk"]
    page.escalate.setCurrentIndex(page.escalate.findText("Olivia Owner", Qt.MatchFlag.MatchStartsWith))

    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.notice.text().startswith("Saved."), timeout=10_000)
    on_server = clinic.server.cli("lead-routing", "show", "--clinic", clinic.slug)["lead_routing"]
    assert on_server["rules"][0] == {"kind": "service", "staff": ["Nora Kim"], "match": ["laser", "ipl"],
                                     "pick": "fewest_open"}
    assert on_server["sla_minutes"] == {"web_form": 3} and on_server["claim_minutes"] == 15
    assert on_server["escalate_to"] == ["Olivia Owner"] and on_server["fallback"] == "Marcus Mendoza"

    # the server routes the next laser lead with the new rule (Nora on shift whenever the test runs)
    clinic.server.cli("lead-routing", "hours", "--clinic", clinic.slug, "--staff", "Nora Kim", "--hours", ALWAYS)
    arrived = clinic.lead_arrives(first="Lia", last="Moss", phone="+14155550161", interest="Laser hair removal")
    with clinic.writes() as writes:
        assert (writes.get("lead", arrived.lead_id) or {})["owner_id"] == clinic.staff["nora"]


def test_a_save_after_someone_else_changed_the_routing_reloads_theirs(
    qtbot: Any, clinic: RoutedClinic, manager: Station,
) -> None:
    page = routing_page(qtbot, manager)
    clinic.server.cli("lead-routing", "set", "--clinic", clinic.slug, "--claim-minutes", "25")  # the owner, elsewhere
    type_into(qtbot, page.claim, "20")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.notice.text() == CHANGED, timeout=10_000)
    assert page.claim.value() == 25 and page.save_button.isEnabled()
    assert clinic.server.cli("lead-routing", "show", "--clinic", clinic.slug)["lead_routing"]["claim_minutes"] == 25


def test_offline_the_page_says_routing_needs_the_server(
    qtbot: Any, clinic: RoutedClinic, manager: Station,
) -> None:
    with unit_of_work(manager.workspace.store, system_actor(manager.workspace.store)) as ctx:  # the server is gone
        local_settings.put(ctx, sync_state.SERVER_URL, f"http://127.0.0.1:{free_port()}")
    page = routing_page(qtbot, manager)
    qtbot.waitUntil(lambda: page.notice.text() == OFFLINE, timeout=10_000)
    assert not page.save_button.isEnabled() and not page.body.isEnabled() and page.retry.isVisible()


def test_the_servers_refusal_names_the_setting_and_nothing_is_saved(
    qtbot: Any, clinic: RoutedClinic, manager: Station,
) -> None:
    page = routing_page(qtbot, manager)
    page.fallback.setCurrentIndex(page.fallback.findText("Daisy Alvarez", Qt.MatchFlag.MatchStartsWith))
    with clinic.writes() as writes:  # Daisy leaves while the page is open
        writes.session.execute(update(Staff).where(Staff.id == clinic.staff["daisy"]).values(active=False))
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "no longer active" in page.notice.text(), timeout=10_000)
    assert page.notice.text() == "The fallback: Daisy Alvarez is no longer active."
    assert page.fallback.property("invalid") is True and page.claim.property("invalid") is False
    assert page.fallback.currentText().startswith("Daisy Alvarez")  # the edit is still on the page
    assert clinic.server.cli("lead-routing", "show", "--clinic", clinic.slug)["lead_routing"]["fallback"] == \
        "Marcus Mendoza"
