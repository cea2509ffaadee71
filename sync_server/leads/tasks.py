"""Job handlers and inbox processors of the leads context."""

from __future__ import annotations

from sync_server.jobs.worker import Handler
from sync_server.leads import meta_leads
from sync_server.webhooks import meta as meta_webhooks
from sync_server.webhooks import service as inbox

HANDLERS = {meta_leads.SWEEP_JOB: Handler(meta_leads.sweep)}

PROCESSORS = {
    (meta_webhooks.SOURCE, meta_webhooks.LEADGEN): inbox.Processor(meta_leads.prepare_leadgen, meta_leads.apply_leadgen),
}
