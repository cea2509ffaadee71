"""Job handlers and inbox processors of the messaging context."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.orm import Session

from sync_server.integrations import service as integrations
from sync_server.jobs.worker import Handler, JobContext
from sync_server.messaging import instagram, service
from sync_server.records.service import ServerWrites
from sync_server.webhooks import meta as meta_webhooks
from sync_server.webhooks import service as inbox
from sync_server.webhooks import twilio as twilio_webhooks
from sync_server.webhooks.models import WebhookEvent

log = logging.getLogger(__name__)

HANDLERS = {service.SEND_JOB: Handler(service.send_job, service.give_up_send),
            instagram.DM_SEND_JOB: Handler(instagram.send_job, instagram.give_up_dm)}


def _writes(session: Session, ctx: JobContext) -> ServerWrites:
    return ServerWrites(session, clinic_id=ctx.clinic_id, now=ctx.now(), hlc=ctx.worker.hlc)


def _event_media_id(event: WebhookEvent, index: int) -> str:
    """A stable id per attachment of an event, so that a retried job writes the same file."""
    import uuid

    return str(uuid.uuid5(uuid.UUID(event.id), f"media-{index}"))


# --- Instagram DMs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _DirectMessage:
    profile: dict[str, Any] | None
    media: list[service.StoredMedia]


def prepare_instagram(ctx: JobContext, event: WebhookEvent) -> _DirectMessage:
    from sync_server.integrations.meta_graph import GraphClient
    from sync_server.records.service import find

    payload = event.payload
    secret_key = ctx.settings.ensure_secret_key()
    with ctx.transaction(write=False) as session:
        known = find(session, clinic_id=ctx.clinic_id, entity="patient", instagram_id=payload["sender_id"])
        account = integrations.meta_account(session, clinic_id=ctx.clinic_id, secret_key=secret_key)
    profile = None
    if not (known and known[0][1].get("instagram_handle")) and account is not None and account.page_token:
        # the username is looked up once: afterwards it is on the client's record
        with GraphClient(ctx.settings.meta_graph_url, access_token=account.page_token,
                         app_secret=account.app_secret) as graph:
            profile = graph.profile(payload["sender_id"])
    media: list[service.StoredMedia] = []
    for index, attachment in enumerate(payload.get("attachments") or []):
        url = attachment.get("url")
        if not url:
            continue
        try:
            response = httpx.get(url, timeout=15, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError:
            log.warning("instagram attachment could not be fetched (kept without it)")
            continue
        media.append(service.store_media(
            ctx.settings.server_home, secret_key, clinic_id=ctx.clinic_id, media_id=_event_media_id(event, index),
            data=response.content, content_type=response.headers.get("content-type", attachment.get("type") or ""),
        ))
    return _DirectMessage(profile, media)


def apply_instagram(session: Session, ctx: JobContext, event: WebhookEvent, prepared: _DirectMessage) -> str:
    writes = _writes(session, ctx)
    clinic = service.clinic_profile(session, clinic_id=ctx.clinic_id)
    return service.inbound_instagram(writes, payload=event.payload, profile_info=prepared.profile,
                                     media=prepared.media, clinic=clinic)




# --- Twilio -----------------------------------------------------------------------------------


def prepare_sms(ctx: JobContext, event: WebhookEvent) -> list[service.StoredMedia]:
    """Fetch an MMS's media from Twilio (authenticated) and seal it into the server home."""
    from sync_server.integrations.twilio_api import TwilioTransport

    form = event.payload
    count = int(form.get("NumMedia") or 0)
    if count <= 0:
        return []
    secret_key = ctx.settings.ensure_secret_key()
    with ctx.transaction(write=False) as session:
        account = integrations.twilio_account(session, clinic_id=ctx.clinic_id, secret_key=secret_key)
    if account is None:
        return []
    media: list[service.StoredMedia] = []
    with TwilioTransport(ctx.settings.twilio_api_url, account) as twilio:
        for index in range(min(count, 10)):
            url = form.get(f"MediaUrl{index}")
            if not url:
                continue
            data, content_type = twilio.fetch_media(url)
            media.append(service.store_media(
                ctx.settings.server_home, secret_key, clinic_id=ctx.clinic_id, media_id=_event_media_id(event, index),
                data=data, content_type=form.get(f"MediaContentType{index}") or content_type,
            ))
    return media


def apply_sms(session: Session, ctx: JobContext, event: WebhookEvent, media: list[service.StoredMedia]) -> str:
    writes = _writes(session, ctx)
    profile = service.clinic_profile(session, clinic_id=ctx.clinic_id)
    return service.inbound_sms(writes, form=event.payload, media=media, profile=profile)


def apply_status(session: Session, ctx: JobContext, event: WebhookEvent, _prepared: Any) -> str:
    form = event.payload
    return service.apply_status(
        session, clinic_id=ctx.clinic_id, sid=form.get("MessageSid") or form.get("SmsSid") or "",
        twilio_status=form.get("MessageStatus") or form.get("SmsStatus") or "", error_code=form.get("ErrorCode"),
        now=ctx.now(), writes_factory=lambda: _writes(session, ctx),
    )


PROCESSORS = {
    (meta_webhooks.SOURCE, meta_webhooks.INSTAGRAM_MESSAGE): inbox.Processor(prepare_instagram, apply_instagram),
    (twilio_webhooks.SMS_SOURCE, twilio_webhooks.SMS_KIND): inbox.Processor(prepare_sms, apply_sms),
    (twilio_webhooks.STATUS_SOURCE, twilio_webhooks.STATUS_KIND): inbox.Processor(lambda ctx, event: None,
                                                                                  apply_status),
}
