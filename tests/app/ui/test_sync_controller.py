"""The open app's sync wiring, fast: a real encrypted store, the real window and runner, and the
in-memory hub of the engine tests standing in for the server (the real server process is in
tests/integration/test_desktop_app_sync.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.repositories import sync_state
from app.repositories.uow import system_actor, unit_of_work
from app.services.patients import PatientService
from app.services.workspace import open_workspace
from app.sync.engine import SyncEngine
from app.ui.desk import PATIENT, Desk
from app.ui.main_window import MainWindow
from app.ui.operations import Operations
from app.ui.sync_controller import RunnerOptions, SyncController
from tests.app.sync import conftest as sync_fixtures
from tests.app.sync.conftest import CLINIC_ID, Desktop
from tests.app.sync.fake_hub import FakeHub

desktops = sync_fixtures.desktops
hub = sync_fixtures.hub
QUICK = RunnerOptions(interval=30.0, debounce=0.02, backoff_base=0.05, backoff_cap=0.2, live=False)


class Opened:
    def __init__(self, window: MainWindow, ops: Operations, workspace: Any) -> None:
        self.window, self.ops, self.workspace = window, ops, workspace
        self.broadcasts: list[tuple[set[str], Any]] = []
        ops.changes_did_happen.connect(lambda changes, initiator: self.broadcasts.append((changes, initiator)))

    @property
    def sync(self) -> SyncController:
        return self.window.sync


@pytest.fixture
def app(qtbot: Any, desktops: Any, hub: FakeHub) -> Iterator[Any]:
    opened: list[Opened] = []

    def open_(desk: Desktop) -> Opened:
        with unit_of_work(desk.store, system_actor(desk.store)) as ctx:
            sync_state.save_enrollment(ctx, server_url="https://hub.example", device_id=f"device-{desk.name}",
                                       device_token="t0k3n", device_name=desk.name, enrolled_at="2026-11-22T17:00:00Z")
        desk.store.close()
        workspace = open_workspace(desk.home)
        ops = Operations()

        def engine(store: Any, run_db: Any) -> SyncEngine:
            return SyncEngine(store, hub, device_id=f"device-{desk.name}", run_db=run_db)

        controller = SyncController(ops, workspace, options=QUICK, engine_factory=engine)
        window = MainWindow(Desk(ops, workspace, actor=workspace.system), sync=controller)
        qtbot.addWidget(window)
        window.show()
        result = Opened(window, ops, workspace)
        opened.append(result)
        return result

    yield open_
    for o in opened:
        o.window.close()
        assert o.ops.shutdown(final=o.workspace.close)


def test_a_local_write_is_pushed_and_what_another_desk_did_is_broadcast_with_its_client(
    qtbot: Any, app: Any, desktops: Any, hub: FakeHub
) -> None:
    a, b = desktops("a"), desktops("b")
    opened = app(a)
    qtbot.waitUntil(lambda: opened.sync.state.online is True and not opened.sync.state.syncing, timeout=5_000)
    service = PatientService(opened.workspace.store, clinic_id=CLINIC_ID, region="US")
    actor = b.actor()
    made: list[str] = []
    opened.ops.run_db(lambda: service.create(actor=actor, data={"first_name": "Lin", "last_name": "Local"}).id,
                      on_success=made.append, writes={PATIENT})
    qtbot.waitUntil(lambda: bool(made) and ("patient", made[0]) in hub.rows, timeout=5_000)  # nudged, pushed
    qtbot.waitUntil(lambda: opened.sync.state.pending_changes == 0, timeout=5_000)
    assert not any(initiator is opened.sync for _, initiator in opened.broadcasts)  # its own echo: nothing

    other = b.add_patient("Oda", "Elsewhere")
    b.sync()
    opened.sync.sync_now()  # as the live channel would
    qtbot.waitUntil(lambda: any(initiator is opened.sync for _, initiator in opened.broadcasts), timeout=5_000)
    changes, _ = next(c for c in opened.broadcasts if c[1] is opened.sync)
    assert changes == {PATIENT} and changes.patient_ids == {other}  # type: ignore[attr-defined]


def test_a_protocol_mismatch_stops_syncing_with_the_sentence_in_the_banner(
    qtbot: Any, app: Any, desktops: Any, hub: FakeHub
) -> None:
    hub.schema = 0  # a server older than this workstation
    opened = app(desktops("a"))
    qtbot.waitUntil(lambda: opened.sync.state.stopped, timeout=5_000)
    banner = opened.window.sync_chrome.banner
    qtbot.waitUntil(banner.isVisible, timeout=2_000)
    assert banner.message.text().startswith("Syncing has stopped. ")
    assert "server" in opened.sync.state.stopped_reason.lower()  # type: ignore[union-attr]
    assert opened.window.sync_chrome.indicator.text == "Sync stopped"
    qtbot.waitUntil(lambda: opened.sync.runner is not None and not opened.sync.runner.running, timeout=5_000)


def test_closing_while_offline_stops_at_once_and_the_waiting_change_survives(
    qtbot: Any, app: Any, desktops: Any, hub: FakeHub
) -> None:
    hub.down = True
    a = desktops("a")
    opened = app(a)
    qtbot.waitUntil(lambda: opened.sync.state.online is False, timeout=5_000)
    service = PatientService(opened.workspace.store, clinic_id=CLINIC_ID, region="US")
    actor = a.actor()
    opened.ops.run_db(lambda: service.create(actor=actor, data={"first_name": "Wai", "last_name": "Ting"}),
                      on_success=None, writes={PATIENT})
    qtbot.waitUntil(lambda: opened.sync.state.pending_changes == 1, timeout=5_000)
    runner = opened.sync.runner
    assert runner is not None
    opened.window.close()
    assert not runner.running
    assert opened.ops.shutdown(final=opened.workspace.close)
    again = open_workspace(a.home)
    try:
        with unit_of_work(again.store, system_actor(again.store)) as ctx:
            assert sync_state.pending_count(ctx) == 1
    finally:
        again.close()


def test_the_self_test_shows_the_stored_state_but_never_syncs(qtbot: Any, desktops: Any, hub: FakeHub) -> None:
    a = desktops("a")
    with unit_of_work(a.store, system_actor(a.store)) as ctx:
        sync_state.save_enrollment(ctx, server_url="https://hub.example", device_id="d", device_token="t",
                                   device_name="a", enrolled_at="2026-11-22T17:00:00Z")
    a.store.close()
    workspace = open_workspace(a.home)
    ops = Operations()
    try:
        controller = SyncController(ops, workspace, background=False,
                                    engine_factory=lambda *_: pytest.fail("the self-test must not sync"))
        controller.start()
        qtbot.waitUntil(lambda: controller.loaded)
        assert controller.state.enrolled and controller.runner is None and hub.pulls == 0
    finally:
        assert ops.shutdown(final=workspace.close)
