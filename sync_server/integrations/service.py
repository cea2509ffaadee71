"""Connecting a clinic to Twilio and Meta: credentials (secrets sealed at rest), the routes that
map an inbound webhook to its clinic, and reading them back for the jobs. Services never commit.

Routes: a Meta page id, an Instagram account id, a Twilio number or messaging service belongs to
exactly one clinic (setting it for a second clinic is refused). A Meta verify token may be
shared (one agency app serving several clinics); it is stored sealed and routed by its HMAC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.errors import ConflictError, ValidationError
from core.phone import InvalidPhone, normalize_phone
from sync_server import tenancy
from sync_server.audit import service as audit
from sync_server.integrations import repository, sealing
from sync_server.integrations.models import Integration

TWILIO = "twilio"
META = "meta"

#: How often each connected lead form is swept for leads a webhook missed (seconds).
META_SWEEP_SECONDS = 15 * 60

_TWILIO_SECRETS = ("auth_token",)
_META_SECRETS = ("app_secret", "verify_token", "page_token")


@dataclass(frozen=True)
class TwilioAccount:
    account_sid: str
    auth_token: str
    from_number: str | None
    messaging_service_sid: str | None


@dataclass(frozen=True)
class MetaAccount:
    app_secret: str | None
    verify_token: str | None
    page_id: str | None
    page_token: str | None
    instagram_id: str | None


def route_meta_page(page_id: str) -> str:
    return f"meta_page:{page_id}"


def route_meta_instagram(instagram_id: str) -> str:
    return f"meta_ig:{instagram_id}"


def route_twilio_number(e164: str) -> str:
    return f"twilio_number:{e164}"


def route_twilio_service(sid: str) -> str:
    return f"twilio_service:{sid}"


def route_meta_verify(secret_key: str, token: str) -> str:
    return f"meta_verify:{sealing.lookup_hash(secret_key, token)}"


_SID = {"account_sid": re.compile(r"^AC[0-9a-fA-F]{32}$"), "messaging_service_sid": re.compile(r"^MG[0-9a-fA-F]{32}$")}
_NUMERIC_ID = re.compile(r"^[0-9]{1,30}$")


def _check(name: str, value: str | None, pattern: re.Pattern[str], sentence: str) -> None:
    if value is not None and not pattern.match(value):
        raise ValidationError(sentence, field=name)


def set_twilio(
    session: Session,
    *,
    clinic_id: str,
    secret_key: str,
    region: str,
    now: datetime,
    actor: audit.Actor,
    account_sid: str | None = None,
    auth_token: str | None = None,
    from_number: str | None = None,
    messaging_service_sid: str | None = None,
) -> None:
    """Create or update the clinic's Twilio connection (only the options given change)."""
    row = repository.get(session, clinic_id=clinic_id, provider=TWILIO)
    config: dict[str, Any] = dict(row.config) if row is not None else {}
    secrets = sealing.unseal(secret_key, row.sealed) if row is not None else {}
    _check("account_sid", account_sid, _SID["account_sid"], "A Twilio account SID is AC followed by 32 hex digits.")
    _check("messaging_service_sid", messaging_service_sid, _SID["messaging_service_sid"],
           "A Twilio messaging service SID is MG followed by 32 hex digits.")
    if from_number is not None:
        try:
            from_number = normalize_phone(from_number, region)
        except InvalidPhone:
            raise ValidationError("The Twilio sending number is not a valid phone number.", field="from") from None
    for key, value in (("account_sid", account_sid), ("from_number", from_number),
                       ("messaging_service_sid", messaging_service_sid)):
        if value is not None:
            config[key] = value
    if auth_token is not None:
        if not auth_token.strip():
            raise ValidationError("The Twilio auth token is empty.", field="auth_token")
        secrets["auth_token"] = auth_token.strip()
    if not config.get("account_sid") or not secrets.get("auth_token"):
        raise ValidationError("Twilio needs both --twilio-account-sid and --twilio-auth-token.", field="account_sid")
    if not config.get("from_number") and not config.get("messaging_service_sid"):
        raise ValidationError("Twilio needs a sending number (--twilio-from) or a messaging service "
                              "(--twilio-messaging-service).", field="from")
    keys = []
    if config.get("from_number"):
        keys.append(route_twilio_number(config["from_number"]))
    if config.get("messaging_service_sid"):
        keys.append(route_twilio_service(config["messaging_service_sid"]))
    _save(session, clinic_id=clinic_id, provider=TWILIO, config=config, secrets=secrets, secret_key=secret_key,
          routes=keys, now=now, actor=actor)


