"""Messaging: the outbox (consent first, quiet hours, idempotent sends with backoff), delivery
states, inbound texts with STOP / START / HELP, Instagram DMs, and the instant acknowledgement of
new leads. Services never commit.

Sending: :func:`queue_outbound` checks consent *before* anything is queued (a refusal is stored
on the message with its reason and never reaches Twilio), then queues a ``message.send`` job in
the same transaction (``dedupe_key = message.send:<message id>``). The job checks consent again
(an opt-out may have arrived), waits out marketing quiet hours, marks the message ``sending``,
calls Twilio, and records the SID. If the worker dies between Twilio accepting the message and
that record, the next attempt first looks the message up on Twilio (same number, same body,
since the attempt started) instead of sending it again.

Desktops see each message as a ``message`` sync row (core's catalogue). A workstation inserts an
outbound one; the push hands it to :func:`queue_outbound` (``sync_server.messaging.decisions``).
Every later change of a message here (sending, sent, delivered, failed with its reason, refused,
held for quiet hours, inbound received) is mirrored into that row by :func:`mirror` through
:class:`ServerWrites`, in the same transaction, so desktops receive it by pull and live.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from core.errors import NotFoundError, ValidationError
from core.ids import new_id
from core.phone import try_normalize_phone
from core.sms import CARRIER_REASONS
from core.states import OPEN_LEAD_STATES
from sync_server.clinics import service as clinics
from sync_server.events import Event
from sync_server.integrations import sealing
from sync_server.integrations import service as integrations
from sync_server.messaging import repository, rules
from sync_server.messaging.models import Message, MessageMedia, SmsOptOut
from sync_server.patients.service import Person, split_name
from sync_server.records.service import ServerWrites
from sync_server.sync import repository as sync_repo
from sync_server.sync.service import iso

if TYPE_CHECKING:
    from sync_server.jobs.worker import JobContext

log = logging.getLogger(__name__)

SEND_JOB = "message.send"
SMS = "sms"
INSTAGRAM = "instagram"
CHANNELS = (SMS, INSTAGRAM)

QUEUED, SENDING, SUBMITTED, SENT = "queued", "sending", "submitted", "sent"
DELIVERED, UNDELIVERED, FAILED, READ, REFUSED, RECEIVED = (
    "delivered", "undelivered", "failed", "read", "refused", "received")
FINAL = frozenset({DELIVERED, UNDELIVERED, FAILED, READ, REFUSED, RECEIVED})
_RANK = {QUEUED: 0, SENDING: 1, SUBMITTED: 2, SENT: 3, DELIVERED: 4, UNDELIVERED: 4, FAILED: 4, READ: 5}
#: Twilio's MessageStatus -> ours
TWILIO_STATUS = {"accepted": SUBMITTED, "scheduled": SUBMITTED, "queued": SUBMITTED, "sending": SUBMITTED,
                 "sent": SENT, "delivered": DELIVERED, "undelivered": UNDELIVERED, "failed": FAILED,
                 "read": READ, "canceled": FAILED, "receiving": RECEIVED, "received": RECEIVED}


# --- what messaging tells the contexts above it (sync_server.events) ----------------------------


@dataclass(frozen=True)
class NewSender:
    """Someone without a client record wrote in: the first text or DM of a new person."""

    channel: str  # SMS | INSTAGRAM
    person: Person
    external_id: str
    message: str | None
    consents: dict[str, Any] = field(default_factory=dict)
    #: facts for their timeline (the Instagram username...)
    details: dict[str, Any] = field(default_factory=dict)
    #: answer with the instant acknowledgement (not for a keyword such as HELP)
    acknowledge: bool = True


#: ``handler(writes, sender=NewSender, region=..., timezone=...) -> (patient_id, lead_id)``: a
#: subscriber (leads) makes the person's record and lead; the first that answers a record wins.
#: Without one, the message is kept without a client, like a STOP from an unknown number.
NEW_SENDER: Event[Callable[..., tuple[str | None, str | None]]] = Event("messaging.new_sender")
#: ``handler(writes, patient_id=..., staff_id=..., kind="text" | "instagram_dm")``: a person on the
#: team wrote to a client (lead routing keeps their claim).
CONTACT_MADE: Event[Callable[..., None]] = Event("messaging.contact_made")


def _new_sender(writes: ServerWrites, sender: NewSender, *, region: str, timezone: str) -> tuple[str | None, str | None]:
    for take in NEW_SENDER.handlers():
        patient_id, lead_id = take(writes, sender=sender, region=region, timezone=timezone)
        if patient_id is not None:
            return patient_id, lead_id
    return None, None


# --- the clinic, as messaging needs it --------------------------------------------------------


@dataclass(frozen=True)
class ClinicProfile:
    id: str
    name: str
    timezone: str
    region: str
    phone: str | None
    settings: dict[str, Any]


def clinic_profile(session: Session, *, clinic_id: str) -> ClinicProfile:
    clinic = clinics.get_clinic(session, clinic_id=clinic_id)
    row = sync_repo.get_row(session, clinic_id=clinic_id, entity="clinic", entity_id=clinic_id)
    data = dict(row.data) if row is not None else {}
    settings = data.get("settings") if isinstance(data.get("settings"), dict) else {}
    return ClinicProfile(clinic.id, str(data.get("name") or clinic.name), clinic.timezone, clinic.region,
                         data.get("phone"), dict(settings or {}))


def status_callback_url(public_url: str, clinic_id: str) -> str:
    return f"{public_url.rstrip('/')}/webhooks/twilio/status?clinic={clinic_id}"


# --- the synced row ---------------------------------------------------------------------------

MESSAGE_ENTITY = "message"


def server_fields(message: Message) -> dict[str, Any]:
    """The server-owned fields of a message's sync row, as the server holds them now."""
    return {
        "direction": message.direction, "kind": message.kind, "lead_id": message.lead_id,
        "author_id": message.author_staff_id, "media": list(message.media or []), "status": message.status,
        "status_reason": message.status_reason, "error_code": message.error_code,
        "provider_message_id": message.provider_sid, "send_after": iso(message.send_after),
        "sent_at": iso(message.sent_at), "delivered_at": iso(message.delivered_at),
    }


