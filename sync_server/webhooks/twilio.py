"""Twilio webhooks: inbound texts (``/webhooks/twilio/sms``) and delivery states
(``/webhooks/twilio/status``).

Twilio signs each request with ``X-Twilio-Signature``: base64 HMAC-SHA1, under the account's
auth token, of the URL it called (``GLOWDESK_PUBLIC_URL`` + path + query) followed by the POST
parameters sorted by name; checked with the SDK's ``RequestValidator``. The clinic is found
before anything is stored: by the receiving number (``To``) or messaging service for inbound
texts, by the ``clinic`` we put in the status callback URL for delivery states. Stored: each
text once by its ``MessageSid``; each delivery state once by ``MessageSid:MessageStatus``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from core.phone import try_normalize_phone
from sync_server import tenancy
from sync_server.db import Database
from sync_server.integrations import service as integrations
from sync_server.webhooks import service
from sync_server.webhooks.errors import SignatureInvalid, SignatureMissing

log = logging.getLogger(__name__)

SMS_SOURCE = "twilio_sms"
SMS_KIND = "sms"
STATUS_SOURCE = "twilio_status"
STATUS_KIND = "status"


def signed_url(public_url: str, path: str, query: str) -> str:
    return public_url.rstrip("/") + path + (f"?{query}" if query else "")


def _verify(auth_token: str, url: str, params: dict[str, str], signature: str) -> bool:
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def _candidates(session: Session, params: dict[str, str], clinic_hint: str | None) -> list[str]:
    if clinic_hint:
        return [clinic_hint]
    keys = []
    if params.get("MessagingServiceSid"):
        keys.append(integrations.route_twilio_service(params["MessagingServiceSid"]))
    to = try_normalize_phone(params.get("To"), "US") or params.get("To")
    if to:
        keys.append(integrations.route_twilio_number(to))
    found: list[str] = []
    for key in keys:
        for clinic_id in integrations.clinics_for_route(session, key):
            if clinic_id not in found:
                found.append(clinic_id)
    return found


def _store(session: Session, clinic_id: str, *, url: str, params: dict[str, str], signature: str, source: str,
           now: datetime, secret_key: str) -> bool | None:
    """Verify against ``clinic_id``'s auth token and store; None when that clinic does not verify."""
    tenancy.enter_clinic(session, clinic_id)
    account = integrations.twilio_account(session, clinic_id=clinic_id, secret_key=secret_key)
    if account is None or not _verify(account.auth_token, url, params, signature):
        return None
    if params.get("AccountSid") and params["AccountSid"] != account.account_sid:
        return None
    sid = params.get("MessageSid") or params.get("SmsSid")
    if not sid:
        return False
    if source == SMS_SOURCE:
        external, kind = sid, SMS_KIND
    else:
        external, kind = f"{sid}:{params.get('MessageStatus', params.get('SmsStatus', ''))}", STATUS_KIND
    return service.receive(session, clinic_id=clinic_id, source=source, external_id=external, kind=kind,
                           payload=dict(params), now=now) is not None


def receive(db: Database, *, url: str, params: dict[str, str], signature: str | None, source: str, now: datetime,
            clinic_hint: str | None = None) -> bool:
    """Verify (against the clinic's auth token) and store one Twilio request; True if new.

    The usual case (one clinic holds the number) is one write transaction: route lookup,
    verification and the insert together. A refusal raises inside it, so nothing is stored.
    """
    if not signature:
        raise SignatureMissing("This request has no X-Twilio-Signature header; nothing was stored.")
    secret_key = db.settings.ensure_secret_key()

    def attempt(session: Session, clinic_id: str) -> bool | None:
        return _store(session, clinic_id, url=url, params=params, signature=signature, source=source, now=now,
                      secret_key=secret_key)

    with db.transaction(write=True, app_role=True) as session:
        candidates = _candidates(session, params, clinic_hint)
        if candidates:
            stored = attempt(session, candidates[0])
            if stored is not None:
                return stored
    for clinic_id in candidates[1:]:  # one transaction works for one clinic
        with db.transaction(write=True, app_role=True) as session:
            stored = attempt(session, clinic_id)
            if stored is not None:
                return stored
    log.warning("twilio webhook refused: the signature matches no connected clinic")
    raise SignatureInvalid("The X-Twilio-Signature of this request does not verify; nothing was stored.")