def set_meta(
    session: Session,
    *,
    clinic_id: str,
    secret_key: str,
    now: datetime,
    actor: audit.Actor,
    app_secret: str | None = None,
    verify_token: str | None = None,
    page_id: str | None = None,
    page_token: str | None = None,
    instagram_id: str | None = None,
) -> None:
    """Create or update the clinic's Meta connection; the first time a page is connected, the
    recurring lead-form sweep is queued."""
    from sync_server.jobs import service as jobs

    row = repository.get(session, clinic_id=clinic_id, provider=META)
    config: dict[str, Any] = dict(row.config) if row is not None else {}
    secrets = sealing.unseal(secret_key, row.sealed) if row is not None else {}
    _check("page_id", page_id, _NUMERIC_ID, "A Facebook page id is a number.")
    _check("instagram_id", instagram_id, _NUMERIC_ID, "An Instagram account id is a number.")
    if page_id is not None:
        config["page_id"] = page_id
    if instagram_id is not None:
        config["instagram_id"] = instagram_id
    for key, value in (("app_secret", app_secret), ("verify_token", verify_token), ("page_token", page_token)):
        if value is not None:
            if not value.strip():
                raise ValidationError(f"The Meta {key.replace('_', ' ')} is empty.", field=key)
            secrets[key] = value.strip()
    # not a secret: lets a push decide whether DMs can go without unsealing anything
    config["page_token_set"] = bool(secrets.get("page_token"))
    if not secrets.get("app_secret"):
        raise ValidationError("Meta needs the app secret (--meta-app-secret): webhooks are checked with it.",
                              field="app_secret")
    keys = []
    if config.get("page_id"):
        keys.append(route_meta_page(config["page_id"]))
    if config.get("instagram_id"):
        keys.append(route_meta_instagram(config["instagram_id"]))
    if secrets.get("verify_token"):
        keys.append(route_meta_verify(secret_key, secrets["verify_token"]))
    _save(session, clinic_id=clinic_id, provider=META, config=config, secrets=secrets, secret_key=secret_key,
          routes=keys, now=now, actor=actor)
    if config.get("page_id") and secrets.get("page_token"):
        jobs.enqueue(session, clinic_id=clinic_id, kind="meta.sweep", dedupe_key="meta.sweep@first", now=now,
                     repeat_seconds=META_SWEEP_SECONDS)


def _save(
    session: Session, *, clinic_id: str, provider: str, config: dict[str, Any], secrets: dict[str, str],
    secret_key: str, routes: list[str], now: datetime, actor: audit.Actor,
) -> None:
    for key in routes:
        if key.startswith("meta_verify:"):
            continue  # shareable
        owners = clinics_for_route(session, key)
        if any(owner != clinic_id for owner in owners):
            what = key.split(":", 1)[0].replace("_", " ")
            raise ConflictError(f"This {what} is already connected to another clinic on this server.")
    repository.put(session, Integration(clinic_id=clinic_id, provider=provider, config=config,
                                        sealed=sealing.seal(secret_key, secrets), updated_at=now))
    repository.replace_routes(session, clinic_id=clinic_id, provider=provider, keys=routes)
    audit.append(session, clinic_id=clinic_id, actor=actor, action="integration.set", entity="integration",
                 entity_id=provider, detail={"config": sorted(config), "secrets": sorted(secrets)}, now=now)


def clinics_for_route(session: Session, route_key: str) -> list[str]:
    """The clinics holding ``route_key`` (works before the clinic is known: presents the key)."""
    tenancy.present_credential(session, route_key)
    return repository.clinics_by_route(session, route_key)


def twilio_account(session: Session, *, clinic_id: str, secret_key: str) -> TwilioAccount | None:
    row = repository.get(session, clinic_id=clinic_id, provider=TWILIO)
    if row is None:
        return None
    secrets = sealing.unseal(secret_key, row.sealed)
    if not row.config.get("account_sid") or not secrets.get("auth_token"):
        return None
    return TwilioAccount(row.config["account_sid"], secrets["auth_token"], row.config.get("from_number"),
                         row.config.get("messaging_service_sid"))


def twilio_sender(session: Session, *, clinic_id: str) -> str | None:
    """The number (or messaging service) the clinic texts from; None when Twilio is not connected."""
    row = repository.get(session, clinic_id=clinic_id, provider=TWILIO)
    if row is None or not row.config.get("account_sid") or not row.sealed:
        return None
    sender = row.config.get("from_number") or row.config.get("messaging_service_sid")
    return str(sender) if sender else None


def meta_sender(session: Session, *, clinic_id: str) -> str | None:
    """The id Instagram DMs are sent from (the page, else the Instagram account); None when the
    clinic cannot send DMs (Meta not connected, no page token, no page or Instagram account)."""
    row = repository.get(session, clinic_id=clinic_id, provider=META)
    if row is None or row.config.get("page_token_set") is False:
        return None
    sender = row.config.get("page_id") or row.config.get("instagram_id")
    return str(sender) if sender else None


def meta_account(session: Session, *, clinic_id: str, secret_key: str) -> MetaAccount | None:
    row = repository.get(session, clinic_id=clinic_id, provider=META)
    if row is None:
        return None
    secrets = sealing.unseal(secret_key, row.sealed)
    return MetaAccount(secrets.get("app_secret"), secrets.get("verify_token"), row.config.get("page_id"),
                       secrets.get("page_token"), row.config.get("instagram_id"))


def describe(session: Session, *, clinic_id: str, secret_key: str) -> dict[str, Any]:
    """What is connected, for ``integrations show``: settings, and which secrets are set (never
    their values)."""
    out: dict[str, Any] = {}
    for row in repository.all_for(session, clinic_id=clinic_id):
        secrets = sealing.unseal(secret_key, row.sealed)
        names = _TWILIO_SECRETS if row.provider == TWILIO else _META_SECRETS
        entry: dict[str, Any] = dict(row.config)
        for name in names:
            entry[name] = "set (hidden)" if secrets.get(name) else "not set"
        entry["updated_at"] = row.updated_at.isoformat()
        out[row.provider] = entry
    return out