def synced_fields(message: Message) -> dict[str, Any]:
    """Every field of a message's sync row (a message the server made itself)."""
    return {
        "patient_id": message.patient_id, "channel": message.channel, "purpose": message.purpose,
        "body": message.body, "template_id": message.template_id, "occurred_at": iso(message.created_at),
        **server_fields(message),
    }


def mirror(writes: ServerWrites, message: Message) -> None:
    """Bring the message's sync row up to date (create it for a message the server made).

    Messages without a client (a STOP from an unknown number) belong to no thread and are
    not synced. Only fields that changed are written, so a repeat changes nothing.
    """
    if message.patient_id is None:
        return
    row = sync_repo.get_row(writes.session, clinic_id=writes.clinic_id, entity=MESSAGE_ENTITY, entity_id=message.id)
    if row is None:
        writes.insert(MESSAGE_ENTITY, synced_fields(message), entity_id=message.id)
        return
    changes = {k: v for k, v in server_fields(message).items() if row.data.get(k) != v}
    if changes:
        writes.update(MESSAGE_ENTITY, message.id, changes)


# --- opt-outs ---------------------------------------------------------------------------------


def is_opted_out(session: Session, *, clinic_id: str, phone: str | None) -> bool:
    if not phone:
        return False
    row = repository.opt_out(session, clinic_id=clinic_id, phone=phone)
    return bool(row is not None and row.opted_out)


def _set_opt_out(session: Session, *, clinic_id: str, phone: str, opted_out: bool, keyword: str, now: datetime) -> None:
    repository.put_opt_out(session, SmsOptOut(clinic_id=clinic_id, phone=phone, opted_out=opted_out,
                                              keyword=keyword[:20], updated_at=now))


