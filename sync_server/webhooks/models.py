"""Tables of the webhooks context: ``webhook_event``, the inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.orm import Base, ClinicOwned


class WebhookEvent(ClinicOwned, Base):
    """One inbound event, stored once it passed its provider's signature check.

    ``(source, external_id)`` is unique: the provider's own id for the event (a Meta leadgen id,
    an Instagram message id, a Twilio message SID, a status as ``SID:status``, a web form's
    submission id), so a repeated delivery stores nothing new and queues nothing. A job
    (``webhook.process``) handles it; ``processed_at`` is set in the same transaction as the
    handling's effects, so an event is handled exactly once even across crashes and retries.

    ``sender_key`` (a keyed hash of the sender's address, web forms) and ``flag`` (``honeypot``,
    ``rate_limited``) serve spam protection: a flagged submission is kept and processed into a
    lead marked for review, never dropped.
    """

    __tablename__ = "webhook_event"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index(None, "clinic_id", "source", "sender_key", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(30))
    external_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    sender_key: Mapped[str | None] = mapped_column(String(64))
    flag: Mapped[str | None] = mapped_column(String(40))
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(200))
