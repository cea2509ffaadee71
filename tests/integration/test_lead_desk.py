"""The desk's Leads and Duplicates screens against a real server process, driven as a person
would (pytest-qt, offscreen): live timers, claiming and releasing (the server decides), the
claim refused to a second workstation, an offline workstation told it must be online, the
managers' escalation banner, a logged call, and two records merged from the duplicates screen
with the old record following to the survivor."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QRadioButton

from app.db.store import open_store
from app.repositories import settings as local_settings
from app.repositories import sync_state
from app.repositories.uow import system_actor, unit_of_work
from app.services.workspace import Workspace, open_workspace
from app.sync import SyncEngine, enroll
from app.ui import theme
from app.ui.clients_page import ClientsPage
from app.ui.desk import LEAD, MERGE_REVIEW, PATIENT, Desk
from app.ui.duplicates_page import DuplicatesPage
from app.ui.leads_page import LeadsPage
from app.ui.operations import Operations
from core.clock import FixedClock
from sync_server.leads import routing
from tests.integration.conftest import ServerProcess, free_port
from tests.integration.routing_support import RoutedClinic, routed_clinic


@pytest.fixture(scope="module", autouse=True)
def _themed(qapp: Any) -> Any:
    theme.apply_theme(qapp)
    return qapp


@dataclass
class Workstation:
    ops: Operations
    workspace: Workspace
    desk: Desk
    clock: FixedClock

    def sync(self, qtbot: Any) -> None:
        """A sync on the DB thread, then the app's one "changes happened" broadcast."""
        store = self.workspace.store
        op = self.ops.run_db(lambda: SyncEngine.for_store(store).sync_once(), on_success=None,
                             writes={LEAD, PATIENT, MERGE_REVIEW}, label="sync")
        qtbot.waitUntil(lambda: op.done, timeout=15_000)


