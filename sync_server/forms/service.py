"""Web lead forms: accept a submission into the inbox (spam-checked, never dropped), and turn a
stored submission into a lead. Services never commit.

Spam protection keeps every submission: one that filled the honeypot, or that comes from an
address which posted more than :data:`RATE_LIMIT` times in :data:`RATE_WINDOW`, is stored with
a ``flag`` and becomes a lead in state ``spam`` (contact details on its timeline entry, no
client record, no automatic text) for staff to review. The address itself is never stored, only
a keyed hash of it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.errors import NotFoundError, ValidationError
from core.ids import new_id
from core.phone import try_normalize_phone
from sync_server.clinics import service as clinics
from sync_server.clinics.models import Clinic
from sync_server.forms.schemas import ATTRIBUTION_FIELDS, LeadSubmission
from sync_server.leads import service as leads
from sync_server.patients.service import Person, split_name
from sync_server.records.service import ServerWrites
from sync_server.sync.service import iso
from sync_server.webhooks import service as inbox
from sync_server.webhooks.models import WebhookEvent

SOURCE = "web_form"
KIND = "lead"
RATE_LIMIT = 5
RATE_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class Accepted:
    event_id: str | None  # None: the same submission again
    flag: str | None


def open_form(session: Session, *, slug: str) -> Clinic:
    clinic = clinics.find_clinic(session, slug=slug)
    if clinic is None:
        raise NotFoundError("There is no such form.")
    return clinic


def sender_key(secret_key: str, address: str | None) -> str | None:
    if not address:
        return None
    return hmac.new(secret_key.encode(), b"form-sender:" + address.encode(), hashlib.sha256).hexdigest()[:64]


def check(submission: LeadSubmission, *, region: str) -> None:
    """Refuse what cannot become a lead (the page shows the sentence next to the form)."""
    if not (submission.first_name or submission.name):
        raise ValidationError("Please tell us your name.", field="first_name")
    if not submission.phone and not submission.email:
        raise ValidationError("Please give us a phone number or an email address.", field="phone")
    if submission.phone and try_normalize_phone(submission.phone, region) is None:
        raise ValidationError("That phone number does not look right; please check it.", field="phone")


def accept(session: Session, *, clinic: Clinic, submission: LeadSubmission, address: str | None, secret_key: str,
           now: datetime) -> Accepted:
    """Store a submission (in the request's transaction) and queue it; flagged ones too."""
    flag = None
    if submission.website:
        flag = "honeypot"
    else:
        check(submission, region=clinic.region)
    key = sender_key(secret_key, address)
    if flag is None and key is not None:
        recent = inbox.count_recent(session, clinic_id=clinic.id, source=SOURCE, sender_key=key, since=now - RATE_WINDOW)
        if recent >= RATE_LIMIT:
            flag = "rate_limited"
    submission_id = submission.submission_id or new_id()
    event_id = inbox.receive(session, clinic_id=clinic.id, source=SOURCE, external_id=f"{clinic.id}:{submission_id}",
                             kind=KIND, payload=submission.model_dump(), now=now, sender_key=key, flag=flag)
    return Accepted(event_id, flag)


def apply_submission(writes: ServerWrites, *, event: WebhookEvent, region: str, timezone: str) -> str:
    """The inbox processor: a stored submission becomes a lead (and a client, unless flagged)."""
    sub = LeadSubmission.model_validate(event.payload)
    first, last = sub.first_name, sub.last_name
    if not first and sub.name:
        first, last = split_name(sub.name)
    consents: dict[str, Any] = {}
    at = iso(event.received_at)
    if sub.sms_consent:
        consents["transactional_sms"] = {"granted": True, "at": at, "source": "web_form"}
    if sub.marketing_consent:
        consents["marketing_sms"] = {"granted": True, "at": at, "source": "web_form"}
    result = leads.intake(writes, lead=leads.LeadIntake(
        source=leads.WEB_FORM, received_at=event.received_at,
        external_id=event.external_id.split(":", 1)[-1],
        person=Person(first_name=first, last_name=last, phone=sub.phone or None, email=sub.email or None),
        message=sub.message or None, service_interest=sub.service_interest or None,
        attribution={k: getattr(sub, k) or None for k in ATTRIBUTION_FIELDS},
        consents=consents, flagged=event.flag,
    ), region=region, timezone=timezone)
    if result.duplicate:
        return "lead already recorded"
    return f"lead held for review ({event.flag})" if event.flag else "lead created"