def _apply_keyword_to_consents(writes: ServerWrites, *, patient_id: str, data: dict[str, Any], word: str,
                               keyword: str) -> None:
    """STOP revokes both SMS consents (remembering what marketing was); START restores them."""
    consents = dict(data.get("consents") or {})
    at = iso(writes.now)
    if word == "stop":
        for key in ("transactional_sms", "marketing_sms"):
            before = consents.get(key) if isinstance(consents.get(key), dict) else {}
            consents[key] = {"granted": False, "at": at, "source": "sms_keyword", "keyword": keyword,
                             "was_granted": bool(before.get("granted")) if before else False}
    else:
        raw = consents.get("marketing_sms")
        marketing: dict[str, Any] = raw if isinstance(raw, dict) else {}
        consents["transactional_sms"] = {"granted": True, "at": at, "source": "sms_keyword", "keyword": keyword}
        consents["marketing_sms"] = {"granted": bool(marketing.get("was_granted")), "at": at, "source": "sms_keyword",
                                     "keyword": keyword}
    writes.update("patient", patient_id, {"consents": consents})
    writes.append("activity", {
        "patient_id": patient_id, "lead_id": None, "type": "message.opt_out" if word == "stop" else "message.opt_in",
        "actor_id": None, "occurred_at": at, "payload": {"channel": SMS, "keyword": keyword},
    })


# --- the outbox -------------------------------------------------------------------------------


def _timeline(writes: ServerWrites, message: Message, type_: str, **extra: Any) -> None:
    payload: dict[str, Any] = {
        "message_id": message.id, "channel": message.channel, "direction": message.direction,
        "body": message.body, "status": message.status, "kind": message.kind,
    }
    if message.status_reason:
        payload["reason"] = message.status_reason
    if message.media:
        payload["media"] = message.media
    payload.update({k: v for k, v in extra.items() if v is not None})
    writes.append("activity", {
        "patient_id": message.patient_id, "lead_id": message.lead_id, "type": type_,
        "actor_id": message.author_staff_id, "occurred_at": iso(writes.now), "payload": payload,
    })


def queue_outbound(
    writes: ServerWrites,
    *,
    patient_id: str | None,
    body: str,
    purpose: str = rules.TRANSACTIONAL,
    kind: str = "manual",
    author_staff_id: str | None = None,
    lead_id: str | None = None,
    message_id: str | None = None,
    to: str | None = None,
    help_reply: bool = False,
    template_id: str | None = None,
    refused_reason: str | None = None,
    sync: bool = True,
    channel: str = SMS,
) -> Message:
    """Put a text (or, ``channel="instagram"``, a DM) in the outbox, or store it refused with the
    reason; idempotent per ``message_id``.

    ``refused_reason`` stores it refused with that reason whatever the consents (a sender without
    the permission). ``sync``: also write the message's sync row (False when a push is storing
    that row itself). Raises before writing anything when the text or the client is wrong.
    A DM follows Instagram's rules instead of SMS consent (:mod:`sync_server.messaging.instagram`).
    """
    session, clinic_id = writes.session, writes.clinic_id
    if message_id is not None:
        existing = repository.get(session, clinic_id=clinic_id, message_id=message_id)
        if existing is not None:
            return existing
    if purpose not in rules.PURPOSES:
        raise ValidationError("A text is transactional or marketing.", field="purpose")
    body = body.strip()
    problem = rules.body_problem(body)
    if problem:
        raise ValidationError(problem, field="body")
    patient = writes.get("patient", patient_id) if patient_id else None
    if patient_id and patient is None:
        raise NotFoundError("That client no longer exists (it may have been merged or deleted).")
    if channel not in CHANNELS:
        raise ValidationError("A message goes by text (sms) or by Instagram DM (instagram).", field="channel")
    reason: str | None
    job_kind = SEND_JOB
    if channel == INSTAGRAM:
        from sync_server.messaging import instagram

        job_kind = instagram.DM_SEND_JOB
        sender, phone, dm_reason = instagram.route(session, clinic_id=clinic_id, patient_id=patient_id,
                                                   patient=patient, body=body, now=writes.now)
        reason = refused_reason if refused_reason is not None else dm_reason
    else:
        phone = to or (patient or {}).get("phone")
        sender = integrations.twilio_sender(session, clinic_id=clinic_id)
        reason = _sms_refusal(session, clinic_id=clinic_id, phone=phone, patient=patient, purpose=purpose,
                              sender=sender, help_reply=help_reply, refused_reason=refused_reason)
    message = Message(
        id=message_id or new_id(), clinic_id=clinic_id, patient_id=patient_id, lead_id=lead_id, channel=channel,
        direction="outbound", purpose=purpose, kind=kind, body=body, media=[],
        from_addr=sender, to_addr=phone, template_id=template_id,
        status=REFUSED if reason else QUEUED, status_reason=reason[:300] if reason else None,
        author_staff_id=author_staff_id, created_at=writes.now, updated_at=writes.now,
    )
    run_after = writes.now
    if reason is None and purpose == rules.MARKETING and channel == SMS:
        profile = clinic_profile(session, clinic_id=clinic_id)
        until = rules.quiet_until(writes.now, rules.zone((patient or {}).get("timezone"), profile.timezone),
                                  _quiet(profile.settings))
        if until is not None:
            message.send_after = until
            run_after = until
    repository.add(session, message)
    if patient_id:
        _timeline(writes, message, "message.refused" if reason else "message.outbound",
                  send_after=iso(message.send_after))
    if sync:
        mirror(writes, message)
    if reason is None:
        from sync_server.jobs import service as jobs

        jobs.enqueue(session, clinic_id=clinic_id, kind=job_kind, payload={"message_id": message.id},
                     dedupe_key=f"{job_kind}:{message.id}", now=writes.now, run_after=run_after)
        if kind == "manual" and patient_id:
            _first_reply(writes, patient_id=patient_id)
            for handler in CONTACT_MADE.handlers():
                handler(writes, patient_id=patient_id, staff_id=author_staff_id,
                        kind="text" if channel == SMS else "instagram_dm")
    return message


