"""Webhook endpoints: ``/webhooks/meta`` (GET handshake, POST events), ``/webhooks/twilio/sms`` and
``/webhooks/twilio/status``. Each reads the raw body, checks the provider's signature on it, stores
the events in the inbox and answers at once; jobs do the rest. Not under ``/api/v1``: providers
authenticate with signatures, not device tokens.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from sync_server.db import Database
from sync_server.deps import NowDep, get_database
from sync_server.webhooks import meta, twilio
from sync_server.webhooks.errors import PayloadTooLarge

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
DatabaseDep = Annotated[Database, Depends(get_database)]

MAX_BODY = 1024 * 1024


async def raw_body(request: Request, *, max_bytes: int = MAX_BODY) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge("This webhook is too large; nothing was stored.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge("This webhook is too large; nothing was stored.")
        chunks.append(chunk)
    return b"".join(chunks)


@router.get("/meta", response_class=PlainTextResponse)
def meta_handshake(
    db: DatabaseDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    """Meta's subscription check: answers ``hub.challenge`` for a known verify token, else 403."""
    return PlainTextResponse(meta.verify_subscription(db, mode=mode, token=token, challenge=challenge))


@router.post("/meta")
async def meta_events(request: Request, db: DatabaseDep, now: NowDep) -> JSONResponse:
    """Lead ads (``leadgen``) and Instagram messages, signed with ``X-Hub-Signature-256``."""
    raw = await raw_body(request)
    signature = request.headers.get("x-hub-signature-256")
    result = await run_in_threadpool(meta.receive, db, raw=raw, signature=signature, now=now)
    return JSONResponse(result)


_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def _twilio_params(request: Request) -> dict[str, str]:
    """Twilio posts ``application/x-www-form-urlencoded``; every parameter counts in the signature."""
    raw = await raw_body(request)
    return dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))


@router.post("/twilio/sms")
async def twilio_sms(request: Request, db: DatabaseDep, now: NowDep) -> Response:
    """Inbound SMS and MMS to a clinic's number, signed with ``X-Twilio-Signature``."""
    params = await _twilio_params(request)
    url = twilio.signed_url(request.app.state.settings.public_url, request.url.path, request.url.query)
    await run_in_threadpool(twilio.receive, db, url=url, params=params,
                            signature=request.headers.get("x-twilio-signature"), source=twilio.SMS_SOURCE, now=now)
    return Response(_EMPTY_TWIML, media_type="text/xml")


@router.post("/twilio/status")
async def twilio_status(request: Request, db: DatabaseDep, now: NowDep) -> Response:
    """Delivery states of the texts a clinic sent (the status callback Glowdesk gives Twilio)."""
    params = await _twilio_params(request)
    url = twilio.signed_url(request.app.state.settings.public_url, request.url.path, request.url.query)
    clinic = request.query_params.get("clinic")
    await run_in_threadpool(twilio.receive, db, url=url, params=params,
                            signature=request.headers.get("x-twilio-signature"), source=twilio.STATUS_SOURCE,
                            now=now, clinic_hint=clinic)
    return Response(status_code=204)
