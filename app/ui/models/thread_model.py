"""A client's shared thread as a list: a day header before each day's messages, then each message
with who wrote it, when, on which channel, and its delivery state in the desk's words.

The bubble delegate in :mod:`app.ui.record.messages` paints the rows; everything a person reads
is worked out here (and tested without painting).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from app.services.messaging import Attachment, ThreadMessage
from app.ui.formatting import display_day, display_time

Index = QModelIndex | QPersistentModelIndex

KIND_ROLE = Qt.ItemDataRole.UserRole + 1  # "day" | "message"
INBOUND_ROLE = Qt.ItemDataRole.UserRole + 2
META_ROLE = Qt.ItemDataRole.UserRole + 3
STATE_ROLE = Qt.ItemDataRole.UserRole + 4
TONE_ROLE = Qt.ItemDataRole.UserRole + 5
MESSAGE_ID_ROLE = Qt.ItemDataRole.UserRole + 6
MEDIA_ROLE = Qt.ItemDataRole.UserRole + 7
CHANNEL_ROLE = Qt.ItemDataRole.UserRole + 8

CHANNELS = {"sms": "Text", "instagram": "Instagram DM"}
WAITING_OFFLINE = "Waiting to send \u2014 offline"


def delivery_state(m: ThreadMessage, *, online: bool | None, tz: tzinfo | None) -> tuple[str, str]:
    """(what the message's state reads, its tone) — empty for inbound messages."""
    if m.inbound:
        return "", ""
    if m.pending:
        if online:
            return "Sending\u2026", "muted"
        return WAITING_OFFLINE, "warn"
    status = m.status
    if status == "refused":
        return f"Not sent: {m.status_reason or 'refused by the clinic server.'}", "danger"
    if status in ("failed", "undelivered"):
        return f"Not delivered: {m.status_reason or 'the carrier did not deliver it.'}", "danger"
    if status == "queued" and m.send_after is not None:
        local = m.send_after.astimezone(tz) if tz else m.send_after
        return f"Held for quiet hours until {display_time(local)}", "info"
    if status == "queued":
        return "Queued", "muted"
    if status in ("sending", "submitted"):
        return "Sending", "muted"
    if status == "sent":
        return "Sent", "info"
    if status == "delivered":
        return "Delivered", "ok"
    if status == "read":
        return "Read", "ok"
    return status.replace("_", " ").capitalize(), "muted"


def media_line(media: Sequence[Attachment]) -> str:
    """``Photo attached (JPEG, 42 KB)``; several: ``3 attachments``."""
    if not media:
        return ""
    if len(media) > 1:
        return f"{len(media)} attachments \u2014 open to view"
    a = media[0]
    kind = "Photo" if a.content_type.startswith("image/") else "Video" if a.content_type.startswith("video/") \
        else "File"
    subtype = a.content_type.split("/")[-1].upper() if "/" in a.content_type else ""
    size = f"{max(1, round(a.size / 1024))} KB" if a.size < 1024 * 1024 else f"{a.size / (1024 * 1024):.1f} MB"
    what = ", ".join(p for p in (subtype, size) if p)
    return f"{kind} attached ({what}) \u2014 " + ("open to view" if a.cached else "open to download")


@dataclass(frozen=True)
class _Row:
    kind: str
    text: str
    message: ThreadMessage | None = None
    meta: str = ""
    state: str = ""
    tone: str = ""


class ThreadModel(QAbstractListModel):
    """``set_thread(messages, online=..., tz=..., today=...)``; rows oldest first."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []

    def set_thread(self, messages: Sequence[ThreadMessage], *, online: bool | None, tz: tzinfo | None,
                   today: date | None) -> None:
        rows: list[_Row] = []
        day: date | None = None
        for m in messages:
            local = m.occurred_at.astimezone(tz) if tz else m.occurred_at
            if local.date() != day:
                day = local.date()
                rows.append(_Row("day", display_day(day, today)))
            state, tone = delivery_state(m, online=online, tz=tz)
            meta = " \u00b7 ".join(p for p in (m.author, display_time(local), CHANNELS.get(m.channel, m.channel),
                                                 "marketing" if m.purpose == "marketing" else "",
                                                 f"from \u201c{m.template}\u201d" if m.template else "") if p)
            body = "\n".join(p for p in (m.body, media_line(m.media)) if p)
            rows.append(_Row("message", body, m, meta, state, tone))
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows = []
        self.endResetModel()

    def message(self, row: int) -> ThreadMessage | None:
        return self._rows[row].message if 0 <= row < len(self._rows) else None

    def messages(self) -> list[ThreadMessage]:
        return [r.message for r in self._rows if r.message is not None]

    def row_of(self, message_id: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.message is not None and r.message.id == message_id), -1)

    # --- QAbstractItemModel -----------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self._rows[index.row()].kind == "day":
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) or index.column() != 0:
            return None
        r = self._rows[index.row()]
        m = r.message
        if role == Qt.ItemDataRole.DisplayRole:
            return r.text
        if role == KIND_ROLE:
            return r.kind
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if m is None:
                return r.text
            return ". ".join(p for p in (("From " if m.inbound else "Sent by ") + r.meta, r.text, r.state) if p)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (m.status_reason or None) if m is not None else None
        if m is None:
            return None
        return {INBOUND_ROLE: m.inbound, META_ROLE: r.meta, STATE_ROLE: r.state, TONE_ROLE: r.tone,
                MESSAGE_ID_ROLE: m.id, MEDIA_ROLE: m.media, CHANNEL_ROLE: m.channel}.get(role)


def newest_inbound(messages: Sequence[ThreadMessage]) -> datetime | None:
    times = [m.occurred_at for m in messages if m.inbound]
    return max(times) if times else None
