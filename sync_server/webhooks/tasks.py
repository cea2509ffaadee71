"""Job handlers of the webhooks context."""

from __future__ import annotations

from sync_server.jobs.worker import Handler
from sync_server.webhooks import service

HANDLERS = {service.PROCESS_JOB: Handler(service.process)}