def _sms_refusal(session: Session, *, clinic_id: str, phone: str | None, patient: dict[str, Any] | None,
                 purpose: str, sender: str | None, help_reply: bool, refused_reason: str | None) -> str | None:
    opted_out = is_opted_out(session, clinic_id=clinic_id, phone=phone)
    reason: str | None
    if refused_reason is not None:
        reason = refused_reason
    elif sender is None:
        reason = "Texting is not set up for this clinic yet (connect Twilio with `integrations set`)."
    elif help_reply:
        reason = rules.refusal(phone=phone, consents={"transactional_sms": {"granted": True}}, purpose=rules.TRANSACTIONAL,
                               opted_out=opted_out)
    else:
        reason = rules.refusal(phone=phone, consents=(patient or {}).get("consents"), purpose=purpose,
                               opted_out=opted_out)
    return reason


def _first_reply(writes: ServerWrites, *, patient_id: str) -> None:
    """A person's first text to a client answers their open leads (server-owned ``first_reply_at``)."""
    for lead_id, lead in writes.find("lead", patient_id=patient_id):
        if lead.get("first_reply_at") is None and lead.get("status") in {s.value for s in OPEN_LEAD_STATES}:
            writes.update("lead", lead_id, {"first_reply_at": iso(writes.now)})


def _quiet(settings: dict[str, Any]) -> tuple[str, str]:
    quiet = settings.get("quiet_hours")
    if isinstance(quiet, dict) and quiet.get("start") and quiet.get("end"):
        return str(quiet["start"]), str(quiet["end"])
    return rules.DEFAULT_QUIET_HOURS


