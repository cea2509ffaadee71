"""The shared text thread: read a client's thread, compose from a template, send, mark as read,
unread counts, new-message notices, templates, fetched attachments.

Sending writes the message locally (with its outbox entry) and nothing else: the sync engine
pushes it and the clinic server decides (consent, quiet hours, Twilio; for an Instagram DM,
Meta's 24-hour window and Graph), answering with the message's status, which arrives like any
pulled row. Until the push is answered the message is *pending*: the thread says "Waiting to
send" (offline) or "Sending". A message goes by text (``channel: sms``) or, to a client whose
Instagram account is on their record, by Instagram DM (``channel: instagram``); the clinic's
synced ``settings.channels`` says whether Instagram is connected (the server writes it).

What "read" means for a team thread (docs/decisions.md, Messaging): a client's inbound messages
are unread until a staff member, on any workstation, has the client's Messages tab open while
they are shown; that appends a read receipt (``message_read``) up to the newest inbound message
shown. Read is the team's, not a person's: one person reading clears the count for everyone.

Reads of a thread and of an attachment are audited like a record read; sending is audited
(message id, purpose, template: never the text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.db.models import Clinic, Message, MessageRead, MessageTemplate
from app.db.store import Store
from app.repositories import appointments as appointment_repo
from app.repositories import audit, rows, sync_state
from app.repositories import clinic as clinic_repo
from app.repositories import leads as lead_repo
from app.repositories import messages as repo
from app.repositories import patients as patient_repo
from app.repositories.context import Actor, Ctx
from app.repositories.uow import unit_of_work
from app.services.patients import FieldErrors
from core.errors import NotFoundError, PermissionDenied, ValidationError
from core.permissions import Permission, has_permission, require
from core.sms import MAX_BODY_CHARS
from core.templates import TemplateProblem, check_template

TRANSACTIONAL = "transactional"
MARKETING = "marketing"
PURPOSES = (TRANSACTIONAL, MARKETING)
SMS = "sms"
INSTAGRAM = "instagram"
CHANNELS = (SMS, INSTAGRAM)
#: Meta's limit on one Instagram text message
DM_MAX_CHARS = 1000
#: Meta's standard messaging window after the client's last Instagram message
DM_WINDOW = timedelta(hours=24)
GONE = "That client no longer exists (it may have been merged or deleted)."
#: clinic settings key of the public booking page (else the website's /book, else the server's)
BOOKING_URL_KEY = "booking_url"


@dataclass(frozen=True)
class Attachment:
    media_id: str
    content_type: str
    size: int
    cached: bool


@dataclass(frozen=True)
class ThreadMessage:
    id: str
    direction: str  # inbound | outbound
    channel: str  # sms | instagram
    body: str
    occurred_at: datetime
    #: who wrote it: the staff member's name, "Glowdesk" for automatic texts, the client's name inbound
    author: str
    purpose: str | None
    kind: str
    status: str
    status_reason: str | None
    error_code: str | None
    #: written here and not yet answered by the clinic server
    pending: bool
    send_after: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    template: str | None
    media: tuple[Attachment, ...] = ()

    @property
    def inbound(self) -> bool:
        return self.direction == repo.INBOUND


@dataclass(frozen=True)
class TemplateChoice:
    id: str
    name: str
    purpose: str
    body: str


@dataclass(frozen=True)
class Thread:
    patient_id: str
    client_name: str
    phone: str | None
    instagram_handle: str | None
    messages: tuple[ThreadMessage, ...]
    unread: int
    #: the newest inbound message's time (what opening the thread marks as read)
    newest_inbound_at: datetime | None
    read_by: str | None
    read_at: datetime | None
    transactional_consent: bool
    marketing_consent: bool
    #: this workstation's sync state: True online, False offline, None not synced yet
    online: bool | None
    enrolled: bool
    templates: tuple[TemplateChoice, ...]
    #: the values of core.templates.VARIABLES for this client now (None: no value)
    variables: dict[str, str | None] = field(default_factory=dict)
    #: the client's Instagram-scoped id (what a DM is addressed to; known once they DM the clinic)
    instagram_id: str | None = None
    #: whether the clinic server can send Instagram DMs (None: it has not said)
    instagram_connected: bool | None = None
    #: the channel of the client's newest inbound message (None: they never wrote)
    last_inbound_channel: str | None = None
    #: when the client's newest Instagram message arrived (Meta's 24-hour window runs from it)
    last_instagram_at: datetime | None = None

    def dm_window_open(self, now: datetime) -> bool:
        return self.last_instagram_at is not None and now - self.last_instagram_at <= DM_WINDOW


@dataclass(frozen=True)
class UnreadThread:
    patient_id: str
    name: str
    unread: int
    last_at: datetime
    channel: str


@dataclass(frozen=True)
class Unread:
    total: int
    by_patient: dict[str, int]
    threads: tuple[UnreadThread, ...]


@dataclass(frozen=True)
class Notice:
    """A message that just arrived, for a desktop notification (``text`` only when asked for)."""

    patient_id: str
    name: str
    channel: str
    text: str | None


@dataclass(frozen=True)
class Notices:
    watermark: int
    notices: tuple[Notice, ...]


@dataclass(frozen=True)
class TemplateItem:
    id: str
    name: str
    purpose: str
    body: str
    active: bool


def _when(dt: datetime, tz: ZoneInfo | None) -> str:
    local = dt.astimezone(tz) if tz else dt
    return f"{local:%a, %b} {local.day} at {local.hour % 12 or 12}:{local:%M %p}"


def booking_link(clinic: Clinic | None, server_url: str | None) -> str | None:
    conf = (clinic.settings or {}) if clinic is not None else {}
    if isinstance(conf.get(BOOKING_URL_KEY), str) and conf[BOOKING_URL_KEY]:
        return str(conf[BOOKING_URL_KEY])
    if isinstance(conf.get("website"), str) and conf["website"]:
        return str(conf["website"]).rstrip("/") + "/book"
    if server_url and clinic is not None:
        return f"{server_url.rstrip('/')}/book/{clinic.slug}"
    return None


class MessagingService:
    def __init__(self, store: Store, *, clinic_id: str) -> None:
        self.store = store
        self.clinic_id = clinic_id

    # --- the thread -----------------------------------------------------------------------------

    def thread(self, *, actor: Actor, patient_id: str, now: datetime | None = None) -> Thread:
        """The client's thread, oldest message first (an audited read of the record)."""
        if actor.role:
            require(actor.role, Permission.PATIENT_READ)
        with unit_of_work(self.store, actor) as ctx:
            patient = patient_repo.get(ctx, patient_id, purpose="messages")
            if patient is None:
                raise NotFoundError(GONE)
            client = f"{patient.preferred_name or patient.first_name} {patient.last_name}".strip()
            staff = {s.id: s.display_name for s in clinic_repo.list_staff(ctx, self.clinic_id, active_only=False)}
            stored = repo.thread(ctx, patient_id)
            pending = repo.pending_ids(ctx, [m.id for m in stored])
            cached = repo.cached_media(ctx, [str(a.get("media_id")) for m in stored for a in (m.media or [])
                                             if isinstance(a, dict)])
            templates = repo.templates(ctx, self.clinic_id)
            names = {t.id: t.name for t in repo.templates(ctx, self.clinic_id, active_only=False)}
            receipt = repo.read_up_to(ctx, patient_id)
            messages = tuple(_line(m, client, staff, names, pending, cached) for m in stored)
            inbound = [m.occurred_at for m in messages if m.inbound]
            up_to = receipt.up_to if receipt is not None else None
            unread = sum(1 for at in inbound if up_to is None or at > up_to)
            consents = patient.consents or {}
            outcome = sync_state.outcome(ctx)
            enrolled = sync_state.enrollment(ctx)
            last_in = max((m for m in messages if m.inbound), key=lambda m: m.occurred_at, default=None)
            last_dm = max((m.occurred_at for m in messages if m.inbound and m.channel == INSTAGRAM), default=None)
            clinic = ctx.session.get(Clinic, self.clinic_id)
            channels = (clinic.settings or {}).get("channels") if clinic is not None else None
            connected = channels.get(INSTAGRAM) if isinstance(channels, dict) else None
            return Thread(
                patient_id=patient_id, client_name=client, phone=patient.phone,
                instagram_handle=patient.instagram_handle, messages=messages, unread=unread,
                newest_inbound_at=max(inbound) if inbound else None,
                read_by=staff.get(receipt.staff_id or "") if receipt is not None else None,
                read_at=receipt.read_at if receipt is not None else None,
                transactional_consent=_granted(consents, "transactional_sms"),
                marketing_consent=_granted(consents, "marketing_sms"),
                online=outcome.get("online") if enrolled else False, enrolled=enrolled is not None,
                templates=tuple(TemplateChoice(t.id, t.name, t.purpose, t.body) for t in templates),
                variables=self._variables(ctx, patient, staff, enrolled, now or ctx.now()),
                instagram_id=patient.instagram_id,
                instagram_connected=bool(connected) if connected is not None else None,
                last_inbound_channel=last_in.channel if last_in is not None else None, last_instagram_at=last_dm,
            )

    def _variables(self, ctx: Ctx, patient: Any, staff: dict[str, str], enrolled: dict[str, Any] | None,
                   now: datetime) -> dict[str, str | None]:
        clinic = ctx.session.get(Clinic, self.clinic_id)
        try:
            tz: ZoneInfo | None = ZoneInfo(clinic.timezone) if clinic is not None else None
        except (KeyError, ValueError):
            tz = None
        upcoming = [a for a in appointment_repo.for_patient(ctx, patient.id)
                    if a.start_at >= now and a.status in ("booked", "confirmed")]
        nxt = min(upcoming, key=lambda a: a.start_at) if upcoming else None
        service = None
        if nxt is not None:
            found = clinic_repo.get_service(ctx, nxt.service_id)
            service = found.name if found is not None else None
        else:
            interests = [lead.service_interest for lead in lead_repo.for_patient(ctx, patient.id)
                         if lead.service_interest]
            service = interests[0] if interests else None
        return {
            "first_name": patient.preferred_name or patient.first_name,
            "service": service,
            "appointment_time": _when(nxt.start_at, tz) if nxt is not None else None,
            "provider": staff.get(nxt.provider_id) if nxt is not None else None,
            "booking_link": booking_link(clinic, enrolled["server_url"] if enrolled else None),
            "deposit_link": None,  # card payments are not in this version: no deposit link to send yet
            "clinic_name": clinic.name if clinic is not None else None,
        }

    # --- sending ------------------------------------------------------------------------------

    def send(self, *, actor: Actor, patient_id: str, body: str, purpose: str = TRANSACTIONAL,
             template_id: str | None = None, channel: str = SMS) -> str:
        """Write an outbound text (or Instagram DM) for the clinic server to send; its id. Checks
        what can be checked here (permission, text, an Instagram account to write to); consent
        and Meta's 24-hour window are the server's to decide."""
        if channel not in CHANNELS:
            raise ValidationError("A message goes by text or by Instagram DM.", field="channel")
        if purpose not in PURPOSES:
            raise ValidationError("A text is either transactional (appointments, deposits) or marketing.",
                                  field="purpose")
        if actor.role:
            require(actor.role, Permission.MESSAGE_SEND)
            if purpose == MARKETING and not has_permission(actor.role, Permission.MESSAGE_MARKETING):
                raise PermissionDenied("Only owners and managers may send marketing texts.")
        text = body.strip()
        if not text:
            raise ValidationError("Write the text first.", field="body")
        if len(text) > MAX_BODY_CHARS:
            raise ValidationError(f"A text can be at most {MAX_BODY_CHARS} characters (this one has {len(text)}).",
                                  field="body")
        if channel == INSTAGRAM and len(text) > DM_MAX_CHARS:
            raise ValidationError(f"An Instagram message can be at most {DM_MAX_CHARS} characters (this one has "
                                  f"{len(text)}).", field="body")
        with unit_of_work(self.store, actor) as ctx:
            patient = patient_repo.get_for_write(ctx, patient_id)
            if patient is None:
                raise NotFoundError(GONE)
            if channel == INSTAGRAM and not patient.instagram_id:
                raise ValidationError("This client has no Instagram account on their record yet (Glowdesk learns it "
                                      "when they send the clinic a DM), so they cannot be sent a DM.",
                                      field="channel")
            if template_id is not None and repo.template(ctx, template_id) is None:
                template_id = None
            now = ctx.now()
            message = repo.add_outbound(ctx, Message(
                clinic_id=self.clinic_id, patient_id=patient_id, channel=channel, purpose=purpose, body=text,
                template_id=template_id, occurred_at=now, direction=repo.OUTBOUND, kind="manual",
                author_id=actor.staff_id, media=[], status="queued",
            ))
            audit.append(ctx, "message.send", "patient", patient_id,
                         {"message_id": message.id, "purpose": purpose, "template_id": template_id,
                          "channel": channel})
            return message.id

    # --- read ---------------------------------------------------------------------------------

    def mark_read(self, *, actor: Actor, patient_id: str, up_to: datetime) -> bool:
        """The thread was seen up to ``up_to`` (the newest inbound message shown); False when
        it was already read that far (nothing is written)."""
        with unit_of_work(self.store, actor) as ctx:
            current = repo.read_up_to(ctx, patient_id)
            if current is not None and current.up_to >= up_to:
                return False
            if patient_repo.get_for_write(ctx, patient_id) is None:
                raise NotFoundError(GONE)
            repo.add_read(ctx, MessageRead(clinic_id=self.clinic_id, patient_id=patient_id, up_to=up_to,
                                           staff_id=actor.staff_id, read_at=ctx.now()))
            return True

    def unread(self, *, actor: Actor, limit: int = 50) -> Unread:
        """Unread inbound messages per client and in total (names only, no message text)."""
        if actor.role and not has_permission(actor.role, Permission.PATIENT_READ):
            return Unread(0, {}, ())
        with unit_of_work(self.store, actor) as ctx:
            counts = repo.unread_counts(ctx)
            threads = tuple(UnreadThread(pid, name, n, at, channel)
                            for pid, name, _preferred, n, at, channel in repo.unread_threads(ctx, limit=limit))
            return Unread(sum(counts.values()), counts, threads)

    def watermark(self, *, actor: Actor) -> int:
        with unit_of_work(self.store, actor) as ctx:
            return repo.newest_rowid(ctx)

    def notices(self, *, actor: Actor, after: int, with_text: bool = False) -> Notices:
        """Inbound messages that arrived in this store after ``after`` (a :meth:`watermark`)."""
        if actor.role and not has_permission(actor.role, Permission.PATIENT_READ):
            return Notices(after, ())
        with unit_of_work(self.store, actor) as ctx:
            found = repo.inbound_after(ctx, after)
            if not found:
                return Notices(after, ())
            patients: dict[str, str] = {}
            out = []
            for _rowid, m in found:
                if m.patient_id is None:
                    continue
                if m.patient_id not in patients:
                    p = patient_repo.get_for_write(ctx, m.patient_id)
                    patients[m.patient_id] = f"{p.preferred_name or p.first_name} {p.last_name}" if p else "A client"
                out.append(Notice(m.patient_id, patients[m.patient_id], m.channel, m.body if with_text else None))
            return Notices(found[-1][0], tuple(out))

    # --- attachments --------------------------------------------------------------------------

    def attachment(self, *, actor: Actor, patient_id: str, media_id: str) -> tuple[bytes, str] | None:
        """A fetched attachment's bytes and type (None until fetched); an audited read."""
        if actor.role:
            require(actor.role, Permission.PATIENT_READ)
        with unit_of_work(self.store, actor) as ctx:
            found = repo.attachment(ctx, media_id)
            if found is None:
                return None
            audit.append(ctx, "patient.read", "patient", patient_id, {"purpose": "attachment", "media_id": media_id})
            return bytes(found.data), found.content_type

    def keep_attachment(self, *, actor: Actor, message_id: str, media_id: str, content_type: str,
                        data: bytes) -> None:
        """Keep a fetched attachment inside the encrypted store."""
        with unit_of_work(self.store, actor) as ctx:
            repo.keep_attachment(ctx, media_id=media_id, message_id=message_id, content_type=content_type, data=data)

    # --- templates ----------------------------------------------------------------------------

    def template_items(self, *, actor: Actor) -> list[TemplateItem]:
        with unit_of_work(self.store, actor) as ctx:
            return [TemplateItem(t.id, t.name, t.purpose, t.body, t.active)
                    for t in repo.templates(ctx, self.clinic_id, active_only=False)]

    def save_template(self, *, actor: Actor, template_id: str | None, data: dict[str, Any]) -> str:
        """Create (``template_id`` None) or edit a template; owners and managers."""
        if actor.role:
            require(actor.role, Permission.SETTINGS_MANAGE)
        errors: dict[str, str] = {}
        name = " ".join(str(data.get("name") or "").split())
        if not name:
            errors["name"] = "Give the template a name."
        elif len(name) > 80:
            errors["name"] = "A template name has at most 80 characters."
        body = str(data.get("body") or "").strip()
        try:
            check_template(body)
        except TemplateProblem as exc:
            errors["body"] = exc.user_message
        purpose = str(data.get("purpose") or TRANSACTIONAL)
        if purpose not in PURPOSES:
            errors["purpose"] = "Choose transactional or marketing."
        if errors:
            raise FieldErrors(errors=errors)
        fields = {"name": name, "body": body, "purpose": purpose, "active": bool(data.get("active", True))}
        with unit_of_work(self.store, actor) as ctx:
            if template_id is None:
                return rows.insert(ctx, MessageTemplate(clinic_id=self.clinic_id, **fields)).id
            existing = repo.template(ctx, template_id)
            if existing is None:
                raise NotFoundError("That template no longer exists.")
            rows.update(ctx, existing, fields)
            return existing.id


def _granted(consents: dict[str, Any], purpose: str) -> bool:
    entry = consents.get(purpose)
    return isinstance(entry, dict) and bool(entry.get("granted"))


def _line(m: Message, client: str, staff: dict[str, str], templates: dict[str, str], pending: set[str],
          cached: set[str]) -> ThreadMessage:
    if m.direction == repo.INBOUND:
        author = client
    elif m.author_id:
        author = staff.get(m.author_id, "A former staff member")
    else:
        author = "Glowdesk (automatic)"
    media = tuple(Attachment(str(a.get("media_id")), str(a.get("content_type") or ""), int(a.get("size") or 0),
                             str(a.get("media_id")) in cached)
                  for a in (m.media or []) if isinstance(a, dict) and a.get("media_id"))
    return ThreadMessage(
        id=m.id, direction=m.direction, channel=m.channel, body=m.body, occurred_at=m.occurred_at, author=author,
        purpose=m.purpose, kind=m.kind, status=m.status, status_reason=m.status_reason, error_code=m.error_code,
        pending=m.id in pending, send_after=m.send_after, sent_at=m.sent_at, delivered_at=m.delivered_at,
        template=templates.get(m.template_id or ""), media=media,
    )
