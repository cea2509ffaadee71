"""Writing a message: a template picker, the channel, the purpose, the text, and a live preview
of what goes out.

Picking a template puts its text in the box as this client will receive it: rendered with
core.templates for this client (staff see and can edit the words that go out, never template
code); the message keeps the template's id. Text typed by hand may use ``{{ first_name }}``-style
variables and ``{% if %}`` conditionals too: under the box the preview then shows the text as
this client will receive it. Beside Send: its length, SMS
segments and encoding (core.sms) for a text or its length for a DM, and says why it cannot be
sent when it cannot: no mobile number, no consent recorded, marketing without the permission, a
template mistake, too long; for an Instagram DM: no Instagram account on the record, Instagram
not connected for the clinic, or more than 24 hours since the client's last Instagram message
(Meta's window; the clinic server is the judge, this is the early warning).

The channel picker shows when the client has an Instagram account on their record; it starts on
the channel of the client's last message to the clinic. Send writes the message locally
(Ctrl+Enter too) with its channel; it goes up through the outbox.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.services.messaging import DM_MAX_CHARS, INSTAGRAM, MARKETING, SMS, TRANSACTIONAL, Thread
from app.ui import theme
from app.ui.errors import user_message
from app.ui.formatting import display_when
from app.ui.widgets import label, row
from core.permissions import Permission
from core.sms import MAX_BODY_CHARS, segment_info
from core.templates import TemplateProblem, render_template

PURPOSES = ((TRANSACTIONAL, "Appointments & service"), (MARKETING, "Marketing"))
CHANNELS = ((SMS, "Text message"), (INSTAGRAM, "Instagram DM"))
NO_TEMPLATE = "Insert a template\u2026"


class _TextBox(QPlainTextEdit):
    send_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and event.modifiers() & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.MetaModifier):
            self.send_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class ComposeBox(QFrame):
    """``send_requested(body, purpose, template_id, channel)`` when the person sends a message
    that can go."""

    send_requested = Signal(str, str, object, str)

    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ComposeBox")
        self.desk = desk
        self.thread: Thread | None = None
        self._template_id: str | None = None
        self._template_missing: tuple[str, ...] = ()  # variables the inserted template had no value for
        self._rendered = ""
        self.templates = QComboBox()
        self.templates.setObjectName("TemplatePicker")
        self.templates.setMinimumWidth(220)
        self.templates.activated.connect(self._template_picked)
        self.purpose = QComboBox()
        self.purpose.setObjectName("PurposePicker")
        for value, text in PURPOSES:
            self.purpose.addItem(text, value)
        self.purpose.currentIndexChanged.connect(lambda _i: self.update_preview())
        self.channel = QComboBox()
        self.channel.setObjectName("ChannelPicker")
        self.channel.setAccessibleName("Send as")
        for value, text in CHANNELS:
            self.channel.addItem(text, value)
        self.channel.currentIndexChanged.connect(lambda _i: self.update_preview())
        self.can_market = desk.can(Permission.MESSAGE_MARKETING)
        self.purpose.model().item(1).setEnabled(self.can_market)  # type: ignore[attr-defined]
        if not self.can_market:
            self.purpose.setItemData(1, "Only owners and managers send marketing texts.",
                                     Qt.ItemDataRole.ToolTipRole)
        self.text = _TextBox()
        self.text.setObjectName("ComposeText")
        self.text.setTabChangesFocus(True)
        self.text.setFixedHeight(84)
        self.text.textChanged.connect(self.update_preview)
        self.text.send_requested.connect(self.send)
        self.preview = label("", name="ComposePreview", wrap=True, selectable=True)
        self.count = label("", name="ComposeCount")
        self.problem = label("", name="ComposeProblem", wrap=True)
        self.send_button = QPushButton(theme.icon("message", "on-accent"), "Send")
        self.send_button.setObjectName("SendButton")
        self.send_button.setProperty("kind", "primary")
        self.send_button.setToolTip("Send the text (Ctrl+Enter)")
        self.send_button.clicked.connect(self.send)
        self.send_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.send)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(6)
        layout.addLayout(row(self.templates, self.channel, self.purpose, None, stretch_end=False))
        layout.addWidget(self.text)
        layout.addWidget(self.preview)
        self.problem.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bottom = row(self.problem, None, self.count, self.send_button, stretch_end=False, spacing=16)
        bottom.setStretch(0, 1)
        layout.addLayout(bottom)
        self.set_thread(None)

    # --- content ------------------------------------------------------------------------------

    def set_thread(self, thread: Thread | None) -> None:
        """The client being written to (keeps what is typed when the same client reloads)."""
        same = thread is not None and self.thread is not None and thread.patient_id == self.thread.patient_id
        self.thread = thread
        if not same:
            self.text.blockSignals(True)
            self.text.clear()
            self.text.blockSignals(False)
            self._template_id = None
            self._template_missing = ()
        self._set_channels(thread, keep=same)
        self.templates.blockSignals(True)
        self.templates.clear()
        self.templates.addItem(NO_TEMPLATE, None)
        for t in thread.templates if thread else ():
            self.templates.addItem(t.name + ("  (marketing)" if t.purpose == MARKETING else ""), t.id)
        self.templates.setCurrentIndex(max(self.templates.findData(self._template_id), 0))
        self.templates.blockSignals(False)
        if thread is not None:
            self.text.setPlaceholderText(f"Write a text to {thread.variables.get('first_name') or thread.client_name}"
                                         "\u2026  {{ first_name }} and the other template variables work here too.")
        self.setEnabled(thread is not None)
        self.update_preview()

    def _set_channels(self, thread: Thread | None, *, keep: bool) -> None:
        """The channel picker: shown for a client with an Instagram account (id or handle); a new
        client starts on the channel of their last message (Instagram when they have no number)."""
        has_instagram = thread is not None and bool(thread.instagram_id or thread.instagram_handle)
        self.channel.setVisible(has_instagram)
        if keep and has_instagram:
            return
        choice = SMS
        if thread is not None and has_instagram and (thread.last_inbound_channel == INSTAGRAM or not thread.phone):
            choice = INSTAGRAM
        self.channel.blockSignals(True)
        self.channel.setCurrentIndex(max(self.channel.findData(choice), 0))
        self.channel.blockSignals(False)

    def _template_picked(self, index: int) -> None:
        template_id = self.templates.itemData(index)
        if template_id is None or self.thread is None:
            return
        chosen = next((t for t in self.thread.templates if t.id == template_id), None)
        if chosen is None:
            return
        try:
            rendered = render_template(chosen.body, self.thread.variables)
        except TemplateProblem as exc:  # checked when saved: only a template from an older version
            self.problem.setText(f"The template \u201c{chosen.name}\u201d cannot be used: {exc.user_message}")
            self.problem.setVisible(True)
            self.templates.setCurrentIndex(max(self.templates.findData(self._template_id), 0))
            return
        self._template_id = chosen.id
        self._template_missing = rendered.missing
        self.text.setPlainText(rendered.text)  # first: an empty box means "not from a template"
        self.purpose.setCurrentIndex(1 if chosen.purpose == MARKETING and self.can_market else 0)
        self.text.moveCursor(QTextCursor.MoveOperation.End)
        self.text.setFocus()

    @property
    def purpose_value(self) -> str:
        return str(self.purpose.currentData() or TRANSACTIONAL)

    @property
    def channel_value(self) -> str:
        if self.channel.isHidden():  # no Instagram account on the record: texts only
            return SMS
        return str(self.channel.currentData() or SMS)

    # --- the preview --------------------------------------------------------------------------

    def update_preview(self) -> None:
        source = self.text.toPlainText()
        thread = self.thread
        problem = ""
        self._rendered = ""
        if thread is None:
            self._show("", "", "", False)
            return
        missing: tuple[str, ...] = ()
        try:
            rendered = render_template(source, thread.variables)
            self._rendered, missing = rendered.text, rendered.missing
        except TemplateProblem as exc:
            problem = exc.user_message
        if self.channel_value == INSTAGRAM:
            count = f"{len(self._rendered)} / {DM_MAX_CHARS} characters" if self._rendered else ""
        else:
            info = segment_info(self._rendered)
            count = info.summary
            if info.encoding == "UCS-2" and info.non_gsm:
                shown = " ".join(info.non_gsm[:4])
                count += f" \u00b7 {shown} {'needs' if len(info.non_gsm) == 1 else 'need'} UCS-2"
        templated = "{{" in source or "{%" in source
        preview = f"Sends: {self._rendered}" if templated and self._rendered else ""
        if not source.strip():
            self._template_id, self._template_missing = None, ()  # emptied: no longer from a template
        if self._template_id is not None:
            missing = tuple(dict.fromkeys((*self._template_missing, *missing)))
        if not problem:
            problem = self._why_not(thread, missing)
        self._show(preview, count, problem, not problem and bool(self._rendered.strip()))

    def _why_not(self, thread: Thread, missing: tuple[str, ...]) -> str:
        name = thread.variables.get("first_name") or thread.client_name
        if self.channel_value == INSTAGRAM:
            return self._why_not_dm(thread, name, missing)
        if not thread.phone:
            if thread.instagram_id:
                return f"{name} has no mobile number on their record; send an Instagram DM instead."
            return f"{name} has no mobile number on their record, so they cannot be texted."
        if self.purpose_value == MARKETING:
            if not self.can_market:
                return "Only owners and managers may send marketing texts."
            if not thread.marketing_consent:
                return f"{name} has not agreed to marketing texts, so the clinic server would refuse this one."
        elif not thread.transactional_consent:
            return (f"{name} has not agreed to appointment and service texts (or replied STOP), so the clinic "
                    "server would refuse this one.")
        if len(self._rendered) > MAX_BODY_CHARS:
            return f"A text can be at most {MAX_BODY_CHARS} characters; this one has {len(self._rendered)}."
        return self._missing(missing)

    def _why_not_dm(self, thread: Thread, name: str, missing: tuple[str, ...]) -> str:
        if not thread.instagram_id:
            return (f"{name}'s Instagram account is not linked to their record yet (Glowdesk learns it when they "
                    "send the clinic a DM), so they cannot be sent a DM.")
        if thread.instagram_connected is False:
            return ("Instagram is not connected for this clinic, so DMs cannot be sent from Glowdesk; an "
                    "administrator connects it on the clinic server.")
        if self.purpose_value == MARKETING and not self.can_market:
            return "Only owners and managers may send marketing messages."
        if thread.last_instagram_at is None:
            return (f"{name} has not sent the clinic an Instagram message, and Instagram only allows replies to "
                    "people who wrote first" + ("; text them instead." if thread.phone else "."))
        if not thread.dm_window_open(self.desk.now()):
            when = display_when(thread.last_instagram_at, self.desk.tz(), self.desk.today())
            return (f"Instagram only allows replies within 24 hours of {name}'s last message (theirs was {when}), "
                    "so Instagram would refuse this DM" + ("; text them instead." if thread.phone else "."))
        if len(self._rendered) > DM_MAX_CHARS:
            return f"An Instagram message can be at most {DM_MAX_CHARS} characters; this one has {len(self._rendered)}."
        return self._missing(missing)

    @staticmethod
    def _missing(missing: tuple[str, ...]) -> str:
        if missing:
            names = ", ".join("{{ " + m + " }}" for m in missing)
            return f"No value for {names} for this client: it is left out. Check the text before sending."
        return ""

    def _show(self, preview: str, count: str, problem: str, can_send: bool) -> None:
        self.preview.setText(preview)
        self.preview.setVisible(bool(preview))
        self.count.setText(count)
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        # a missing variable is a warning, not a refusal
        blocking = bool(problem) and not problem.startswith("No value for")
        self.send_button.setEnabled(bool(self._rendered.strip()) and (can_send or not blocking))

    # --- sending ------------------------------------------------------------------------------

    def send(self) -> None:
        if not self.send_button.isEnabled() or self.thread is None:
            return
        self.send_requested.emit(self._rendered, self.purpose_value, self._template_id, self.channel_value)

    def sent(self) -> None:
        """The message was written: start afresh (on the same channel: the conversation goes on)."""
        self.text.clear()
        self._template_id = None
        self._template_missing = ()
        self.templates.setCurrentIndex(0)
        self.purpose.setCurrentIndex(0)

    def failed(self, exc: BaseException) -> None:
        """Nothing was written: say why, keep the text."""
        self.problem.setText(user_message(exc))
        self.problem.setVisible(True)
