"""The inbox: store a verified event once and queue its processing in the same transaction;
process it exactly once. Services never commit.

Receiving (:func:`receive`) runs in the webhook request's transaction *after* the signature was
checked on the raw body; a duplicate delivery finds the row already there and changes nothing.
Processing (:func:`process`, the ``webhook.process`` job) hands the event to the processor
registered for its (source, kind): ``prepare`` does the network work outside any transaction
(fetching a lead from the Graph API, media from Twilio), then ``apply`` runs in one transaction
that first claims the event (``processed_at``, compare-and-swap), applies the effects and marks
the job done. A crash anywhere before that commit leaves the event unprocessed and its job due
again; after it, the event is never handled twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from core.ids import new_id
from sync_server.jobs import service as jobs
from sync_server.webhooks import repository
from sync_server.webhooks.models import WebhookEvent

if TYPE_CHECKING:
    from sync_server.jobs.worker import JobContext

log = logging.getLogger(__name__)

PROCESS_JOB = "webhook.process"


@dataclass(frozen=True)
class Processor:
    #: network work outside any transaction; returns what ``apply`` needs (None: nothing)
    prepare: Callable[[JobContext, WebhookEvent], Any]
    #: the effects, in the transaction that claims the event; returns a short outcome (no patient data)
    apply: Callable[[Session, JobContext, WebhookEvent, Any], str | None]


#: Explicit (source, kind) -> processor registrations; they win over the contexts' own
#: ``PROCESSORS`` tables (see :data:`PROCESSOR_MODULES`).
PROCESSORS: dict[tuple[str, str], Processor] = {}


def register(source: str, kind: str, processor: Processor) -> None:
    PROCESSORS[(source, kind)] = processor


def processor_for(source: str, kind: str) -> Processor | None:
    """The processor of an event kind: an explicit registration, else the handling context's."""
    import importlib

    if (source, kind) in PROCESSORS:
        return PROCESSORS[(source, kind)]
    for name in PROCESSOR_MODULES:
        table: dict[tuple[str, str], Processor] = importlib.import_module(name).PROCESSORS
        if (source, kind) in table:
            return table[(source, kind)]
    return None


def receive(
    session: Session,
    *,
    clinic_id: str,
    source: str,
    external_id: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    sender_key: str | None = None,
    flag: str | None = None,
) -> str | None:
    """Store the event and queue its processing; the new event's id, or None for a duplicate."""
    event_id = new_id()
    created = repository.insert_new(session, {
        "id": event_id, "clinic_id": clinic_id, "source": source, "external_id": external_id[:200], "kind": kind,
        "payload": payload, "sender_key": sender_key, "flag": flag, "received_at": now, "processed_at": None,
    })
    if not created:
        return None
    jobs.enqueue(session, clinic_id=clinic_id, kind=PROCESS_JOB, payload={"event_id": event_id},
                 dedupe_key=f"webhook:{event_id}", now=now)
    return event_id


def count_recent(session: Session, *, clinic_id: str, source: str, sender_key: str, since: datetime) -> int:
    return repository.count_from_sender(session, clinic_id=clinic_id, source=source, sender_key=sender_key,
                                        since=since)


def get_event(session: Session, *, clinic_id: str, event_id: str) -> WebhookEvent | None:
    return repository.get(session, clinic_id=clinic_id, event_id=event_id)


def process(ctx: JobContext) -> None:
    """The ``webhook.process`` job."""
    from sync_server.jobs.service import JobError

    event_id = ctx.payload["event_id"]
    with ctx.transaction(write=False) as session:
        event = repository.get(session, clinic_id=ctx.clinic_id, event_id=event_id)
        if event is not None:
            session.expunge(event)
    if event is None:
        raise JobError("The webhook event no longer exists.", permanent=True)
    if event.processed_at is not None:
        return  # handled already (a repeated job): nothing to do
    processor = processor_for(event.source, event.kind)
    if processor is None:
        raise JobError(f"No processor for {event.source} events of kind {event.kind}.", permanent=True)
    prepared = processor.prepare(ctx, event)
    with ctx.transaction() as session:
        if repository.mark_processed(session, clinic_id=ctx.clinic_id, event_id=event.id, now=ctx.now()):
            outcome = processor.apply(session, ctx, event, prepared)
            if outcome:
                repository.set_outcome(session, clinic_id=ctx.clinic_id, event_id=event.id, outcome=outcome)
        ctx.finish(session)


#: Modules with a ``PROCESSORS`` table (imported lazily: they import this module).
PROCESSOR_MODULES: list[str] = ["sync_server.leads.tasks", "sync_server.messaging.tasks", "sync_server.forms.tasks"]
