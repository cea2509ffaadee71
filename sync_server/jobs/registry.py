"""Which handler runs which job kind. Each context declares its handlers in ``tasks.py``
(``HANDLERS``); this module only gathers them (imported lazily: contexts import jobs, not the
other way round)."""

from __future__ import annotations

import importlib

from sync_server.jobs.worker import Handler

#: Modules with a ``HANDLERS: dict[str, Handler]``.
TASK_MODULES: tuple[str, ...] = (
    "sync_server.webhooks.tasks",
    "sync_server.leads.tasks",
    "sync_server.messaging.tasks",
)


def default_handlers() -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    for name in TASK_MODULES:
        module = importlib.import_module(name)
        handlers.update(module.HANDLERS)
    return handlers
