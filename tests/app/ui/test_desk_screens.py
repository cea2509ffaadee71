"""The desk's screens driven as a person would, on a real encrypted store holding the demo clinic:
sign in with a PIN, switch user, idle lock, role-aware navigation, create a client, the client
record and its timeline, the Leads list, Settings, and what the window remembers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from app.db.models import Activity, Lead, Message, Patient
from app.db.store import open_store
from app.repositories.uow import system_actor, unit_of_work
from app.services.demo import generate_demo
from app.services.workspace import open_workspace
from app.ui.actions import ActionId
from app.ui.desk import Desk
from app.ui.main_window import MainWindow
from app.ui.operations import Operations
from app.ui.patient_editor import PatientEditor

OWNER, OWNER_PIN = "Olivia Owens", "1234"
DESK, DESK_PIN = "Felix Park", "5555"


@pytest.fixture
def demo_home(tmp_path: Path, key_file: Path) -> Path:
    store = open_store(tmp_path / "home")
    try:
        generate_demo(store, patients=150)
    finally:
        store.close()
    return tmp_path / "home"


@pytest.fixture
def ops_desk(qapp, demo_home: Path) -> Iterator[Desk]:
    ops = Operations()
    workspace = open_workspace(demo_home)
    try:
        yield Desk(ops, workspace, actor=None)
    finally:
        assert ops.shutdown(final=workspace.close)


def make_window(qtbot, desk: Desk, **kwargs) -> MainWindow:
    win = MainWindow(desk, **kwargs)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def sign_in(qtbot, win: MainWindow, name: str, pin: str) -> None:
    qtbot.waitUntil(lambda: win.signin.staff.count() > 0)
    staff_id = next(win.signin.staff.item(i).data(Qt.ItemDataRole.UserRole + 1).staff_id
                    for i in range(win.signin.staff.count()) if win.signin.staff.item(i).text() == name)
    win.signin.choose(staff_id)
    win.signin.pin.setFocus()
    qtbot.keyClicks(win.signin.pin, pin)
    qtbot.keyClick(win.signin.pin, Qt.Key.Key_Return)


def shown_text(win: MainWindow) -> str:
    """Every label a person can see in the window right now."""
    return "\n".join(w.text() for w in win.findChildren(QLabel) if w.isVisible() and w.text())


def count_patients(desk: Desk) -> int:
    with unit_of_work(desk.workspace.store, system_actor(desk.workspace.store)) as ctx:
        return int(ctx.session.execute(sa.select(sa.func.count()).select_from(Patient)
                                       .where(Patient.deleted.is_(False))).scalar_one())


def rich_patient(desk: Desk) -> tuple[str, str]:
    """(id, first name) of a client with alerts, leads and a long timeline."""
    with unit_of_work(desk.workspace.store, system_actor(desk.workspace.store)) as ctx:
        busy = (sa.select(Activity.patient_id, sa.func.count().label("n")).group_by(Activity.patient_id)
                .subquery())
        row = ctx.session.execute(
            sa.select(Patient.id, Patient.first_name)
            .join(busy, busy.c.patient_id == Patient.id)
            .where(Patient.allergies.is_not(None) | Patient.medical_alerts.is_not(None))
            .where(Patient.id.in_(sa.select(Lead.patient_id)))
            .order_by(busy.c.n.desc()).limit(1)).one()
    return row[0], row[1]


# --- signing in --------------------------------------------------------------------------------


def test_sign_in_with_a_pin_wrong_pin_stays_locked(qtbot, ops_desk):
    win = make_window(qtbot, ops_desk)
    assert win.locked and win.central.currentWidget() is win.signin
    assert not win.pages  # nothing with client data exists before someone signs in
    sign_in(qtbot, win, DESK, "9999")
    qtbot.waitUntil(lambda: win.signin.error.isVisible())
    assert "do not match" in win.signin.error.text()
    assert win.locked and win.signin.pin.text() == ""
    assert not win.action_registry[ActionId.FIND].isEnabled()
    qtbot.keyClicks(win.signin.pin, DESK_PIN)
    qtbot.keyClick(win.signin.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not win.locked)
    assert ops_desk.actor_name == DESK and win.central.currentWidget() is win.shell
    assert win.action_registry[ActionId.FIND].isEnabled()


def test_front_desk_sees_no_settings_and_no_chart_signing(qtbot, ops_desk):
    win = make_window(qtbot, ops_desk)
    sign_in(qtbot, win, DESK, DESK_PIN)
    qtbot.waitUntil(lambda: not win.locked)
    assert win.rail.visible_pages() == ["today", "clients", "leads", "duplicates"]
    assert "settings" not in win.pages
    actions = win.action_registry
    assert not actions[ActionId.GO_SETTINGS].isVisible()
    assert not actions[ActionId.SIGN_CHART].isVisible() and not actions[ActionId.COSIGN_CHART].isVisible()
    menus = [a.text() for a in win.menuBar().actions() if a.isVisible()]
    assert "C&harts" not in menus
    assert "Charts" not in win.detail.tabs.tab_titles() and "Photos" not in win.detail.tabs.tab_titles()


def test_quick_switch_rebuilds_the_screens_for_the_new_role(qtbot, ops_desk):
    win = make_window(qtbot, ops_desk)
    sign_in(qtbot, win, OWNER, OWNER_PIN)
    qtbot.waitUntil(lambda: not win.locked)
    assert "settings" in win.rail.visible_pages()
    assert win.action_registry[ActionId.SIGN_CHART].isVisible()  # owners may sign (not built yet)
    assert not win.action_registry[ActionId.SIGN_CHART].isEnabled()
    old_clients = win.clients
    win.action_registry[ActionId.SWITCH_USER].trigger()
    assert win.locked and win.signin.current is None  # nobody chosen for the next person
    sign_in(qtbot, win, DESK, DESK_PIN)
    qtbot.waitUntil(lambda: not win.locked)
    assert ops_desk.actor_name == DESK
    assert "settings" not in win.rail.visible_pages() and win.clients is not old_clients
    assert win.rail.user_name.text() == DESK


def test_idle_lock_hides_client_data_and_the_same_person_carries_on(qtbot, ops_desk):
    pid, first = rich_patient(ops_desk)
    win = make_window(qtbot, ops_desk, idle_lock_ms=400)
    sign_in(qtbot, win, OWNER, OWNER_PIN)
    qtbot.waitUntil(lambda: not win.locked)
    win.open_patient(pid)
    qtbot.waitUntil(lambda: win.detail.client is not None)
    assert first in shown_text(win)
    win.clients.new_patient()
    qtbot.waitUntil(lambda: win.clients.editor is not None and win.clients.editor.isVisible())
    qtbot.waitUntil(lambda: win.locked, timeout=5000)  # nobody touched anything
    assert first not in shown_text(win)
    assert not win.detail.isVisible() and win.central.currentWidget() is win.signin
    assert win.clients.editor is None or not win.clients.editor.isVisible()
    assert "Locked after" in win.signin.banner_text.text() and OWNER in win.signin.banner_text.text()
    assert win.signin.current is not None and win.signin.current.name == OWNER
    qtbot.keyClicks(win.signin.pin, OWNER_PIN)
    qtbot.keyClick(win.signin.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not win.locked)
    assert win.detail.client is not None and win.detail.client.id == pid  # where they left off


# --- creating a client -------------------------------------------------------------------------


def owner_window(qtbot, desk: Desk) -> MainWindow:
    win = make_window(qtbot, desk)
    sign_in(qtbot, win, OWNER, OWNER_PIN)
    qtbot.waitUntil(lambda: not win.locked)
    return win


def open_editor(qtbot, win: MainWindow) -> PatientEditor:
    win.action_registry[ActionId.NEW_PATIENT].trigger()
    qtbot.waitUntil(lambda: win.clients.editor is not None and win.clients.editor.isVisible())
    editor = win.clients.editor
    assert editor is not None
    return editor


def test_a_bad_phone_shows_an_inline_error_and_saves_nothing(qtbot, ops_desk):
    win = owner_window(qtbot, ops_desk)
    before = count_patients(ops_desk)
    editor = open_editor(qtbot, win)
    qtbot.keyClicks(editor.fields["first_name"], "Noor")
    qtbot.keyClicks(editor.fields["last_name"], "Haddad")
    qtbot.keyClicks(editor.fields["phone"], "555-12")
    qtbot.mouseClick(editor.save, Qt.MouseButton.LeftButton)
    errors = editor.visible_errors()
    assert list(errors) == ["phone"] and "555-12" in errors["phone"]
    assert editor.fields["phone"].property("invalid") is True
    assert editor.isVisible() and "highlighted field" in editor.form_error.text()
    qtbot.wait(100)
    assert count_patients(ops_desk) == before  # nothing saved
    editor.fields["phone"].clear()  # fixing the field clears its error at once
    qtbot.keyClicks(editor.fields["phone"], "(415) 555-0177")
    assert editor.visible_errors() == {}
    qtbot.keyClicks(editor.fields["date_of_birth"], "04/12/1991")
    qtbot.mouseClick(editor.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.detail.client is not None and win.detail.record.name == "Noor Haddad")
    assert count_patients(ops_desk) == before + 1
    assert "(415) 555-0177" in win.detail.visible_text()
    win.clients.show_search()
    qtbot.keyClicks(win.search.field, "noor")
    qtbot.waitUntil(lambda: not win.search.searching and win.search.model.rowCount() == 1)


def test_duplicate_warning_while_typing_an_existing_phone(qtbot, ops_desk):
    with unit_of_work(ops_desk.workspace.store, system_actor(ops_desk.workspace.store)) as ctx:
        phone, first = ctx.session.execute(sa.select(Patient.phone, Patient.first_name)
                                           .where(Patient.phone.is_not(None)).limit(1)).one()
    win = owner_window(qtbot, ops_desk)
    editor = open_editor(qtbot, win)
    assert not editor.duplicate_box.isVisible()
    qtbot.keyClicks(editor.fields["phone"], phone[2:])  # national digits, as the desk types them
    qtbot.waitUntil(lambda: editor.duplicate_box.isVisible(), timeout=5000)
    assert first in editor.duplicate_text.text() and "same phone" in editor.duplicate_text.text()
    editor.fields["phone"].clear()
    qtbot.waitUntil(lambda: not editor.duplicate_box.isVisible(), timeout=5000)


# --- the client record -------------------------------------------------------------------------


def test_the_record_shows_alerts_numbers_and_the_timeline_newest_first(qtbot, ops_desk):
    pid, first = rich_patient(ops_desk)
    win = owner_window(qtbot, ops_desk)
    win.open_patient(pid)
    qtbot.waitUntil(lambda: win.detail.client is not None)
    text = win.detail.visible_text()
    assert "Alerts" in text and first in text and "VISITS" in text and "CONSENTS" in text
    timeline = win.detail.tabs.timeline.model.items()
    assert timeline and [i.occurred_at for i in timeline] == sorted((i.occurred_at for i in timeline), reverse=True)
    assert win.detail.tabs.tab_titles()[0] == "Timeline"
    assert {"Messages", "Charts", "Photos", "Payments"} <= {t.split("  ")[0] for t in win.detail.tabs.tab_titles()}
    assert win.detail.tabs.appointments.rowCount() == len(win.detail.client.appointments) > 0


def test_the_timeline_filters_by_type(qtbot, ops_desk):
    pid, _ = rich_patient(ops_desk)
    win = owner_window(qtbot, ops_desk)
    win.open_patient(pid)
    qtbot.waitUntil(lambda: win.detail.client is not None)
    panel = win.detail.tabs.timeline
    everything = panel.model.rowCount()
    qtbot.mouseClick(panel.buttons["leads"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.loading and panel.kind == "leads")
    leads = panel.model.items()
    assert leads and {i.kind for i in leads} == {"leads"} and len(leads) < everything
    qtbot.mouseClick(panel.buttons[None], Qt.MouseButton.LeftButton)
    assert panel.model.rowCount() == everything


def test_the_timeline_messages_filter_lists_the_thread(qtbot, ops_desk):
    """The Messages filter shows the client's texts (who wrote, what, when), as many as the
    thread holds; "All" has them among the rest."""
    with unit_of_work(ops_desk.workspace.store, system_actor(ops_desk.workspace.store)) as ctx:
        pid, count = ctx.session.execute(
            sa.select(Message.patient_id, sa.func.count()).where(Message.patient_id.is_not(None))
            .group_by(Message.patient_id).order_by(sa.func.count().desc()).limit(1)).one()
        bodies = [m.body for m in ctx.session.execute(sa.select(Message).where(Message.patient_id == pid))
                  .scalars()]
    win = owner_window(qtbot, ops_desk)
    win.open_patient(pid)
    qtbot.waitUntil(lambda: win.detail.client is not None)
    panel = win.detail.tabs.timeline
    assert panel.buttons["messages"].text() == f"Messages  {count}"
    qtbot.mouseClick(panel.buttons["messages"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.loading and panel.kind == "messages")
    items = panel.model.items()
    assert len(items) == count > 0 and panel.empty.isHidden()
    assert {i.kind for i in items} == {"messages"}
    assert {i.title for i in items} <= {"Text from the client", "Text sent", "Automatic text sent",
                                        "Instagram message from the client", "Instagram message sent"}
    texts = sorted(" ".join(b.split()) for b in bodies)  # the whole text, or its beginning and "…"
    assert all(t == i.detail or (i.detail.endswith("\u2026") and t.startswith(i.detail[:-1]))
               for t, i in zip(texts, sorted(items, key=lambda i: i.detail), strict=True))
    assert [i.occurred_at for i in items] == sorted((i.occurred_at for i in items), reverse=True)
    qtbot.mouseClick(panel.buttons[None], Qt.MouseButton.LeftButton)
    assert {i.id for i in items} <= {i.id for i in panel.model.items()}


# --- leads -------------------------------------------------------------------------------------


def test_leads_filter_and_open_the_client_record(qtbot, ops_desk):
    win = make_window(qtbot, ops_desk)
    sign_in(qtbot, win, DESK, DESK_PIN)
    qtbot.waitUntil(lambda: not win.locked)
    win.action_registry[ActionId.GO_LEADS].trigger()
    leads = win.pages["leads"]
    qtbot.waitUntil(lambda: not leads.loading and leads.board is not None)
    assert {r.status for r in leads.board.rows} <= {"new", "contacted", "qualified"}
    leads.set_status("all")
    qtbot.waitUntil(lambda: not leads.loading and leads.model.rowCount() > 0)
    everything = leads.model.rowCount()
    leads.set_source("meta_lead_ad")
    qtbot.waitUntil(lambda: not leads.loading and {r.source for r in leads.model.rows()} == {"meta_lead_ad"})
    assert leads.model.rowCount() < everything
    assert all(t in ("Meta lead ad",) for t in leads.model.texts(leads.model.SOURCE))
    row = next(i for i, r in enumerate(leads.model.rows()) if r.patient_id)
    lead = leads.model.row(row)
    leads.table.selectRow(row)
    leads.table.setFocus()
    qtbot.keyClick(leads.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.page_key == "clients" and win.detail.client is not None)
    assert win.detail.client.id == lead.patient_id


# --- settings and the window -------------------------------------------------------------------


def test_settings_lists_and_adds_a_room(qtbot, ops_desk):
    win = owner_window(qtbot, ops_desk)
    win.action_registry[ActionId.GO_SETTINGS].trigger()
    settings = win.pages["settings"]
    qtbot.waitUntil(lambda: settings.settings is not None)
    rooms = settings.models["room"].rowCount()
    assert settings.models["service"].rowCount() > 30 and settings.models["staff"].rowCount() == 10
    settings.show_section("room")
    settings.edit("room", None)
    qtbot.waitUntil(lambda: settings.dialog is not None and settings.dialog.isVisible())
    dialog = settings.dialog
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)  # no name: refused, said next to it
    qtbot.waitUntil(lambda: dialog.errors["name"].isVisible())
    qtbot.keyClicks(dialog.widgets["name"], "Injection Room 3")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: settings.models["room"].rowCount() == rooms + 1)
    assert "Injection Room 3" in settings.models["room"].texts(0)


def test_the_window_remembers_its_geometry_and_last_screen(qtbot, ops_desk):
    win = owner_window(qtbot, ops_desk)
    win.resize(1000, 660)  # the offscreen screen is 800 x 800; the window's minimum is 1000 x 620
    win.show_page("leads")
    win.close()
    again = make_window(qtbot, ops_desk)
    assert (again.width(), again.height()) == (1000, 660) != (1280, 800)
    assert not again.locked  # the same desk: Olivia is still signed in
    assert again.page_key == "leads"


def test_a_keystroke_searches_at_once_and_typing_is_coalesced_while_a_query_runs(qtbot, ops_desk):
    win = owner_window(qtbot, ops_desk)
    win.show_page("clients")
    calls: list[str] = []
    original = ops_desk.search_patients

    def counting(text, **kwargs):
        calls.append(text)
        return original(text, **kwargs)

    ops_desk.search_patients = counting  # type: ignore[method-assign]
    qtbot.keyClick(win.search.field, Qt.Key.Key_M)
    assert calls == ["m"] and win.search.in_flight  # no debounce timer: the query is already queued
    qtbot.keyClicks(win.search.field, "aria")  # typed while "m" is still in flight
    qtbot.waitUntil(lambda: not win.search.searching)
    assert calls[-1] == "maria" and len(calls) < 5
    assert win.search._shown_text == "maria"
