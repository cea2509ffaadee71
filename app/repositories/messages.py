"""The shared text thread of each client: messages, read receipts, templates, fetched attachments.

- Messages are synced rows; this workstation only ever *inserts* an outbound one (it goes up in
  the outbox and the clinic server decides what happens to it). Rows the server made arrive by
  pull; rows of the local demo clinic are written here as if pulled (no outbox entry).
- A client's thread counts as read up to the newest ``up_to`` of its read receipts (append-only
  ``message_read`` rows, from any workstation); the inbound messages after it are unread.
- "New since" for notifications uses SQLite's ``rowid`` of the message table: it grows with every
  message this store receives, whatever the message's own time (a text that arrives after a day
  offline is new here even though it was sent yesterday). Messages are never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select

from app.db.models import Message, MessageAttachment, MessageRead, MessageTemplate, OutboxEntry, Patient
from app.db.types import iso_utc
from app.repositories import rows
from app.repositories.clinic import bulk_insert
from app.repositories.context import Ctx

INBOUND = "inbound"
OUTBOUND = "outbound"


# --- the thread ---------------------------------------------------------------------------------


def thread(ctx: Ctx, patient_id: str, *, limit: int = 300) -> list[Message]:
    """The client's newest ``limit`` messages, oldest first."""
    newest = list(ctx.session.execute(
        select(Message).where(Message.patient_id == patient_id, Message.deleted.is_(False))
        .order_by(Message.occurred_at.desc(), Message.id.desc()).limit(limit)
    ).scalars())
    newest.reverse()
    return newest


def for_timeline(ctx: Ctx, patient_id: str, *, before: datetime | None = None, limit: int = 100) -> list[Message]:
    """The client's messages newest first, older than ``before`` (the record's timeline)."""
    query = select(Message).where(Message.patient_id == patient_id, Message.deleted.is_(False))
    if before is not None:
        query = query.where(Message.occurred_at < before)
    return list(ctx.session.execute(query.order_by(Message.occurred_at.desc(), Message.id.desc()).limit(limit))
                .scalars())


def count_for(ctx: Ctx, patient_id: str) -> int:
    return int(ctx.session.execute(
        select(func.count()).select_from(Message).where(Message.patient_id == patient_id,
                                                        Message.deleted.is_(False))).scalar_one())


def pending_ids(ctx: Ctx, message_ids: Sequence[str]) -> set[str]:
    """Those of these messages whose insert is still in the outbox (not yet answered by the server)."""
    found: set[str] = set()
    for i in range(0, len(message_ids), 500):
        chunk = list(message_ids[i : i + 500])
        # by entity_id alone, so that SQLite walks that index (a few rows) rather than the
        # acked_at one (every pending entry of a busy or never-synced store)
        for entity_id, entity, acked_at in ctx.session.execute(
            select(OutboxEntry.entity_id, OutboxEntry.entity, OutboxEntry.acked_at)
            .where(OutboxEntry.entity_id.in_(chunk))
        ):
            if entity == "message" and acked_at is None:
                found.add(entity_id)
    return found


def add_outbound(ctx: Ctx, message: Message) -> Message:
    """A message written here: the row and its outbox entry (the server sends it)."""
    return rows.insert(ctx, message)


def add_received(ctx: Ctx, messages: Iterable[Message | dict[str, Any]]) -> int:
    """Messages the server made (the local demo clinic), stored as pulled: no outbox entry."""
    fields = rows.data_fields(Message)
    batch: list[dict[str, Any]] = []
    now = ctx.now()
    for m in messages:
        source = m if isinstance(m, dict) else {k: getattr(m, k) for k in ("id", *fields)}
        values = {k: source.get(k) for k in fields}
        values.update(id=source["id"], version=1, hlc=str(ctx.hlc.now()), deleted=False, created_at=now,
                      updated_at=now)
        values.setdefault("media", [])
        batch.append(values)
    if batch:
        ctx.session.execute(sa.insert(Message), batch)
        ctx.changed.add("message")
    return len(batch)


# --- reading --------------------------------------------------------------------------------------


def read_up_to(ctx: Ctx, patient_id: str) -> MessageRead | None:
    """The newest read receipt of the client's thread."""
    return ctx.session.execute(
        select(MessageRead).where(MessageRead.patient_id == patient_id, MessageRead.deleted.is_(False))
        .order_by(MessageRead.up_to.desc(), MessageRead.read_at.desc()).limit(1)
    ).scalar_one_or_none()


def add_read(ctx: Ctx, receipt: MessageRead) -> MessageRead:
    return rows.insert(ctx, receipt)


def add_reads(ctx: Ctx, receipts: Iterable[MessageRead | dict[str, Any]]) -> int:
    """Read receipts as pulled (the local demo clinic): no outbox entry."""
    fields = rows.data_fields(MessageRead)
    batch = []
    now = ctx.now()
    for r in receipts:
        source = r if isinstance(r, dict) else {k: getattr(r, k) for k in ("id", *fields)}
        batch.append({**{k: source.get(k) for k in fields}, "id": source["id"], "version": 1,
                      "hlc": str(ctx.hlc.now()), "deleted": False, "created_at": now, "updated_at": now})
    if batch:
        ctx.session.execute(sa.insert(MessageRead), batch)
        ctx.changed.add("message_read")
    return len(batch)