def acknowledge_lead(writes: ServerWrites, *, patient_id: str, lead_id: str, source: str, timezone: str) -> str | None:
    """Queue the instant acknowledgement of a new lead (once per lead) when the clinic texts, it is
    enabled, and the client agreed to texts; after hours the after-hours variant is used."""
    session = writes.session
    if repository.for_lead(session, clinic_id=writes.clinic_id, lead_id=lead_id, kind="lead_ack") is not None:
        return None
    profile = clinic_profile(session, clinic_id=writes.clinic_id)
    if (profile.settings.get("lead_ack") or {}).get("enabled") is False:
        return None
    patient = writes.get("patient", patient_id) or {}
    consents = patient.get("consents") or {}
    if rules.refusal(phone=patient.get("phone"), consents=consents, purpose=rules.TRANSACTIONAL,
                     opted_out=is_opted_out(session, clinic_id=writes.clinic_id, phone=patient.get("phone"))):
        return None  # no consent, no number, or opted out: no automatic text at all
    if integrations.twilio_sender(session, clinic_id=writes.clinic_id) is None:
        return None
    tz = rules.zone(patient.get("timezone"), profile.timezone or timezone)
    hours = rules.opening_hours(profile.settings)
    open_now = rules.is_open(writes.now, tz, hours)
    variant = "open" if open_now else "after_hours"
    opens = rules.next_opening(writes.now, tz, hours) if not open_now else None
    lead = writes.get("lead", lead_id) or {}
    variables = {"first_name": patient.get("preferred_name") or patient.get("first_name"),
                 "clinic_name": profile.name, "service": lead.get("service_interest"),
                 "opens_at": f"{opens:%A} at {opens:%-I:%M %p}".replace(":00 ", " ") if opens else None,
                 "clinic_phone": profile.phone}
    try:
        body = rules.render(rules.ack_template(profile.settings, source, variant), variables)
    except ValueError:
        body = rules.render(rules.ACK_OPEN if open_now else rules.ACK_AFTER_HOURS, variables)
    message = queue_outbound(writes, patient_id=patient_id, body=body, purpose=rules.TRANSACTIONAL, kind="lead_ack",
                             lead_id=lead_id)
    return message.id if message.status == QUEUED else None


# --- the send job -----------------------------------------------------------------------------


def send_job(ctx: JobContext) -> None:
    from sync_server.integrations.transport import TransportError
    from sync_server.integrations.twilio_api import OPTED_OUT, TwilioTransport

    message_id = ctx.payload["message_id"]
    secret_key = ctx.settings.ensure_secret_key()
    with ctx.transaction(write=False) as session:
        message = job_message(session, ctx, message_id)
        patient_row = sync_repo.get_row(session, clinic_id=ctx.clinic_id, entity="patient",
                                        entity_id=message.patient_id) if message.patient_id else None
        patient = dict(patient_row.data) if patient_row is not None and not patient_row.deleted else {}
        account = integrations.twilio_account(session, clinic_id=ctx.clinic_id, secret_key=secret_key)
        opted_out = is_opted_out(session, clinic_id=ctx.clinic_id, phone=message.to_addr)
        profile = clinic_profile(session, clinic_id=ctx.clinic_id)
    if message.status not in (QUEUED, SENDING):
        return  # sent, failed or refused already
    now = ctx.now()
    if account is None:
        reason: str | None = "Texting is not set up for this clinic any more (Twilio is not connected)."
    elif message.kind == "help_reply":
        reason = rules.refusal(phone=message.to_addr, consents={"transactional_sms": {"granted": True}},
                               purpose=rules.TRANSACTIONAL, opted_out=opted_out)
    else:
        reason = rules.refusal(phone=message.to_addr, consents=patient.get("consents"),
                               purpose=message.purpose or rules.TRANSACTIONAL, opted_out=opted_out)
    if reason is not None:
        close_unsent(ctx, message_id, REFUSED, reason)
        return
    if message.purpose == rules.MARKETING:
        until = rules.quiet_until(now, rules.zone(patient.get("timezone"), profile.timezone), _quiet(profile.settings))
        if until is not None:
            with ctx.transaction() as session:
                from sync_server.jobs import service as jobs

                stored = repository.get(session, clinic_id=ctx.clinic_id, message_id=message_id)
                if stored is not None:
                    stored.send_after = until
                    stored.updated_at = now
                    mirror(job_writes(session, ctx), stored)
                jobs.enqueue(session, clinic_id=ctx.clinic_id, kind=SEND_JOB, payload={"message_id": message_id},
                             dedupe_key=f"{SEND_JOB}:{message_id}@{until:%Y%m%dT%H%M}", now=now, run_after=until)
                ctx.finish(session)
            return
    assert account is not None and message.to_addr
    callback = status_callback_url(ctx.settings.public_url, ctx.clinic_id)
    with TwilioTransport(ctx.settings.twilio_api_url, account, status_callback=callback) as twilio:
        sent = None
        if message.status == SENDING and message.attempt_started_at is not None:
            sent = twilio.find_sent(to=message.to_addr, body=message.body, since=message.attempt_started_at)
        if sent is None:
            if not begin_attempt(ctx, message_id, now):
                return
            try:
                sent = twilio.send(to=message.to_addr, body=message.body)
            except TransportError as exc:
                if exc.permanent:
                    with ctx.transaction() as session:
                        finish_unsent(session, ctx, message_id, FAILED, exc.user_message, exc.provider_code)
                        if exc.provider_code == str(OPTED_OUT):
                            _record_provider_opt_out(session, ctx, message.to_addr)
                raise
    with ctx.transaction() as session:
        stored = repository.get(session, clinic_id=ctx.clinic_id, message_id=message_id)
        if stored is not None:
            stored.provider_sid = sent.sid
            stored.sent_at = stored.sent_at or now
            target = TWILIO_STATUS.get(sent.status, SUBMITTED)
            if _RANK.get(target, 0) > _RANK.get(stored.status, 0) and stored.status not in FINAL:
                stored.status = target
            stored.updated_at = now
            mirror(job_writes(session, ctx), stored)
        ctx.finish(session)


