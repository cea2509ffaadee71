"""The desktop's tables (SQLAlchemy 2 typed models).

Every syncable row carries the sync bookkeeping of DESIGN.md: a UUIDv7 ``id`` made where the row
was created, a ``version`` bumped on every change, the ``hlc`` timestamp of its last change and a
``deleted`` tombstone. Local-only tables (outbox, audit log, settings, search index) do not sync.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, LargeBinary, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.db.types import ISODate, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), date: ISODate(), dict[str, Any]: JSON(), list[str]: JSON()}


class Syncable:
    """Bookkeeping shared by every row that syncs."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    hlc: Mapped[str] = mapped_column(String(64))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ClinicOwned(Syncable):
    clinic_id: Mapped[str] = mapped_column(String(36), index=True)


# --- the clinic and its resources ------------------------------------------------------------


class Clinic(Syncable, Base):
    __tablename__ = "clinic"
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="America/Los_Angeles")
    region: Mapped[str] = mapped_column(String(2), default="US")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    phone: Mapped[str | None] = mapped_column(String(20))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Location(ClinicOwned, Base):
    __tablename__ = "location"
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[dict[str, Any]] = mapped_column(default=dict)
    timezone: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))


class Room(ClinicOwned, Base):
    __tablename__ = "room"
    location_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40), default="treatment")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Device(ClinicOwned, Base):
    """A piece of equipment (a laser, a CoolSculpting unit) that some services need."""

    __tablename__ = "device"
    location_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(60))
    model: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Staff(ClinicOwned, Base):
    __tablename__ = "staff"
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(30))
    title: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    color: Mapped[str | None] = mapped_column(String(9))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: weekly rota for lead assignment (core.routing): {"mon": [["09:00", "17:00"]], ...}
    working_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Service(ClinicOwned, Base):
    __tablename__ = "service"
    name: Mapped[str] = mapped_column(String(160))
    category: Mapped[str] = mapped_column(String(40))
    duration_min: Mapped[int] = mapped_column(Integer)
    buffer_before_min: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_min: Mapped[int] = mapped_column(Integer, default=0)
    price_minor: Mapped[int] = mapped_column(Integer)
    price_unit: Mapped[str] = mapped_column(String(20), default="session")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    deposit_minor: Mapped[int] = mapped_column(Integer, default=0)
    requires_room: Mapped[bool] = mapped_column(Boolean, default=True)
    device_kind: Mapped[str | None] = mapped_column(String(60))
    qualified_roles: Mapped[list[str]] = mapped_column(default=list)
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


# --- people ----------------------------------------------------------------------------------


class Patient(ClinicOwned, Base):
    __tablename__ = "patient"
    first_name: Mapped[str] = mapped_column(String(120))
    last_name: Mapped[str] = mapped_column(String(120))
    preferred_name: Mapped[str | None] = mapped_column(String(120))
    date_of_birth: Mapped[date | None]
    sex: Mapped[str | None] = mapped_column(String(20))
    pronouns: Mapped[str | None] = mapped_column(String(30))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    email_key: Mapped[str | None] = mapped_column(String(254), index=True)
    instagram_handle: Mapped[str | None] = mapped_column(String(60), index=True)
    instagram_id: Mapped[str | None] = mapped_column(String(40), index=True)
    address: Mapped[dict[str, Any]] = mapped_column(default=dict)
    timezone: Mapped[str | None] = mapped_column(String(64))
    allergies: Mapped[str | None] = mapped_column(Text)
    medical_alerts: Mapped[str | None] = mapped_column(Text)
    #: {purpose: {"granted": bool, "at": iso, "source": str}} for transactional_sms,
    #: marketing_sms, email, phone, photo_clinical, photo_portal, photo_marketing
    consents: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tags: Mapped[list[str]] = mapped_column(default=list)
    vip: Mapped[bool] = mapped_column(Boolean, default=False)
    #: first-touch attribution: source, utm_*, click ids, landing page, referrer, lead id, time
    first_touch: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    external_ref: Mapped[str | None] = mapped_column(String(80))
    #: a merged-away record (a tombstone) names the record it was merged into
    merged_into: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (Index("ix_patient_name", "last_name", "first_name"),)


class Lead(ClinicOwned, Base):
    __tablename__ = "lead"
    patient_id: Mapped[str | None] = mapped_column(String(36), index=True)
    source: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    service_interest: Mapped[str | None] = mapped_column(String(160))
    message: Mapped[str | None] = mapped_column(Text)
    utm_source: Mapped[str | None] = mapped_column(String(200))
    utm_medium: Mapped[str | None] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    utm_content: Mapped[str | None] = mapped_column(String(200))
    utm_term: Mapped[str | None] = mapped_column(String(200))
    fbclid: Mapped[str | None] = mapped_column(String(500))
    gclid: Mapped[str | None] = mapped_column(String(500))
    gbraid: Mapped[str | None] = mapped_column(String(500))
    wbraid: Mapped[str | None] = mapped_column(String(500))
    landing_page: Mapped[str | None] = mapped_column(Text)
    referrer: Mapped[str | None] = mapped_column(Text)
    campaign_id: Mapped[str | None] = mapped_column(String(40))
    adset_id: Mapped[str | None] = mapped_column(String(40))
    ad_id: Mapped[str | None] = mapped_column(String(40))
    form_id: Mapped[str | None] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(80))
    owner_id: Mapped[str | None] = mapped_column(String(36))
    claimed_by: Mapped[str | None] = mapped_column(String(36))
    claimed_at: Mapped[datetime | None]
    claim_expires_at: Mapped[datetime | None]
    first_reply_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(index=True)
    #: server-owned: when the first reply is due, and a missed one's escalation
    sla_due_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    escalated_to: Mapped[str | None] = mapped_column(String(36))


