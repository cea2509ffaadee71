"""Which contexts handle job kinds. Each context declares its handlers in ``tasks.py``
(``HANDLERS``); the worker gathers them from the modules named here, imported lazily: contexts
import jobs, not the other way round (and this module imports nothing, so the worker and the
registry never import each other)."""

from __future__ import annotations

#: Modules with a ``HANDLERS: dict[str, Handler]``.
TASK_MODULES: tuple[str, ...] = (
    "sync_server.webhooks.tasks",
    "sync_server.leads.tasks",
    "sync_server.messaging.tasks",
)
