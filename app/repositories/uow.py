"""Unit of work: one transaction on the store, with who acts and the store's clocks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from app.db.store import Store
from app.repositories.context import Actor, Ctx


@contextlib.contextmanager
def unit_of_work(store: Store, actor: Actor) -> Iterator[Ctx]:
    """Yield a :class:`Ctx`; commit when the block ends, roll back if it raises."""
    with store.session() as session:
        yield Ctx(session=session, actor=actor, clock=store.clock, hlc=store.hlc)


def system_actor(store: Store) -> Actor:
    return Actor(staff_id=None, device_id=store.device_id, role=None, name="Glowdesk")
