"""The open desktop app syncing with a real server process over 127.0.0.1.

Each test opens the app's real window (operations, DB worker, sync runner, live channel) on an
enrolled SQCipher store; another desktop works on the same clinic through the sync engine.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.db.models import Lead
from app.repositories import leads as lead_repo
from app.repositories.uow import unit_of_work
from app.services.appointments import AppointmentService
from app.services.clinic_settings import ClinicSettingsService
from app.ui.actions import ActionId
from tests.integration.app_helpers import (
    App,
    banner,
    indicator,
    open_app,
    result_names,
    search,
    sign_in,
    wait_online,
)
from tests.integration.conftest import PIN, Desk, ServerProcess, make_clinic, server_rows, token_of

pytestmark = pytest.mark.usefixtures("qapp")


@pytest.fixture
def apps() -> Any:
    opened: list[App] = []
    yield opened
    for app in opened:
        app.close()


@pytest.fixture
def own_server(tmp_path: Path) -> Any:
    process = ServerProcess(tmp_path / "server-home").start()
    yield process
    process.stop()


def book_on(desk: Desk, *, patient_id: str, start: datetime) -> str:
    """On ``desk``: a service with no room, and an appointment with the clinic's provider."""
    setup = desk.setup
    owner = desk.actor
    service_id = ClinicSettingsService(desk.store, clinic_id=setup.clinic_id).save_service(
        actor=owner, service_id=None,
        data={"name": "Botox", "category": "neuromodulators", "duration_min": "30", "price": "300",
              "price_unit": "session", "deposit": "0", "requires_room": False, "qualified_roles": ["provider"]},
    )
    entry = AppointmentService(desk.store, clinic_id=setup.clinic_id, timezone="America/Los_Angeles").create(
        actor=owner, patient_id=patient_id, service_id=service_id, provider_id=setup.provider_id, start_at=start,
    )
    return str(entry.id)


def todays_slot() -> datetime:
    """Noon on the day Today opens on, in the clinic's zone (America/Los_Angeles), as UTC: today,
    or the next day the clinic opens when it is closed today (the test clinic keeps the default
    opening hours, Monday to Saturday)."""
    from zoneinfo import ZoneInfo

    from core.routing import clinic_hours

    local = datetime.now(UTC).astimezone(ZoneInfo("America/Los_Angeles"))
    hours = clinic_hours(None)
    while not hours.get(local.weekday()):
        local += timedelta(days=1)
    return local.replace(hour=12, minute=0, second=0, microsecond=0).astimezone(UTC)


def test_changes_made_on_another_desktop_appear_in_the_open_app_without_a_refresh(
    server: ServerProcess, desks: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch, apps: list[App]
) -> None:
    setup = make_clinic(server, codes=2)
    a, b = desks(server, setup, "a", "b")
    kate = b.add_patient("Kate", "Lindqvist", phone="+14155550123")
    b.sync()
    app = open_app(qtbot, a, monkeypatch)
    apps.append(app)
    sign_in(qtbot, app, "Olivia Owner", PIN)
    wait_online(qtbot, app)
    assert indicator(app).startswith("Online \u00b7 synced")

    # Clients: a search typed before the client existed fills in by itself
    search(qtbot, app, "newcomer")
    assert result_names(app) == []
    zed = b.add_patient("Zed", "Newcomer")
    b.sync()
    qtbot.waitUntil(lambda: result_names(app) == ["Zed Newcomer"], timeout=5_000)

    # the open record reads itself again when another desk edits that client
    search(qtbot, app, "lindqvist")
    qtbot.keyClick(app.window.search.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: app.window.detail.record is not None, timeout=5_000)
    assert "(415) 555-0123" in app.window.detail.visible_text()
    b.edit(kate, phone="+14155550188")
    b.sync()
    qtbot.waitUntil(lambda: "(415) 555-0188" in app.window.detail.visible_text(), timeout=5_000)

    # Today: an appointment booked elsewhere shows up on the schedule
    appointment = book_on(b, patient_id=zed, start=todays_slot())
    b.sync()
    app.window.show_page("today")
    today = app.window.pages["today"]
    qtbot.waitUntil(lambda: today.entry(appointment) is not None, timeout=5_000)
    assert today.entry(appointment).client_name.startswith("Zed")  # type: ignore[union-attr]

    # Leads: a new lead arrives in the list
    app.window.show_page("leads")
    leads = app.window.pages["leads"]
    with unit_of_work(b.store, b.actor) as ctx:
        lead_id = lead_repo.create(ctx, Lead(clinic_id=setup.clinic_id, patient_id=zed, source="web_form",
                                             status="new", received_at=datetime.now(UTC) - timedelta(minutes=2))).id
    b.sync()
    qtbot.waitUntil(lambda: leads.model.row_of(lead_id) >= 0, timeout=5_000)
    assert app.sync.state.pending_changes == 0