class Activity(ClinicOwned, Base):
    """An append-only timeline entry on a client record."""

    __tablename__ = "activity"
    patient_id: Mapped[str | None] = mapped_column(String(36))
    lead_id: Mapped[str | None] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[str | None] = mapped_column(String(36))
    occurred_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_activity_patient_time", "patient_id", "occurred_at"),)


class Appointment(ClinicOwned, Base):
    __tablename__ = "appointment"
    patient_id: Mapped[str] = mapped_column(String(36), index=True)
    service_id: Mapped[str] = mapped_column(String(36))
    provider_id: Mapped[str] = mapped_column(String(36))
    location_id: Mapped[str | None] = mapped_column(String(36))
    room_id: Mapped[str | None] = mapped_column(String(36))
    device_id: Mapped[str | None] = mapped_column(String(36))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="booked")
    deposit_status: Mapped[str] = mapped_column(String(20), default="not_required")
    deposit_minor: Mapped[int] = mapped_column(Integer, default=0)
    price_minor: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    source_lead_id: Mapped[str | None] = mapped_column(String(36))
    booked_by: Mapped[str | None] = mapped_column(String(36))
    notes: Mapped[str | None] = mapped_column(Text)
    #: a booking made offline is tentative until the server accepts it
    tentative: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_appointment_start", "start_at"),
        Index("ix_appointment_provider_start", "provider_id", "start_at"),
    )


# --- messaging (sync schema 2) -----------------------------------------------------------------


class Message(ClinicOwned, Base):
    """One SMS or Instagram message of a client's shared thread, either way.

    A workstation inserts an outbound message (``body``, ``purpose``, ``channel``); everything
    after that (``status`` and its reason, times, provider ids) and every inbound message comes
    from the clinic server. Never edited or deleted here.
    """

    __tablename__ = "message"
    patient_id: Mapped[str | None] = mapped_column(String(36))
    channel: Mapped[str] = mapped_column(String(20), default="sms")
    purpose: Mapped[str | None] = mapped_column(String(20), default="transactional")
    body: Mapped[str] = mapped_column(Text)
    template_id: Mapped[str | None] = mapped_column(String(36))
    occurred_at: Mapped[datetime]
    direction: Mapped[str] = mapped_column(String(10), default="outbound")
    kind: Mapped[str] = mapped_column(String(20), default="manual")
    lead_id: Mapped[str | None] = mapped_column(String(36))
    author_id: Mapped[str | None] = mapped_column(String(36))
    #: attachments: [{"media_id", "content_type", "size"}]
    media: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    status_reason: Mapped[str | None] = mapped_column(String(300))
    error_code: Mapped[str | None] = mapped_column(String(12))
    provider_message_id: Mapped[str | None] = mapped_column(String(64))
    send_after: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_message_patient_time", "patient_id", "occurred_at"),
        Index("ix_message_direction_time", "direction", "occurred_at"),
    )


class MessageTemplate(ClinicOwned, Base):
    """A text template of the clinic (``core.templates`` rules); owners and managers edit them."""

    __tablename__ = "message_template"
    name: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(20), default="transactional")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class MessageRead(ClinicOwned, Base):
    """An append-only read receipt: someone saw the client's thread up to ``up_to``."""

    __tablename__ = "message_read"
    patient_id: Mapped[str] = mapped_column(String(36))
    up_to: Mapped[datetime]
    staff_id: Mapped[str | None] = mapped_column(String(36))
    read_at: Mapped[datetime]

    __table_args__ = (Index("ix_message_read_patient", "patient_id", "up_to"),)


class MergeReview(ClinicOwned, Base):
    """A possible duplicate the server found (same name, another phone...): staff merge the two
    records or mark them different people, online, from the duplicates screen. Server-only."""

    __tablename__ = "merge_review"
    patient_id: Mapped[str] = mapped_column(String(36))
    candidate_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(36))
    survivor_id: Mapped[str | None] = mapped_column(String(36))


# --- local-only tables -----------------------------------------------------------------------


class OutboxEntry(Base):
    """A local change waiting to be pushed to the server (appended in the same transaction)."""

    __tablename__ = "outbox"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mutation_id: Mapped[str] = mapped_column(String(36), unique=True)
    entity: Mapped[str] = mapped_column(String(40))
    #: indexed (revision 0004): "is this row's change still waiting?" must not scan the outbox
    entity_id: Mapped[str] = mapped_column(String(36), index=True)
    op: Mapped[str] = mapped_column(String(10))  # insert | update | delete | append
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    base_version: Mapped[int] = mapped_column(Integer, default=0)
    hlc: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]
    acked_at: Mapped[datetime | None] = mapped_column(index=True)


class AuditEntry(Base):
    """Append-only, hash-chained record of every patient read and change."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    staff_id: Mapped[str | None] = mapped_column(String(36))
    device_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class MessageAttachment(Base):
    """A fetched MMS / DM attachment, kept inside the encrypted store (never a plain file)."""

    __tablename__ = "message_attachment"
    media_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    fetched_at: Mapped[datetime]


class LocalSetting(Base):
    """Key/value settings of this installation (device id, clinic, sync cursor, credentials)."""

    __tablename__ = "local_setting"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


SYNCABLE_MODELS: dict[str, type[Syncable]] = {
    m.__tablename__: m
    for m in (Clinic, Location, Room, Device, Staff, Service, Patient, Lead, Activity, Appointment, MergeReview,
              Message, MessageTemplate, MessageRead)
}
APPEND_ONLY = frozenset({"activity", "message_read"})
