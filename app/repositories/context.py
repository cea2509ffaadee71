"""The context every repository call runs in: one session (one transaction), who acts, clocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.clock import Clock, HybridLogicalClock


@dataclass(frozen=True)
class Actor:
    """Who is acting, on which device. ``staff_id`` is None only for system work (sync, import
    jobs started by the app itself)."""

    staff_id: str | None
    device_id: str
    role: str | None = None
    name: str | None = None


@dataclass
class Ctx:
    session: Session
    actor: Actor
    clock: Clock
    hlc: HybridLogicalClock
    #: entity names touched in this transaction, for the "changes happened" broadcast
    changed: set[str] = field(default_factory=set)
    #: cached tail of the audit chain within this transaction
    audit_tail: Any = None

    def now(self) -> datetime:
        return self.clock.now()