def job_writes(session: Session, ctx: JobContext) -> ServerWrites:
    return ServerWrites(session, clinic_id=ctx.clinic_id, now=ctx.now(), hlc=ctx.worker.hlc)


# --- shared by the send jobs (texts here, DMs in messaging.instagram) ----------------------------


def job_message(session: Session, ctx: JobContext, message_id: str) -> Message:
    """The message a send job is for, detached from ``session`` (gone: a permanent job error)."""
    from sync_server.jobs.service import JobError

    message = repository.get(session, clinic_id=ctx.clinic_id, message_id=message_id)
    if message is None:
        raise JobError("The message to send no longer exists.", permanent=True)
    session.expunge(message)
    return message


def begin_attempt(ctx: JobContext, message_id: str, now: datetime) -> bool:
    """Record, committed, that a send is about to be tried (``sending`` since ``now``), so that a
    crash between the provider's call and its record is found on the retry. False: the message
    has been sent, failed or refused meanwhile (the job is finished)."""
    with ctx.transaction() as session:
        stored = repository.get(session, clinic_id=ctx.clinic_id, message_id=message_id)
        if stored is None or stored.status not in (QUEUED, SENDING):
            ctx.finish(session)
            return False
        stored.status, stored.attempt_started_at, stored.updated_at = SENDING, now, now
        mirror(job_writes(session, ctx), stored)
    return True


def close_unsent(ctx: JobContext, message_id: str, status: str, reason: str, code: str | None = None) -> None:
    """End the job with the message not sent (``refused`` or ``failed``, with the reason shown)."""
    with ctx.transaction() as session:
        finish_unsent(session, ctx, message_id, status, reason, code)
        ctx.finish(session)


def finish_unsent(session: Session, ctx: JobContext, message_id: str, status: str, reason: str,
                   code: str | None) -> None:
    writes = job_writes(session, ctx)
    stored = repository.get(session, clinic_id=ctx.clinic_id, message_id=message_id)
    if stored is None or stored.status in FINAL:
        return
    stored.status, stored.status_reason, stored.error_code, stored.updated_at = status, reason[:300], code, ctx.now()
    if stored.patient_id:
        _timeline(writes, stored, "message.refused" if status == REFUSED else "message.failed", error_code=code)
    mirror(writes, stored)


def _record_provider_opt_out(session: Session, ctx: JobContext, phone: str) -> None:
    """Twilio answered 21610: the number opted out with the carrier; keep that here too."""
    _set_opt_out(session, clinic_id=ctx.clinic_id, phone=phone, opted_out=True, keyword="21610", now=ctx.now())


def give_up_send(session: Session, ctx: JobContext, reason: str) -> None:
    """The send job failed for good (permanent error, or every attempt used): say so on the message."""
    message_id = ctx.payload.get("message_id")
    if message_id:
        finish_unsent(session, ctx, message_id, FAILED, f"The text could not be sent: {reason}", None)


# --- delivery states --------------------------------------------------------------------------


