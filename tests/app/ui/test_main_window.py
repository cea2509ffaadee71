"""The main window driven as a person would: type, wait, arrows, Enter, read the record."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.ui.main_window import MainWindow
from app.ui.models.patient_list_model import Column


def type_search(qtbot, window: MainWindow, text: str) -> None:
    window.search.field.setFocus()
    qtbot.keyClicks(window.search.field, text)
    qtbot.waitUntil(lambda: not window.search.searching, timeout=5000)


def names(window: MainWindow) -> list[str]:
    model = window.search.model
    return [model.index(r, Column.NAME).data() for r in range(model.rowCount())]


def test_title_and_status_bar_show_the_clinic_and_the_store(window, clinic):
    assert clinic.clinic_name in window.windowTitle()
    assert window.store_label.text() == f"Encrypted store \u00b7 {clinic.patients:,} patients"


def test_find_a_client_by_name_then_open_the_record_with_the_keyboard(window, qtbot, clinic):
    type_search(qtbot, window, "kate")
    assert names(window)[0] == "Katherine \u201cKate\u201d Lee"
    qtbot.keyClick(window.search.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.detail.record is not None)
    shown = window.detail.visible_text()
    assert "Katherine \u201cKate\u201d Lee" in shown
    assert "Allergies: Lidocaine, latex" in shown
    assert "Medical alerts: Pregnant \u2014 no neurotoxin" in shown
    assert "(415) 555-0123" in shown
    assert "VIP" in shown
    assert "membership" in shown and "Appointment texts" in shown
    assert "Mar 4, 1988" in shown


def test_arrow_down_then_enter_opens_the_second_result(window, qtbot):
    type_search(qtbot, window, "garcia")
    found = names(window)
    assert len(found) >= 2, found
    qtbot.keyClick(window.search.field, Qt.Key.Key_Down)
    expected_id = window.search.current_patient_id()
    assert window.search.table.currentIndex().row() == 1
    qtbot.keyClick(window.search.field, Qt.Key.Key_Enter)
    qtbot.waitUntil(lambda: window.detail.record is not None)
    assert window.detail.record.id == expected_id
    assert window.detail.record.name == found[1]
    assert "No allergies or medical alerts recorded" in window.detail.visible_text() or \
        window.detail.record.has_alerts


def test_three_phone_digits_find_nothing_but_four_find_the_client(window, qtbot, clinic):
    type_search(qtbot, window, "012")
    assert window.search.model.rowCount() == 0
    assert "at least 4 digits" in window.search.hint.text()
    qtbot.keyClicks(window.search.field, "3")
    qtbot.waitUntil(lambda: not window.search.searching, timeout=5000)
    assert window.search.model.rowCount() >= 1
    assert window.search.model.row_of(clinic.known.kate_id) >= 0


def test_formatted_phone_and_handle_and_email_find_the_client(window, qtbot, clinic):
    for query in ("(415) 555-01", "@katelee", "kate.lee@exa"):
        window.search.field.clear()
        type_search(qtbot, window, query)
        assert window.search.model.row_of(clinic.known.kate_id) >= 0, query


def test_only_the_latest_query_shows(window, qtbot, clinic):
    """Fast typing: every answer to an older query is dropped."""
    shown: list[int] = []
    window.search.results_shown.connect(shown.append)
    qtbot.keyClicks(window.search.field, "oma", delay=1)
    qtbot.waitUntil(lambda: not window.search.searching, timeout=5000)
    assert names(window) == ["Omar Haddad"]
    # a stale answer delivered now is ignored
    window.search._show_hits(window.search._generation - 1, "o", [])
    assert names(window) == ["Omar Haddad"]


def test_no_match_says_so_and_clearing_goes_back_to_the_hint(window, qtbot):
    type_search(qtbot, window, "zzqx")
    assert window.search.model.rowCount() == 0
    assert "No clients match" in window.search.hint.text()
    qtbot.keyClick(window.search.field, Qt.Key.Key_Escape)
    assert window.search.field.text() == ""
    assert "Start typing" in window.search.hint.text()


def test_ctrl_f_focuses_the_search_and_escape_closes_the_record(window, qtbot):
    type_search(qtbot, window, "omar")
    qtbot.keyClick(window.search.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.detail.record is not None)
    window.search.table.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.search.field
    assert window.search.field.selectedText() == "omar"
    qtbot.keyClick(window.search.field, Qt.Key.Key_Escape)  # clears the text
    qtbot.keyClick(window.search.field, Qt.Key.Key_Escape)  # closes the record
    assert window.detail.record is None


def test_enter_straight_after_typing_opens_the_fresh_first_hit(window, qtbot):
    window.search.field.setFocus()
    qtbot.keyClicks(window.search.field, "haddad")
    qtbot.keyClick(window.search.field, Qt.Key.Key_Return)  # before the debounce fired
    qtbot.waitUntil(lambda: window.detail.record is not None, timeout=5000)
    assert window.detail.record.name == "Omar Haddad"


def test_opening_a_record_is_an_audited_read(window, qtbot, clinic):
    changes: list[set[str]] = []
    window.desk.ops.changes_did_happen.connect(lambda c, _i: changes.append(c))
    type_search(qtbot, window, "omar")
    window.search.open_current()
    qtbot.waitUntil(lambda: window.detail.record is not None)
    assert {"audit"} in changes


def test_a_record_that_vanished_shows_a_clear_message(window, qtbot):
    window.open_patient("01900000-0000-7000-8000-00000000dead")
    qtbot.waitUntil(lambda: window.detail.currentIndex() == window.detail.ERROR)
    assert "no longer exists" in window.detail.visible_text()


def test_a_patient_change_refreshes_the_search_and_the_count(window, qtbot, clinic):
    from app.services.patients import PatientService

    desk = window.desk
    type_search(qtbot, window, "haddad")
    assert len(names(window)) == 1
    service = PatientService(desk.workspace.store, clinic_id=desk.clinic.id, region="US")
    with qtbot.waitSignal(window.search.results_shown, timeout=5000):
        desk.ops.run_db(lambda: service.create(actor=desk.actor, data={"first_name": "Nadia",
                                                                       "last_name": "Haddad"}),
                        on_success=None, writes={"patient"})
    qtbot.waitUntil(lambda: len(names(window)) == 2)
    qtbot.waitUntil(lambda: f"{clinic.patients + 1:,} patients" in window.store_label.text())


def test_actions_are_in_a_registry_with_shortcuts(window):
    from app.ui.actions import ActionId

    assert window.action_registry[ActionId.FIND].shortcut().toString() == "Ctrl+F"
    assert window.action_registry[ActionId.QUIT].shortcut().toString() == "Ctrl+Q"
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "&Go", "&Clients", "C&harts", "&Help"]
