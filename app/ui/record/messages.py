"""The record's Messages tab: the client's one shared thread (texts and Instagram DMs together,
oldest first, newest at the bottom) and the compose box.

The thread is read when the record opens and again whenever messages or read receipts change
(``changes_did_happen``: a send here, a pull bringing a reply or a delivery state). While the
tab is on screen the thread counts as read: opening it (or a new message arriving while it is
open) writes a read receipt up to the newest client message shown, for the whole team.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QModelIndex, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QListView,
    QMessageBox,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.messaging import Thread
from app.ui.errors import user_message
from app.ui.formatting import display_when
from app.ui.message_ops import THREAD_SUBJECTS, MessageOps
from app.ui.models.thread_model import ThreadModel
from app.ui.operations import Op
from app.ui.record.bubbles import BubbleDelegate
from app.ui.record.compose import ComposeBox
from app.ui.text_fit import ElidedLabel
from app.ui.widgets import label, row


class MessagesPanel(QWidget):
    #: the thread's unread count changed (for the tab's title and the record header)
    unread_changed = Signal(int)

    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MessagesPanel")
        self.desk = desk
        self.ops = MessageOps(desk)
        self.patient_id: str | None = None
        self.thread: Thread | None = None
        self._op: Op | None = None
        self._generation = 0
        self.model = ThreadModel(self)
        self.list = QListView()
        self.list.setObjectName("ThreadList")
        self.list.setModel(self.model)
        self.list.setItemDelegate(BubbleDelegate(self.list))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setWordWrap(True)
        self.list.clicked.connect(self._clicked)
        self.empty = label("", name="PlaceholderDetail", wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.empty.setContentsMargins(0, 32, 0, 0)
        self._pages = QStackedWidget()
        self._pages.addWidget(self.list)
        self._pages.addWidget(self.empty)
        self.heading = ElidedLabel("Shared thread \u00b7 texts and Instagram DMs, seen by the whole team")
        self.heading.setProperty("kind", "muted")
        self.read_note = label("", name="ThreadReadNote", kind="muted")
        self.compose = ComposeBox(desk)
        self.compose.send_requested.connect(self._send)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(8)
        top = row(stretch_end=False, spacing=16)
        top.addWidget(self.heading, 1)  # cut first (the full line in its tooltip): who read it matters more
        top.addWidget(self.read_note)
        layout.addLayout(top)
        layout.addWidget(self._pages, 1)
        layout.addWidget(self.compose)
        desk.ops.changes_did_happen.connect(self._changes)

    # --- loading ------------------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        return self._op is not None and not self._op.done

    def show_patient(self, patient_id: str) -> None:
        if patient_id != self.patient_id:
            self.thread = None
            self.model.clear()
            self.compose.set_thread(None)
        self.patient_id = patient_id
        self.refresh()

    def refresh(self) -> None:
        if self.patient_id is None:
            return
        if self._op is not None and not self._op.done:
            self._op.cancel()
        self._generation += 1
        generation, patient_id = self._generation, self.patient_id
        self._op = self.ops.thread(patient_id, on_success=lambda t: self._show(generation, t),
                                   on_failure=lambda exc: self._failed(generation, exc))

    def reset(self) -> None:
        self._generation += 1
        self.patient_id = self.thread = None
        self.model.clear()
        self.compose.set_thread(None)

    def _changes(self, changes: set[str], _initiator: Any) -> None:
        if self.patient_id is not None and changes & THREAD_SUBJECTS and self.window().isVisible():
            self.refresh()

    def _show(self, generation: int, thread: Thread) -> None:
        if generation != self._generation:
            return
        at_bottom = self.thread is None or self._scrolled_to_bottom()
        self.thread = thread
        self.model.set_thread(thread.messages, online=thread.online, tz=self.desk.tz(), today=self.desk.today())
        self.compose.set_thread(thread)
        if thread.messages:
            self._pages.setCurrentWidget(self.list)
            if at_bottom:
                self.list.scrollToBottom()
        else:
            self.empty.setText(f"No messages with {thread.client_name} yet. Texts and Instagram DMs will show "
                               "here, shared by the whole team.")
            self._pages.setCurrentWidget(self.empty)
        self.read_note.setText(
            f"Read by {thread.read_by} \u00b7 {display_when(thread.read_at, self.desk.tz(), self.desk.today())}"
            if thread.read_by and thread.read_at and not thread.unread else "")
        self.unread_changed.emit(thread.unread)
        self.mark_read_if_shown()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.empty.setText(user_message(exc))
            self._pages.setCurrentWidget(self.empty)

    def _scrolled_to_bottom(self) -> bool:
        bar = self.list.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    # --- read ---------------------------------------------------------------------------------

    def mark_read_if_shown(self) -> None:
        """Someone is looking at the thread: it is read up to the newest client message."""
        thread = self.thread
        if thread is None or not thread.unread or thread.newest_inbound_at is None or not self.isVisible():
            return
        window = self.window()
        if getattr(window, "locked", False):
            return
        self.ops.mark_read(thread.patient_id, thread.newest_inbound_at)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.mark_read_if_shown()

    # --- sending ------------------------------------------------------------------------------

    def _send(self, body: str, purpose: str, template_id: str | None, channel: str) -> None:
        if self.patient_id is None:
            return
        self.compose.send_button.setEnabled(False)
        self.ops.send(self.patient_id, body, purpose=purpose, template_id=template_id, channel=channel,
                      on_success=lambda _id: self.compose.sent(), on_failure=self._send_failed)

    def _send_failed(self, exc: BaseException) -> None:
        self.compose.update_preview()  # Send again when the text can still go
        self.compose.failed(exc)

    # --- attachments --------------------------------------------------------------------------

    def _clicked(self, index: QModelIndex) -> None:
        message = self.model.message(index.row())
        if message is None or not message.media or self.patient_id is None:
            return
        first = message.media[0]
        self.ops.attachment(self.patient_id, message.id, first.media_id, first.content_type,
                            on_success=lambda got: self._show_attachment(got),
                            on_failure=lambda exc: QMessageBox.warning(self, "Glowdesk", user_message(exc)))

    def _show_attachment(self, got: tuple[bytes, str]) -> None:
        data, content_type = got
        dialog = QDialog(self)
        dialog.setObjectName("AttachmentDialog")
        dialog.setWindowTitle("Attachment")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(dialog)
        picture = QPixmap()
        if content_type.startswith("image/") and picture.loadFromData(QByteArray(data)):
            shown = label("")
            shown.setPixmap(picture.scaled(720, 720, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.SmoothTransformation))
            scroll = QScrollArea()
            scroll.setWidget(shown)
            layout.addWidget(scroll)
        else:
            layout.addWidget(label(f"This attachment ({content_type}, {len(data):,} bytes) cannot be shown here.",
                                   wrap=True))
        dialog.resize(760, 760)
        dialog.open()
