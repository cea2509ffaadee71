"""Tables of the messaging context: ``message`` (the thread and the outbox), ``message_media``
(MMS and DM attachments, stored sealed) and ``sms_opt_out`` (Twilio-style opt-out per number).

This table is the server's own record of every message (addresses, attempts, the outbox). The
desktops see each message of a client as a ``message`` sync row (core's catalogue), which
:func:`sync_server.messaging.service.mirror` keeps up to date with every change here; each is
also noted on the client's timeline as a ``message.*`` activity.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.orm import Base, ClinicOwned, JSONType, clinic_id_column


class Message(ClinicOwned, Base):
    """One SMS or Instagram message, either way.

    Outbound ``status``: ``queued`` → ``sending`` (a send attempt started) → ``sent`` →
    ``delivered`` | ``undelivered`` | ``failed``, or ``refused`` (consent, quiet hours past
    their window, no number: never reached Twilio; for a DM, no Instagram account, Instagram
    not connected, Meta's 24-hour window closed: never reached Meta) with ``status_reason``.
    An Instagram DM goes ``queued`` → ``sending`` → ``sent`` (Meta reports no delivery). Delivery callbacks
    never move a message back from a final state. Inbound: ``received``.
    ``provider_sid`` is Twilio's message SID (or the Instagram message id).
    """

    __tablename__ = "message"
    __table_args__ = (
        Index(None, "clinic_id", "patient_id", "created_at"),
        Index(None, "clinic_id", "provider_sid"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_id: Mapped[str | None] = mapped_column(String(36))
    lead_id: Mapped[str | None] = mapped_column(String(36))
    channel: Mapped[str] = mapped_column(String(12))
    direction: Mapped[str] = mapped_column(String(10))
    #: outbound: transactional | marketing (decides the consent and quiet hours that apply)
    purpose: Mapped[str | None] = mapped_column(String(20))
    #: what made it: manual | lead_ack | help_reply | inbound
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    media: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    from_addr: Mapped[str | None] = mapped_column(String(64))
    to_addr: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    status_reason: Mapped[str | None] = mapped_column(String(300))
    error_code: Mapped[str | None] = mapped_column(String(12))
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    author_staff_id: Mapped[str | None] = mapped_column(String(36))
    #: the clinic template the text was written from (a ``message_template`` sync row), if any
    template_id: Mapped[str | None] = mapped_column(String(36))
    #: marketing held for quiet hours: not sent before this time
    send_after: Mapped[datetime | None]
    attempt_started_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class MessageMedia(ClinicOwned, Base):
    """An attachment of a message: fetched from the provider, stored sealed in the server home."""

    __tablename__ = "message_media"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]


class SmsOptOut(Base):
    """Whether a number has opted out of a clinic's texts (STOP / START), as Twilio keeps it.

    Checked before any text leaves the server, whether or not the number is on a client record.
    """

    __tablename__ = "sms_opt_out"

    clinic_id: Mapped[str] = clinic_id_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean)
    keyword: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime]
