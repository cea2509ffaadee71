"""Meta webhooks (``/webhooks/meta``): the verification handshake, signature, and the events kept.

A POST carries ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body under the app
secret>``. The body names the page (``object=page``, ``leadgen`` changes) or the Instagram
account (``object=instagram``, ``messaging``) of each entry; that id finds the clinic
(:mod:`sync_server.integrations.service` routes), whose app secret must verify the signature
before any of its events is stored. Kept: ``leadgen`` changes (``leadgen:<leadgen id>``) and
Instagram messages (``ig:<message id>``), echoes of our own sends excepted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sync_server import tenancy
from sync_server.db import Database
from sync_server.integrations import service as integrations
from sync_server.webhooks import service
from sync_server.webhooks.errors import SignatureInvalid, SignatureMissing

log = logging.getLogger(__name__)

SOURCE = "meta"
LEADGEN = "leadgen"
INSTAGRAM_MESSAGE = "instagram_message"


@dataclass(frozen=True)
class MetaEvent:
    route_key: str
    external_id: str
    kind: str
    payload: dict[str, Any]


def signature_of(app_secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()


def signature_matches(app_secret: str, raw: bytes, header: str) -> bool:
    return hmac.compare_digest(signature_of(app_secret, raw), header.strip())


def routes_named(body: Any) -> set[str]:
    """The route keys of every entry of a body (verification needs them even when no event is kept)."""
    if not isinstance(body, dict) or not isinstance(body.get("entry"), list):
        return set()
    make = {"page": integrations.route_meta_page, "instagram": integrations.route_meta_instagram}.get(
        str(body.get("object")))
    if make is None:
        return set()
    return {make(str(e["id"])) for e in body["entry"] if isinstance(e, dict) and e.get("id")}


def parse(body: Any) -> list[MetaEvent]:
    """The events of a webhook body that Glowdesk keeps (nothing is trusted yet)."""
    if not isinstance(body, dict) or not isinstance(body.get("entry"), list):
        return []
    kind = body.get("object")
    out: list[MetaEvent] = []
    for entry in body["entry"]:
        if not isinstance(entry, dict):
            continue
        entry_id = str(entry.get("id", ""))
        if kind == "page":
            for change in entry.get("changes") or []:
                if not isinstance(change, dict) or change.get("field") != "leadgen":
                    continue
                value = change.get("value") or {}
                leadgen_id = str(value.get("leadgen_id", ""))
                page_id = str(value.get("page_id") or entry_id)
                if leadgen_id and page_id:
                    out.append(MetaEvent(integrations.route_meta_page(page_id), f"leadgen:{leadgen_id}", LEADGEN,
                                         {"page_id": page_id, **{k: value.get(k) for k in (
                                             "leadgen_id", "form_id", "ad_id", "adgroup_id", "created_time")}}))
        elif kind == "instagram":
            for item in entry.get("messaging") or []:
                message = item.get("message") if isinstance(item, dict) else None
                if not isinstance(message, dict) or not message.get("mid"):
                    continue  # reads, reactions, postbacks: not kept
                if message.get("is_echo"):
                    continue  # our own sends, echoed back
                out.append(MetaEvent(
                    integrations.route_meta_instagram(entry_id), f"ig:{message['mid']}", INSTAGRAM_MESSAGE,
                    {"account_id": entry_id, "sender_id": str((item.get("sender") or {}).get("id", "")),
                     "recipient_id": str((item.get("recipient") or {}).get("id", "")),
                     "timestamp": item.get("timestamp"), "mid": message["mid"], "text": message.get("text"),
                     "attachments": [
                         {"type": a.get("type"), "url": (a.get("payload") or {}).get("url")}
                         for a in message.get("attachments") or [] if isinstance(a, dict)
                     ]},
                ))
    return out


def receive(db: Database, *, raw: bytes, signature: str | None, now: datetime) -> dict[str, int]:
    """Verify and store a POST's events; ``{"stored": n, "duplicates": n}``.

    Raises :class:`SignatureMissing` (401) without a signature, :class:`SignatureInvalid` (403)
    when no clinic named in the body verifies it; nothing is stored then.
    """
    if not signature:
        raise SignatureMissing("This request has no X-Hub-Signature-256 header; nothing was stored.")
    try:
        body = json.loads(raw)
    except ValueError:
        raise SignatureInvalid("This request cannot be verified; nothing was stored.") from None
    by_route: dict[str, list[MetaEvent]] = {key: [] for key in sorted(routes_named(body))}
    for event in parse(body):
        by_route.setdefault(event.route_key, []).append(event)
    secret_key = db.settings.ensure_secret_key()
    verified = False
    stored = duplicates = 0
    def store(session: Session, clinic_id: str, events: list[MetaEvent]) -> tuple[int, int] | None:
        """Verify against ``clinic_id``'s app secret and store (new, duplicates); None: no match."""
        tenancy.enter_clinic(session, clinic_id)
        account = integrations.meta_account(session, clinic_id=clinic_id, secret_key=secret_key)
        if account is None or not account.app_secret or not signature_matches(account.app_secret, raw, signature):
            return None
        new = sum(service.receive(session, clinic_id=clinic_id, source=SOURCE, external_id=event.external_id,
                                  kind=event.kind, payload=event.payload, now=now) is not None for event in events)
        return new, len(events) - new

    for route_key, events in by_route.items():
        # the usual case (one clinic on the route) is one write transaction: the route lookup,
        # the verification and the inserts together
        outcomes: list[tuple[int, int] | None] = []
        with db.transaction(write=True, app_role=True) as session:
            clinic_ids = integrations.clinics_for_route(session, route_key)
            if clinic_ids:
                outcomes.append(store(session, clinic_ids[0], events))
        for clinic_id in clinic_ids[1:]:  # one transaction works for one clinic
            with db.transaction(write=True, app_role=True) as session:
                outcomes.append(store(session, clinic_id, events))
        for outcome in outcomes:
            if outcome is not None:
                verified = True
                stored += outcome[0]
                duplicates += outcome[1]
    if not verified:
        if by_route:
            log.warning("meta webhook refused: the signature matches no connected clinic")
        raise SignatureInvalid("The X-Hub-Signature-256 of this request does not verify; nothing was stored.")
    return {"stored": stored, "duplicates": duplicates}


def verify_subscription(db: Database, *, mode: str | None, token: str | None, challenge: str | None) -> str:
    """The GET handshake: echo ``hub.challenge`` when ``hub.verify_token`` is a clinic's."""
    if mode != "subscribe" or not token or challenge is None:
        raise SignatureInvalid("This is not a Meta subscription request.")
    key = integrations.route_meta_verify(db.settings.ensure_secret_key(), token)
    with db.transaction(write=False, app_role=True) as session:
        if not integrations.clinics_for_route(session, key):
            raise SignatureInvalid("The verify token is not one this server knows.")
    return challenge