def test_offline_banner_counts_waiting_changes_and_clears_when_the_server_is_back(
    own_server: ServerProcess, desks: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch, apps: list[App]
) -> None:
    setup = make_clinic(own_server, codes=2)
    a, b = desks(own_server, setup, "a", "b")
    pid = a.add_patient("Mira", "Offline", phone="+14155550111")
    a.sync()
    app = open_app(qtbot, a, monkeypatch)
    apps.append(app)
    sign_in(qtbot, app, "Olivia Owner", PIN)
    wait_online(qtbot, app)
    assert banner(app) == ""

    own_server.stop()
    qtbot.waitUntil(lambda: not app.sync.state.live_connected, timeout=10_000)

    # edit the client as a person would, while the server is away
    app.window.open_patient(pid)
    qtbot.waitUntil(lambda: app.window.detail.record is not None, timeout=5_000)
    app.window.action_registry[ActionId.EDIT_PATIENT].trigger()
    qtbot.waitUntil(lambda: app.window.clients.editor is not None and app.window.clients.editor.isVisible())
    editor = app.window.clients.editor
    assert editor is not None
    editor.fields["phone"].clear()
    qtbot.keyClicks(editor.fields["phone"], "(415) 555-0177")
    qtbot.mouseClick(editor.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "(415) 555-0177" in app.window.detail.visible_text(), timeout=5_000)

    qtbot.waitUntil(lambda: "1 change is saved on this workstation" in banner(app), timeout=10_000)
    assert banner(app).startswith("The clinic server can't be reached (offline since ")
    assert indicator(app).startswith("Offline since ") and indicator(app).endswith("1 change waiting")
    assert app.window.sync_chrome.banner.sync_button.isVisible()

    own_server.start()  # same address: the app notices, pushes and the banner goes
    qtbot.waitUntil(lambda: banner(app) == "" and app.sync.state.pending_changes == 0, timeout=20_000)
    assert indicator(app).startswith("Online")
    assert server_rows(own_server.url, token_of(b), "patient")[pid][1]["phone"] == "+14155550177"

    # closing the app stops syncing at once and cleanly
    runner = app.sync.runner
    assert runner is not None and runner.running
    app.close()
    assert not runner.running


def test_a_revoked_workstation_stops_syncing_and_says_why(
    server: ServerProcess, desks: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch, apps: list[App]
) -> None:
    setup = make_clinic(server, codes=1)
    (a,) = desks(server, setup, "a")
    device_id = a.device_id
    app = open_app(qtbot, a, monkeypatch)
    apps.append(app)
    sign_in(qtbot, app, "Olivia Owner", PIN)
    wait_online(qtbot, app)
    assert app.window.action_registry[ActionId.SYNC_NOW].isEnabled()

    server.cli("revoke-device", "--clinic", setup.slug, "--device", device_id)
    qtbot.waitUntil(lambda: app.sync.state.stopped, timeout=10_000)
    qtbot.waitUntil(lambda: banner(app) != "", timeout=2_000)
    assert banner(app).startswith("Syncing has stopped. This workstation's access was revoked. Ask an "
                                  "administrator for a new enrollment code")
    assert indicator(app) == "Sync stopped"
    assert not app.window.action_registry[ActionId.SYNC_NOW].isEnabled()
    assert not app.window.sync_chrome.banner.sync_button.isVisible()


def test_conflicts_and_a_refused_double_booking_are_listed_in_plain_words_and_can_be_dismissed(
    server: ServerProcess, desks: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch, apps: list[App]
) -> None:
    setup = make_clinic(server, codes=2)
    a, b = desks(server, setup, "a", "b")
    pid = a.add_patient("Ines", "Conflict", phone="+14155550100")
    a.sync()
    b.sync()
    slot = todays_slot() + timedelta(hours=2)
    # offline on a: a phone edit and a booking; then b edits the same phone and takes the slot
    a.edit(pid, phone="+14155550101")
    a_booking = book_on(a, patient_id=pid, start=slot)
    b.edit(pid, phone="+14155550102")
    book_on(b, patient_id=pid, start=slot)
    b.sync()

    app = open_app(qtbot, a, monkeypatch)
    apps.append(app)
    sign_in(qtbot, app, "Olivia Owner", PIN)
    qtbot.waitUntil(lambda: app.sync.state.conflicts_to_review == 1 and app.sync.state.rejected_changes == 1,
                    timeout=15_000)
    review_button = app.window.sync_chrome.indicator.review_button
    qtbot.waitUntil(lambda: review_button.isVisible() and review_button.text() == "2 to review")

    qtbot.mouseClick(review_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.window.sync_review is not None and app.window.sync_review.items is not None)
    dialog = app.window.sync_review
    assert dialog is not None
    rows = {item.kind: item for item in dialog.items or []}
    conflict, refused = rows["conflict"], rows["refused"]
    assert conflict.record == "Client \u00b7 Ines Conflict" and conflict.subject == "Phone"
    assert (conflict.kept, conflict.lost) == ("(415) 555-0102", "(415) 555-0101")  # the later edit won
    assert conflict.sentence.startswith("Olivia Owner changed the phone of Ines Conflict to \u201c(415) 555-0101\u201d")
    assert refused.record.startswith("Appointment \u00b7 Botox for Ines Conflict")
    assert refused.subject == "New appointment" and refused.kept == "Not saved"
    assert "Nora Kim is already booked" in refused.summary and "was not saved" in refused.summary
    assert "Nora Kim is already booked" in dialog.visible_text()
    app.window.show_page("today")  # the refused booking was taken back on this workstation
    today = app.window.pages["today"]
    qtbot.waitUntil(lambda: not today.loading, timeout=5_000)
    assert today.entry(a_booking) is None

    # dismiss the conflict: the count and the list follow
    dialog.table.selectRow(dialog.model.row_of(conflict.key))
    qtbot.mouseClick(dialog.dismiss_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.items is not None and [i.kind for i in dialog.items] == ["refused"], timeout=5_000)
    qtbot.waitUntil(lambda: review_button.text() == "1 to review", timeout=5_000)
    assert app.sync.state.conflicts_to_review == 0
