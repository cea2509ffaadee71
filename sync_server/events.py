"""In-process events: how a lower context tells the contexts above it that something happened.

The server's contexts stand in layers (the import-linter contract in pyproject.toml): a context
calls the services of the contexts below it, never above. When a lower context must tell a
higher one something (a clinic was created, two client records were merged, a new person texted
in), it announces an :class:`Event` it declares; each higher context that cares subscribes in
its own ``subscriptions.py``, with a ``SUBSCRIPTIONS`` table mapping the event to its handler.
The subscriber modules are named in :data:`SUBSCRIBER_MODULES` and imported lazily, on the first
announcement (they import the announcing contexts, never the other way round): the same pattern
as the webhook inbox's processors, the job handlers and sync's deciders.

Handlers run synchronously, in the announcer's transaction, in the order of
:data:`SUBSCRIBER_MODULES`; an exception in one propagates to the announcer (and rolls its
transaction back), so an event is never half-handled.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

#: Modules with a ``SUBSCRIPTIONS: dict[Event[...], handler]`` table (one line per subscribing context).
SUBSCRIBER_MODULES: tuple[str, ...] = (
    "sync_server.sync.subscriptions",
    "sync_server.messaging.subscriptions",
    "sync_server.leads.subscriptions",
)

H = TypeVar("H", bound=Callable[..., Any])


class Event(Generic[H]):
    """Something a context announces; ``H`` is the handlers' signature."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Event({self.name!r})"

    def handlers(self) -> list[H]:
        """The subscribed handlers, in :data:`SUBSCRIBER_MODULES` order."""
        found: list[H] = []
        for name in SUBSCRIBER_MODULES:
            table: dict[Event[Any], Any] = importlib.import_module(name).SUBSCRIPTIONS
            if self in table:
                found.append(cast(H, table[self]))
        return found
