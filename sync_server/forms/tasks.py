"""Inbox processor of the web forms context."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sync_server.forms import service
from sync_server.jobs.worker import JobContext
from sync_server.messaging import service as messaging
from sync_server.records.service import ServerWrites
from sync_server.webhooks import service as inbox
from sync_server.webhooks.models import WebhookEvent

HANDLERS: dict[str, Any] = {}


def _apply(session: Session, ctx: JobContext, event: WebhookEvent, _prepared: Any) -> str:
    writes = ServerWrites(session, clinic_id=ctx.clinic_id, now=ctx.now(), hlc=ctx.worker.hlc)
    profile = messaging.clinic_profile(session, clinic_id=ctx.clinic_id)
    return service.apply_submission(writes, event=event, region=profile.region, timezone=profile.timezone)


PROCESSORS = {(service.SOURCE, service.KIND): inbox.Processor(lambda ctx, event: None, _apply)}