def apply_status(session: Session, *, clinic_id: str, sid: str, twilio_status: str, error_code: str | None,
                 now: datetime, writes_factory: Any) -> str:
    """A delivery callback: move the message forward, never back from a final state."""
    from sync_server.jobs.service import JobError

    message = repository.by_sid(session, clinic_id=clinic_id, sid=sid)
    if message is None:
        # the callback can outrun the commit of the SID; retried with backoff
        raise JobError("The message of this delivery update is not recorded yet.", permanent=False)
    target = TWILIO_STATUS.get(twilio_status.lower())
    if target is None or target == RECEIVED:
        return "ignored"
    current = message.status
    if current in FINAL and not (current == DELIVERED and target == READ):
        return f"kept {current}"
    if _RANK.get(target, 0) <= _RANK.get(current, 0):
        return f"kept {current}"
    message.status, message.updated_at = target, now
    if target == DELIVERED:
        message.delivered_at = now
    if target in (SENT, DELIVERED, READ) and message.sent_at is None:
        message.sent_at = now
    writes = writes_factory()
    if target in (FAILED, UNDELIVERED):
        from sync_server.integrations.twilio_api import _REASONS

        code = int(error_code) if error_code and error_code.isdigit() else None
        message.error_code = error_code[:12] if error_code else None
        message.status_reason = (_REASONS.get(code or 0) or CARRIER_REASONS.get(code or 0)
                                 or f"The carrier did not deliver the text (Twilio error {error_code or 'unknown'}).")
        if message.patient_id:
            _timeline(writes, message, "message.failed", error_code=error_code)
    mirror(writes, message)
    return target


# --- inbound ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredMedia:
    media_id: str
    content_type: str
    size: int
    sha256: str
    path: str


def store_media(home: Path, secret_key: str, *, clinic_id: str, media_id: str, data: bytes,
                content_type: str) -> StoredMedia:
    """Seal a media file into the server home (same id, same path: a retry overwrites it)."""
    folder = home / "media" / clinic_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{media_id}.sealed"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(sealing.seal_bytes(secret_key, data))
    tmp.replace(path)
    return StoredMedia(media_id, content_type[:100], len(data), hashlib.sha256(data).hexdigest(),
                       str(path.relative_to(home)))


def read_media(home: Path, secret_key: str, relative_path: str) -> bytes:
    return sealing.unseal_bytes(secret_key, (home / relative_path).read_bytes())


def record_inbound(
    writes: ServerWrites,
    *,
    channel: str,
    patient_id: str | None,
    lead_id: str | None,
    body: str,
    from_addr: str,
    to_addr: str | None,
    provider_sid: str,
    media: list[StoredMedia],
    username: str | None = None,
) -> Message:
    message = Message(
        id=new_id(), clinic_id=writes.clinic_id, patient_id=patient_id, lead_id=lead_id, channel=channel,
        direction="inbound", purpose=None, kind="inbound", body=body, status=RECEIVED,
        media=[{"media_id": m.media_id, "content_type": m.content_type, "size": m.size} for m in media],
        from_addr=from_addr[:64], to_addr=(to_addr or "")[:64] or None, provider_sid=provider_sid[:64],
        created_at=writes.now, updated_at=writes.now,
    )
    repository.add(writes.session, message)
    for m in media:
        repository.add(writes.session, MessageMedia(
            id=m.media_id, clinic_id=writes.clinic_id, message_id=message.id, content_type=m.content_type,
            size=m.size, sha256=m.sha256, path=m.path, created_at=writes.now))
    if patient_id:
        _timeline(writes, message, "message.received", username=username)
    mirror(writes, message)
    return message


