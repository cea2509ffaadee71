"""The app's life in-process, as on a workstation with a screen: start-up dialog, window, errors."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from app.ui import app as app_module
from app.ui.app import LaunchOptions, run
from app.ui.main_window import MainWindow


def _top_level(kind):
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]


def test_the_window_opens_on_the_clinic_and_closing_it_ends_the_app(qapp, clinic, monkeypatch):
    monkeypatch.setattr(app_module, "is_headless", lambda: False)  # as if on a real screen
    seen: list[str] = []

    def close_when_shown():
        windows = _top_level(MainWindow)
        if not windows:
            QTimer.singleShot(20, close_when_shown)
            return
        seen.append(windows[0].windowTitle())
        windows[0].close()

    QTimer.singleShot(0, close_when_shown)
    code = run(LaunchOptions(home=clinic.home), out=seen.append, err=seen.append)
    assert code == 0
    assert seen == [f"{clinic.clinic_name} \u2014 Glowdesk"]
    assert not _top_level(QProgressDialog)


def test_a_store_error_at_start_is_a_message_box_and_exit_1(qapp, clinic, tmp_path, monkeypatch):
    monkeypatch.setattr(app_module, "is_headless", lambda: False)
    wrong = tmp_path / "wrong.key"
    wrong.write_text("cd" * 32 + "\n", encoding="ascii")
    monkeypatch.setenv("GLOWDESK_KEY_FILE", str(wrong))
    boxes: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda _parent, title, text: boxes.append((title, text))))
    lines: list[str] = []
    code = run(LaunchOptions(home=clinic.home), out=lines.append, err=lines.append)
    assert code == 1
    assert lines == []
    assert len(boxes) == 1
    assert boxes[0][0] == "Glowdesk could not open"
    assert "database key does not match" in boxes[0][1]


def test_an_empty_data_folder_opens_the_first_run_screen_and_quit_ends_the_app(qapp, tmp_path, key_file,
                                                                                 monkeypatch):
    from PySide6.QtTest import QTest

    from app.ui.enroll_dialog import FirstRunDialog

    monkeypatch.setattr(app_module, "is_headless", lambda: False)
    seen: list[str] = []

    def quit_when_shown():
        dialogs = _top_level(FirstRunDialog)
        if not dialogs:
            QTimer.singleShot(20, quit_when_shown)
            return
        seen.append(dialogs[0].windowTitle())
        assert not _top_level(MainWindow)
        QTest.keyClicks(dialogs[0].code, "abc")
        QTest.keyClick(dialogs[0].code, Qt.Key.Key_Escape)  # Esc on the connect step: Quit

    QTimer.singleShot(0, quit_when_shown)
    code = run(LaunchOptions(home=tmp_path / "empty"), out=seen.append, err=seen.append)
    assert code == 0
    assert seen == ["Set up this workstation \u2014 Glowdesk"]
