"""Job handlers and inbox processors of the leads context."""

from __future__ import annotations

from collections.abc import Callable

from sync_server.jobs.worker import Handler, JobContext
from sync_server.leads import meta_leads, routing
from sync_server.records.service import ServerWrites
from sync_server.webhooks import meta as meta_webhooks
from sync_server.webhooks import service as inbox


def _in_writes(work: Callable[[ServerWrites, JobContext], object]) -> Callable[[JobContext], None]:
    """A handler doing ``work`` in one transaction of the job's clinic, marked done with it."""

    def run(ctx: JobContext) -> None:
        with ctx.transaction() as session:
            work(ServerWrites(session, clinic_id=ctx.clinic_id, now=ctx.now(), hlc=ctx.worker.hlc), ctx)
            ctx.finish(session)

    return run


def _claim(writes: ServerWrites, ctx: JobContext) -> object:
    return routing.expire_claim(writes, lead_id=str(ctx.payload["lead_id"]), claimed_at=ctx.payload.get("claimed_at"))


def _sla(writes: ServerWrites, ctx: JobContext) -> object:
    return routing.check_sla(writes, lead_id=str(ctx.payload["lead_id"]))


def _sweep(writes: ServerWrites, ctx: JobContext) -> object:
    return routing.sweep(writes)


HANDLERS = {
    meta_leads.SWEEP_JOB: Handler(meta_leads.sweep),
    routing.CLAIM_JOB: Handler(_in_writes(_claim)),
    routing.SLA_JOB: Handler(_in_writes(_sla)),
    routing.SWEEP_JOB: Handler(_in_writes(_sweep)),
}

PROCESSORS = {
    (meta_webhooks.SOURCE, meta_webhooks.LEADGEN): inbox.Processor(meta_leads.prepare_leadgen, meta_leads.apply_leadgen),
}