def inbound_sms(writes: ServerWrites, *, form: dict[str, str], media: list[StoredMedia],
                profile: ClinicProfile) -> str:
    """An inbound text (after its signature was checked and it was stored): keywords, the
    client's record (a new lead for an unknown number), the thread, a HELP reply."""
    session = writes.session
    raw_from = form.get("From", "")
    phone = try_normalize_phone(raw_from, profile.region) or raw_from
    body = form.get("Body", "") or ""
    word = rules.keyword(body)
    known = writes.find("patient", phone=phone)
    if word in ("stop", "start"):
        _set_opt_out(session, clinic_id=writes.clinic_id, phone=phone, opted_out=word == "stop",
                     keyword=body.strip().upper(), now=writes.now)
        for known_id, data in known:
            _apply_keyword_to_consents(writes, patient_id=known_id, data=data, word=word,
                                       keyword=body.strip().upper())
    patient_id: str | None = known[0][0] if known else None
    lead_id = None
    if patient_id is None and word != "stop":
        patient_id, lead_id = _new_sender(writes, NewSender(
            channel=SMS, person=Person(phone=phone), external_id=f"sms:{phone}", message=None if word else body,
            consents={"transactional_sms": {"granted": True, "at": iso(writes.now), "source": "texted_the_clinic"}},
            acknowledge=word is None,
        ), region=profile.region, timezone=profile.timezone)
    record_inbound(writes, channel=SMS, patient_id=patient_id, lead_id=lead_id, body=body, from_addr=phone,
                   to_addr=form.get("To"), provider_sid=form.get("MessageSid") or form.get("SmsSid") or new_id(),
                   media=media)
    if word == "help":
        text = rules.render(rules.HELP_REPLY, {"clinic_name": profile.name, "clinic_phone": profile.phone})
        queue_outbound(writes, patient_id=patient_id, body=text, kind="help_reply", to=phone, help_reply=True)
    return word or "message"


def inbound_instagram(writes: ServerWrites, *, payload: dict[str, Any], profile_info: dict[str, Any] | None,
                      media: list[StoredMedia], clinic: ClinicProfile) -> str:
    """An Instagram DM: onto the sender's record (found by Instagram account, else a new client
    and lead named from their profile), in the thread with the username."""
    sender = payload["sender_id"]
    known = writes.find("patient", instagram_id=sender)
    username = (profile_info or {}).get("username")
    patient_id = known[0][0] if known else None
    lead_id = None
    if patient_id is not None:
        data = known[0][1]
        username = username or data.get("instagram_handle")
        if username and not data.get("instagram_handle"):
            writes.update("patient", patient_id, {"instagram_handle": username[:60]})
    else:
        first, last = split_name((profile_info or {}).get("name"))
        patient_id, lead_id = _new_sender(writes, NewSender(
            channel=INSTAGRAM, external_id=f"ig:{sender}",
            person=Person(first_name=first or (username or "Instagram"), last_name=last, instagram_id=sender,
                          instagram_handle=(username or None)),
            message=payload.get("text"), details={"username": username},
        ), region=clinic.region, timezone=clinic.timezone)
    record_inbound(writes, channel=INSTAGRAM, patient_id=patient_id, lead_id=lead_id, body=payload.get("text") or "",
                   from_addr=sender, to_addr=payload.get("account_id"), provider_sid=payload["mid"], media=media,
                   username=username)
    return "instagram message"


# --- reads for the desk -----------------------------------------------------------------------


def thread(session: Session, *, clinic_id: str, patient_id: str, limit: int = 200) -> list[Message]:
    return list(repository.thread(session, clinic_id=clinic_id, patient_id=patient_id, limit=limit))


def get_media(session: Session, *, clinic_id: str, message_id: str, media_id: str) -> MessageMedia:
    for media in repository.media_of(session, clinic_id=clinic_id, message_id=message_id):
        if media.id == media_id:
            return media
    raise NotFoundError("There is no such attachment in this clinic.")


def get_message(session: Session, *, clinic_id: str, message_id: str) -> Message:
    message = repository.get(session, clinic_id=clinic_id, message_id=message_id)
    if message is None:
        raise NotFoundError("There is no such message in this clinic.")
    return message


def move_patient_messages(session: Session, *, clinic_id: str, from_patient: str, to_patient: str,
                          now: datetime) -> int:
    """A merge of two client records: the merged-away record's thread joins the survivor's."""
    return repository.move_patient(session, clinic_id=clinic_id, from_patient=from_patient, to_patient=to_patient,
                                   now=now)


def add_starter_templates(writes: ServerWrites) -> int:
    """Give a new clinic core's starter text templates (reminder, deposit link, follow-up...), as
    synced ``message_template`` rows that owners and managers then edit; none when it has some."""
    if writes.find("message_template"):
        return 0
    from core.templates import STARTER_TEMPLATES

    for template in STARTER_TEMPLATES:
        writes.insert("message_template", {"clinic_id": writes.clinic_id, "name": template.name, "body": template.body,
                                           "purpose": template.purpose, "active": True})
    return len(STARTER_TEMPLATES)