@pytest.fixture
def workstations(qapp: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    made: list[Workstation] = []

    def make(clinic: RoutedClinic, name: str, staff: str) -> Workstation:
        home = tmp_path / name
        monkeypatch.setenv("GLOWDESK_KEY_FILE", str(tmp_path / f"{name}.key"))
        store = open_store(home)
        assert enroll(store, clinic.server.url, clinic.codes.pop(0), f"Desk {name}").first_sync_error is None
        store.close()
        clock = FixedClock(datetime.now(UTC))
        workspace = open_workspace(home, clock=clock)
        ops = Operations()
        station = Workstation(ops, workspace, Desk(ops, workspace, actor=workspace.actor_for(clinic.staff[staff])),
                              clock)
        made.append(station)
        return station

    yield make
    for station in made:
        assert station.ops.shutdown(final=station.workspace.close)


@pytest.fixture
def clinic(server: ServerProcess, tmp_path: Path) -> RoutedClinic:
    return routed_clinic(server, tmp_path, codes=3)


def leads_page(qtbot: Any, station: Workstation) -> LeadsPage:
    page = LeadsPage(station.desk)
    qtbot.addWidget(page)
    page.resize(1280, 760)
    page.show()
    station.ops.changes_did_happen.connect(lambda changes, _i: page.refresh() if LEAD in changes else None)
    qtbot.waitUntil(lambda: page.board is not None, timeout=5_000)
    return page


def cell(page: LeadsPage, column: int, row: int = 0) -> str:
    return str(page.model.index(row, column).data())


def select_lead(qtbot: Any, page: LeadsPage, lead_id: str) -> None:
    qtbot.waitUntil(lambda: page.model.row_of(lead_id) >= 0, timeout=10_000)
    page.table.selectRow(page.model.row_of(lead_id))
    qtbot.waitUntil(lambda: page.detail._lead is not None and page.detail._lead.id == lead_id)


def test_a_lead_arrives_with_its_owner_and_a_live_timer_and_is_claimed_and_released(
    qtbot: Any, clinic: RoutedClinic, workstations: Any,
) -> None:
    felix = workstations(clinic, "felix", "felix")
    daisy = workstations(clinic, "daisy", "daisy")
    page = leads_page(qtbot, felix)
    assert page.board is not None and page.board.rows == []

    other = leads_page(qtbot, daisy)
    arrived = clinic.lead_arrives(first="Ava", last="Stone", phone="+14155550134")
    for station in (felix, daisy):
        station.clock.set(datetime.now(UTC))
        station.sync(qtbot)  # data arriving by sync appears without a manual refresh
    select_lead(qtbot, page, arrived.lead_id)
    select_lead(qtbot, other, arrived.lead_id)
    row = page.model.row_of(arrived.lead_id)
    owner_name = {clinic.staff["felix"]: "Felix Park", clinic.staff["daisy"]: "Daisy Alvarez"}[str(arrived.owner_id)]
    assert cell(page, page.model.OWNER, row) == owner_name
    first = cell(page, page.model.REPLY, row)
    assert first.endswith(" left") and first[0] in "45"  # five minutes for a web form, counting down

    # the timer counts down every second from what is on screen
    felix.clock.advance(timedelta(seconds=61))
    with qtbot.waitSignal(page.clock.timeout, timeout=3_000):
        pass
    later = cell(page, page.model.REPLY, row)
    assert later != first and later.endswith(" left")
    assert page.detail.reply_line.text().startswith("First reply due in ")

    # claim: the server decides, the board shows the claim and its time left
    qtbot.mouseClick(page.detail.claim, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.notice.text().startswith("Claimed"), timeout=10_000)
    qtbot.waitUntil(lambda: "claim" in cell(page, page.model.OWNER, page.model.row_of(arrived.lead_id)))
    assert cell(page, page.model.OWNER, page.model.row_of(arrived.lead_id)).startswith("You \u00b7 claim ")
    assert page.detail.release.isVisible() and not page.detail.claim.isVisible()
    assert "Claimed by you" in page.detail.claim_line.text()

    # a second workstation that has not synced since tries too: the server refuses, saying why
    qtbot.mouseClick(other.detail.claim, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "claimed this lead" in other.detail.notice.text(), timeout=10_000)
    assert other.detail.notice.text().startswith("Felix Park claimed this lead")
    daisy.sync(qtbot)  # and once it syncs it shows the claim
    qtbot.waitUntil(lambda: cell(other, other.model.OWNER, other.model.row_of(arrived.lead_id)).startswith(
        "Felix \u00b7 claim"))
    assert not other.detail.claim.isEnabled()

    # release: free again
    qtbot.mouseClick(page.detail.release, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.notice.text() == "Released.", timeout=10_000)
    qtbot.waitUntil(lambda: "claim" not in cell(page, page.model.OWNER, page.model.row_of(arrived.lead_id)))
    assert page.detail.claim.isVisible() and page.detail.claim.isEnabled()


def test_claiming_needs_the_server_and_an_offline_workstation_says_so(
    qtbot: Any, clinic: RoutedClinic, workstations: Any,
) -> None:
    felix = workstations(clinic, "felix", "felix")
    arrived = clinic.lead_arrives(first="Bo", last="Ng", phone="+14155550177")
    page = leads_page(qtbot, felix)
    felix.sync(qtbot)
    select_lead(qtbot, page, arrived.lead_id)
    with unit_of_work(felix.workspace.store, system_actor(felix.workspace.store)) as ctx:  # the server is gone
        local_settings.put(ctx, sync_state.SERVER_URL, f"http://127.0.0.1:{free_port()}")
    qtbot.mouseClick(page.detail.claim, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "needs the clinic server" in page.detail.notice.text(), timeout=10_000)
    assert "offline" in page.detail.notice.text()
    assert page.detail.claim.isEnabled()  # try again later
    assert "claim" not in cell(page, page.model.OWNER, page.model.row_of(arrived.lead_id))

    # a logged call works offline: the lead is contacted, its timer stops
    qtbot.mouseClick(page.detail.call, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.notice.text() == "Call logged on the timeline.", timeout=5_000)
    qtbot.waitUntil(lambda: cell(page, page.model.STATUS, page.model.row_of(arrived.lead_id)) == "Contacted")
    assert cell(page, page.model.REPLY, page.model.row_of(arrived.lead_id)) == "Contacted"


def test_managers_see_missed_replies_escalated(qtbot: Any, clinic: RoutedClinic, workstations: Any) -> None:
    marcus = workstations(clinic, "marcus", "manager")
    late = clinic.lead_arrives(first="Cy", last="Late", phone="+14155550188",
                               received=marcus.clock.now() - timedelta(minutes=12))
    clinic.lead_arrives(first="Di", last="Fresh", phone="+14155550189")
    with clinic.writes() as writes:  # the server's reply-deadline job
        assert routing.check_sla(writes, lead_id=late.lead_id) == "escalated"
    page = leads_page(qtbot, marcus)
    marcus.sync(qtbot)
    qtbot.waitUntil(lambda: page.banner.isVisible(), timeout=10_000)
    assert page.banner_text.text() == "1 lead missed its first-reply time and is still waiting for an answer."
    row = page.model.row_of(late.lead_id)
    assert cell(page, page.model.REPLY, row) == "Escalated \u00b7 7:00"  # due 5 minutes after it arrived
    qtbot.mouseClick(page.banner.findChild(type(page.detail.claim), "ShowEscalated"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.board is not None and len(page.board.rows) == 1
                    and page.board.rows[0].id == late.lead_id, timeout=5_000)
    select_lead(qtbot, page, late.lead_id)
    assert page.detail.escalated_chip.isVisible() and "escalated to Marcus Mendoza" in page.detail.reply_line.text()


def test_two_records_are_merged_from_the_duplicates_screen(qtbot: Any, clinic: RoutedClinic, workstations: Any) -> None:
    felix = workstations(clinic, "felix", "felix")
    first = clinic.lead_arrives(first="Jane", last="Doe", phone="+14155550134")
    second = clinic.lead_arrives(first="Jane", last="Doe", phone="+14155550999", interest="Lip filler")
    assert second.review_id is not None
    clients = ClientsPage(felix.desk)  # someone has the newer record open
    qtbot.addWidget(clients)
    clients.resize(1280, 760)
    clients.show()
    page = DuplicatesPage(felix.desk)
    qtbot.addWidget(page)
    page.resize(1280, 760)
    page.show()

    def changed(changes: set[str], initiator: Any) -> None:  # what the main window does on the broadcast
        if MERGE_REVIEW in changes or PATIENT in changes:
            page.refresh()
        if PATIENT in changes and initiator is not clients:
            clients.refresh_record()

    felix.ops.changes_did_happen.connect(changed)
    felix.sync(qtbot)
    clients.open_patient(str(second.patient_id))
    qtbot.waitUntil(lambda: clients.detail.client is not None and clients.detail.client.id == second.patient_id,
                    timeout=10_000)
    qtbot.waitUntil(lambda: len(page.cases) == 1, timeout=10_000)
    compare = page.compare
    assert compare.case is not None and compare.case.differs == ["phone"]
    assert compare.merge.text() == "Merge into the record already there"
    # keep the record that was there first, with the newer mobile number
    keep_new_phone = compare.grid_host.findChild(QRadioButton, "choice_phone_2")
    # click on the button's indicator (a wide column puts the widget's centre past its text)
    qtbot.mouseClick(keep_new_phone, Qt.MouseButton.LeftButton, pos=QPoint(8, keep_new_phone.height() // 2))
    assert compare.choice("phone") == "other"
    qtbot.mouseClick(compare.merge, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.notice.text().startswith("The two records are now one"), timeout=10_000)
    qtbot.waitUntil(lambda: page.cases == [], timeout=5_000)

    # the open record follows to the survivor, saying so, with the chosen mobile number
    qtbot.waitUntil(lambda: clients.detail.client is not None and clients.detail.client.id == first.patient_id,
                    timeout=10_000)
    assert clients.detail.merged_note.isVisible()
    assert clients.detail.client.patient.phone == "(415) 555-0999"
    felix.sync(qtbot)  # the moved lead and timeline entries arrive with the next pull
    qtbot.waitUntil(lambda: clients.detail.client is not None and len(clients.detail.client.leads) == 2,
                    timeout=10_000)
    assert any(item.title == "Merged with Jane Doe's record" for item in clients.detail.client.timeline)