def _read_marks() -> Any:
    return (
        select(MessageRead.patient_id.label("patient_id"), func.max(MessageRead.up_to).label("up_to"))
        .where(MessageRead.deleted.is_(False)).group_by(MessageRead.patient_id).subquery()
    )


def _unread_query() -> Any:
    marks = _read_marks()
    return (
        select(Message.patient_id, func.count().label("unread"), func.max(Message.occurred_at).label("last_at"),
               func.max(Message.channel).label("channel"))
        .join(Patient, sa.and_(Patient.id == Message.patient_id, Patient.deleted.is_(False)))
        .outerjoin(marks, marks.c.patient_id == Message.patient_id)
        .where(Message.direction == INBOUND, Message.deleted.is_(False),
               sa.or_(marks.c.up_to.is_(None), Message.occurred_at > marks.c.up_to))
        .group_by(Message.patient_id)
    )


def unread_counts(ctx: Ctx) -> dict[str, int]:
    """``{patient id: unread inbound messages}`` for every client with any."""
    return {pid: int(n) for pid, n, _last, _channel in ctx.session.execute(_unread_query())}


def unread_threads(ctx: Ctx, *, limit: int = 50) -> list[tuple[str, str, str | None, int, datetime, str]]:
    """(patient id, first, preferred, unread, newest unread at, channel) of the unread threads,
    newest first (names only: no message text)."""
    unread = _unread_query().subquery()
    query = (
        select(Patient.id, Patient.first_name, Patient.last_name, Patient.preferred_name, unread.c.unread,
               unread.c.last_at, unread.c.channel)
        .join(unread, unread.c.patient_id == Patient.id).order_by(unread.c.last_at.desc()).limit(limit)
    )
    out = []
    for pid, first, last, preferred, n, last_at, channel in ctx.session.execute(query):
        at = datetime.fromisoformat(str(last_at).replace("Z", "+00:00")) if isinstance(last_at, str) else last_at
        out.append((pid, f"{preferred or first} {last}".strip(), preferred, int(n), at, str(channel)))
    return out


def newest_rowid(ctx: Ctx) -> int:
    return int(ctx.session.execute(sa.text("SELECT coalesce(max(rowid), 0) FROM message")).scalar_one())


def inbound_after(ctx: Ctx, rowid: int, *, limit: int = 50) -> list[tuple[int, Message]]:
    """Inbound messages this store received after ``rowid`` (see the module docstring)."""
    rows_ = ctx.session.execute(
        sa.text("SELECT rowid, id FROM message WHERE rowid > :rowid AND direction = :inbound AND deleted = 0 "
                "ORDER BY rowid LIMIT :limit"), {"rowid": rowid, "inbound": INBOUND, "limit": limit}
    ).all()
    if not rows_:
        return []
    by_id = {m.id: m for m in ctx.session.execute(select(Message).where(Message.id.in_([r[1] for r in rows_])))
             .scalars()}
    return [(int(r[0]), by_id[r[1]]) for r in rows_ if r[1] in by_id]


# --- templates ----------------------------------------------------------------------------------


def templates(ctx: Ctx, clinic_id: str, *, active_only: bool = True) -> list[MessageTemplate]:
    query = select(MessageTemplate).where(MessageTemplate.clinic_id == clinic_id,
                                          MessageTemplate.deleted.is_(False))
    if active_only:
        query = query.where(MessageTemplate.active.is_(True))
    return list(ctx.session.execute(query.order_by(MessageTemplate.name)).scalars())


def template(ctx: Ctx, template_id: str) -> MessageTemplate | None:
    row = ctx.session.get(MessageTemplate, template_id)
    return None if row is None or row.deleted else row


def create_templates(ctx: Ctx, items: Iterable[MessageTemplate]) -> int:
    return bulk_insert(ctx, MessageTemplate, items)


# --- attachments --------------------------------------------------------------------------------


def attachment(ctx: Ctx, media_id: str) -> MessageAttachment | None:
    return ctx.session.get(MessageAttachment, media_id)


def cached_media(ctx: Ctx, media_ids: Sequence[str]) -> set[str]:
    if not media_ids:
        return set()
    return set(ctx.session.execute(
        select(MessageAttachment.media_id).where(MessageAttachment.media_id.in_(list(media_ids)))).scalars())


def keep_attachment(ctx: Ctx, *, media_id: str, message_id: str, content_type: str, data: bytes) -> None:
    existing = ctx.session.get(MessageAttachment, media_id)
    if existing is not None:
        return
    ctx.session.add(MessageAttachment(media_id=media_id, message_id=message_id, content_type=content_type[:100],
                                      size=len(data), data=data, fetched_at=ctx.now()))


def iso(value: datetime) -> str:
    return iso_utc(value)
