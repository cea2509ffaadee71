"""The providers' real webhook signing schemes, for tests and the stand-ins."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from twilio.request_validator import RequestValidator


def meta_signature(app_secret: str, raw: bytes) -> str:
    """``X-Hub-Signature-256``: ``sha256=`` + hex HMAC-SHA256 of the raw body under the app secret."""
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()


def meta_post(app_secret: str, body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A Meta webhook POST as Meta sends it: compact JSON and its signature header."""
    raw = json.dumps(body, separators=(",", ":")).encode("utf-8")
    return raw, {"Content-Type": "application/json", "X-Hub-Signature-256": meta_signature(app_secret, raw)}


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """``X-Twilio-Signature``: base64 HMAC-SHA1 of the URL + sorted POST params (Twilio's SDK)."""
    return str(RequestValidator(auth_token).compute_signature(url, params))


def leadgen_body(*, page_id: str, leadgen_id: str, form_id: str, ad_id: str | None = None,
                 adgroup_id: str | None = None, created_time: int = 1_763_820_000) -> dict[str, Any]:
    value: dict[str, Any] = {"leadgen_id": leadgen_id, "page_id": page_id, "form_id": form_id,
                             "created_time": created_time}
    if ad_id is not None:
        value.update(ad_id=ad_id, adgroup_id=adgroup_id or "")
    return {"object": "page", "entry": [{"id": page_id, "time": created_time,
                                         "changes": [{"field": "leadgen", "value": value}]}]}


def instagram_body(*, account_id: str, sender_id: str, mid: str, text: str | None = None,
                   attachments: list[dict[str, Any]] | None = None, is_echo: bool = False,
                   timestamp: int = 1_763_820_000_000) -> dict[str, Any]:
    message: dict[str, Any] = {"mid": mid}
    if text is not None:
        message["text"] = text
    if attachments:
        message["attachments"] = attachments
    if is_echo:
        message["is_echo"] = True
    sender, recipient = (account_id, sender_id) if is_echo else (sender_id, account_id)
    return {"object": "instagram", "entry": [{"id": account_id, "time": timestamp, "messaging": [
        {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": timestamp, "message": message}]}]}
