"""Keeping the desk up to date with the clinic's text threads: unread counts on the rail and in
the Clients screen, and a desktop notification when a client's message arrives.

A :class:`MessageWatch` listens to ``changes_did_happen``. After any change to messages or read
receipts (a pull from the clinic server, a send or a read here) it reads the unread counts again
(coalesced: one read for a burst of changes). After messages changed it asks which inbound
messages arrived since it last looked (by arrival in this store, not by their time) and notifies:

- one message: "New text from Ana Lima"; several: "3 new messages", "From Ana Lima and Bea Cruz";
- the message's text only when this workstation's setting says so (off by default: on a shared
  screen the notification names the client and nothing else);
- while the screen is locked, not even the name: "New message", "Sign in to read it".

Notifications go to the system tray when there is one; otherwise to the status bar, with the
window asking for attention.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from app.services.messaging import Notice, Notices, Unread
from app.ui import theme
from app.ui.message_ops import MESSAGE, THREAD_SUBJECTS, MessageOps
from core.permissions import Permission

COALESCE_MS = 150


def notification(notices: Sequence[Notice], *, locked: bool) -> tuple[str, str]:
    """(title, text) of the notification for these new messages."""
    if locked:
        return "New message", "Sign in to read it."
    if len(notices) == 1:
        n = notices[0]
        kind = "Instagram message" if n.channel == "instagram" else "text"
        return f"New {kind} from {n.name}", n.text or "Open the client's Messages tab to read it."
    names = list(dict.fromkeys(n.name for n in notices))
    who = names[0] if len(names) == 1 else (
        f"{', '.join(names[:-1])} and {names[-1]}" if len(names) <= 3 else f"{names[0]}, {names[1]} and "
                                                                           f"{len(names) - 2} others")
    return f"{len(notices)} new messages", f"From {who}."


class Notifier:
    """Shows notifications (system tray, else status bar); remembers what it showed."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.shown: list[tuple[str, str]] = []
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(theme.icon("glowdesk", color=None), window)
            self.tray.setToolTip("Glowdesk")

    def show(self, title: str, text: str) -> None:
        self.shown.append((title, text))
        if self.tray is not None:
            self.tray.show()
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 8000)
        else:
            self.window.statusBar().showMessage(f"{title} \u2014 {text}", 15_000)
        QApplication.alert(self.window, 0)


class MessageWatch(QObject):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.notifier = Notifier(window)
        self.unread: Unread | None = None
        self._ops: MessageOps | None = None
        self._watermark: int | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COALESCE_MS)
        self._timer.timeout.connect(self.refresh)
        window.desk.ops.changes_did_happen.connect(self._changes)

    def start(self) -> None:
        """Someone signed in: counts for them, and notices from now on."""
        self._ops = MessageOps(self.window.desk)
        if not self.window.desk.can(Permission.PATIENT_READ):
            self._show_unread(Unread(0, {}, ()))
            return
        if self._watermark is None:
            self._ops.watermark(on_success=self._set_watermark)
        self._ops.unread(on_success=self._show_unread)

    def _set_watermark(self, value: int) -> None:
        if self._watermark is None:
            self._watermark = value

    def refresh(self) -> None:
        if self._ops is not None and self.window.desk.signed_in and self.window.isVisible():
            self._ops.unread(on_success=self._show_unread)

    def _changes(self, changes: set[str], _initiator: Any) -> None:
        if self._ops is None or not self.window.desk.signed_in or not self.window.isVisible():
            return  # nobody signed in, or the window closed (the app is stopping)
        if changes & THREAD_SUBJECTS:
            self._timer.start()
        if MESSAGE in changes and self._watermark is not None:
            with_text = self.window.ui_settings.show_message_text() and not self.window.locked
            self._ops.notices(self._watermark, with_text=with_text, on_success=self._notify)

    def _notify(self, notices: Notices) -> None:
        if self._watermark is not None and notices.watermark > self._watermark:
            self._watermark = notices.watermark
        if notices.notices:
            self.notifier.show(*notification(notices.notices, locked=self.window.locked))

    def _show_unread(self, unread: Unread) -> None:
        self.unread = unread
        self.window.rail.set_badge("clients", unread.total, tip=f"{unread.total} unread messages")
        clients = self.window.pages.get("clients")
        if clients is not None:
            clients.search.set_unread(unread.threads, self.window.desk.now())
