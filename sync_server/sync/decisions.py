"""Server decisions on pushed rows: "a client asks, the server decides" for entities of other contexts.

Some pushed changes are requests as much as data: a new outbound ``message`` asks the server to
send a text (the messaging context checks consent and queues the send), a ``message_template``
must follow core's template rules. The sync context cannot import those contexts (they import
sync to write rows), so each context registers a :data:`Decider` per entity in its own
``DECIDERS`` table (module list :data:`DECIDER_MODULES`, imported lazily, like the webhook
inbox's processors); explicit :func:`register` calls win, for tests.

A decider runs inside the push's transaction after :func:`core.merge.merge_update` accepted the
change and before the row is stored. It returns the row to store (it may set server-owned
fields with a server-authority merge) or raises :class:`Refused`: the mutation is then
``rejected`` with the sentence and nothing of it is stored. Writes it makes through
:class:`sync_server.records.service.ServerWrites` with the push's ``lease`` are numbered in
the same sequence, before the row itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from core.clock import HybridLogicalClock
from core.merge import MergeOutcome, RowState
from core.sync import Mutation
from sync_server.errors import Refused as Refused  # where deciders find it (clinics refuse from below sync)

if TYPE_CHECKING:
    from sync_server.clinics.service import StaffIdentity
    from sync_server.sync.service import SequenceLease


@dataclass(frozen=True)
class PushContext:
    """What a decider may use: the push's transaction, clinic, acting staff and sequence."""

    session: Session
    clinic_id: str
    device_id: str
    staff: StaffIdentity
    now: datetime
    hlc: HybridLogicalClock
    lease: SequenceLease


Decider = Callable[[PushContext, Mutation, MergeOutcome], RowState]

#: entity -> decider; explicit registrations win over the contexts' ``DECIDERS`` tables
DECIDERS: dict[str, Decider] = {}
#: modules with a ``DECIDERS: dict[str, Decider]`` table (imported lazily: they import sync)
DECIDER_MODULES: list[str] = ["sync_server.messaging.decisions", "sync_server.clinics.decisions"]


def register(entity: str, decider: Decider) -> None:
    DECIDERS[entity] = decider


def decider_for(entity: str) -> Decider | None:
    if entity in DECIDERS:
        return DECIDERS[entity]
    for name in DECIDER_MODULES:
        table: dict[str, Decider] = importlib.import_module(name).DECIDERS
        if entity in table:
            return table[entity]
    return None
