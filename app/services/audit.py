"""Checking the audit chain (`python -m app audit verify`)."""

from __future__ import annotations

from app.db.store import Store
from app.repositories import audit
from app.repositories.uow import system_actor, unit_of_work


def verify_chain(store: Store) -> audit.ChainReport:
    with unit_of_work(store, system_actor(store)) as ctx:
        return audit.verify(ctx.session)
