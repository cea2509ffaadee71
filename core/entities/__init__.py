"""The entity catalogue: every syncable kind of record, one module per kind or small family.

Each module of this package describes its kinds with :mod:`core.specs` (wire fields, who owns
which field, the merge class); this module registers them in :data:`ENTITIES`, the table both
the desktop and the server read. Adding a kind is its module plus one line in :data:`KINDS` (and a
bump of :data:`core.protocol.versions.SCHEMA_VERSION`); see docs/decisions.md, "How to add an
entity kind".
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from core.entities import clinic, leads, messaging, patients, scheduling, services, staff, timeline
from core.protocol.errors import UnknownEntity
from core.specs import EntitySpec, Kind

#: Every syncable kind, in catalogue order (one registration line per kind).
KINDS: Final[tuple[EntitySpec, ...]] = (
    clinic.CLINIC,
    clinic.LOCATION,
    clinic.ROOM,
    clinic.DEVICE,
    staff.STAFF,
    services.SERVICE,
    patients.PATIENT,
    leads.LEAD,
    timeline.ACTIVITY,
    scheduling.APPOINTMENT,
    patients.MERGE_REVIEW,
    messaging.MESSAGE,
    messaging.MESSAGE_TEMPLATE,
    messaging.MESSAGE_READ,
)

#: The entity catalogue, by entity name (the desktop's table names).
ENTITIES: Final[Mapping[str, EntitySpec]] = MappingProxyType({s.name: s for s in KINDS})
#: Entities only the server writes.
SERVER_ONLY_ENTITIES: Final = frozenset(s.name for s in KINDS if not s.client_writable)
#: Entities that are append-only.
APPEND_ONLY_ENTITIES: Final = frozenset(s.name for s in KINDS if s.kind is Kind.APPEND_ONLY)

if len(ENTITIES) != len(KINDS):  # pragma: no cover - a mistake caught at import
    raise RuntimeError("two entity kinds share a name")


def entity_spec(name: str) -> EntitySpec:
    try:
        return ENTITIES[name]
    except KeyError:
        raise UnknownEntity(
            f"This workstation sent a change for a kind of record the clinic server does not know "
            f"({name!r}). Update Glowdesk on this workstation, or ask whoever runs the clinic "
            "server to update it.",
            entity=name,
        ) from None
