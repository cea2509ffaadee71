"""Entity specs: what a syncable kind of record and its fields are (the vocabulary of the catalogue).

Each kind of record is described once, in its own module of :mod:`core.entities` (an
:class:`EntitySpec` built with :func:`entity`, :func:`field` and :func:`string`), and registered
in :data:`core.entities.ENTITIES`. A spec says the kind's merge class (:class:`Kind`:
``editable``, merged field by field; ``append_only``, never edited, never in conflict), whether
clients may write it at all, its fields with their wire types, and which fields are
*server-owned* (clients may ask, the server decides) or *insert-only* (set when the record is
created, never changed from a workstation). The merge rules that read these specs are
:mod:`core.merge`; the protocol that checks mutations against them is :mod:`core.protocol`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from core.permissions import Permission


class Kind(StrEnum):
    #: merged field by field with last-writer-wins per field and visible conflict records
    EDITABLE = "editable"
    #: created once, never changed or deleted, never in conflict (a repeated id is a duplicate)
    APPEND_ONLY = "append_only"


class Op(StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"
    APPEND = "append"


class FieldType(StrEnum):
    STR = "str"  # one-line text with a maximum length
    TEXT = "text"  # free text
    INT = "int"
    BOOL = "bool"
    DATETIME = "datetime"  # UTC ISO-8601 text
    DATE = "date"  # YYYY-MM-DD
    ID = "id"  # a record id (UUID text)
    OBJECT = "object"  # a JSON object
    LIST = "list"  # a JSON array


class Ownership(StrEnum):
    #: clients write it; concurrent edits merge field by field
    CLIENT = "client"
    #: clients set it when they create the record; afterwards only the server changes it
    INSERT_ONLY = "insert_only"
    #: a server-owned fact: clients may ask (through a request the server acts on), the server
    #: decides; a client mutation changing it is refused for that field with ``reason``
    SERVER = "server"


_REQUIRED: Any = object()


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: FieldType
    nullable: bool = False
    max_length: int | None = None
    #: value used when an insert leaves the field out (``_REQUIRED``: the insert must carry it)
    default: Any = _REQUIRED
    ownership: Ownership = Ownership.CLIENT
    #: front-desk sentence explaining why a workstation cannot change this field
    reason: str | None = None
    #: server-owned only: does a client's insert keep its value (a request the server may
    #: override afterwards) or is the field reset to ``default`` (the server decides later)?
    accept_on_insert: bool = False

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED

    def default_value(self) -> Any:
        if self.default is _REQUIRED:
            raise KeyError(self.name)
        return copy.deepcopy(self.default)


#: A predicate over a row's data: a sentence saying why the record refuses edits, or None.
ImmutableRule = Callable[[Mapping[str, Any]], str | None]


@dataclass(frozen=True)
class EntitySpec:
    name: str
    #: what the front desk calls one of these ("client record"), for messages
    label: str
    kind: Kind
    fields: Mapping[str, FieldSpec]
    #: permission the acting staff member needs to write it (checked by the server)
    write_permission: Permission
    #: False: only the server writes it; every client mutation is refused with ``not_writable_reason``
    client_writable: bool = True
    not_writable_reason: str | None = None
    #: signed / locked records: a client edit or delete of a row for which this returns a
    #: sentence is refused with that sentence (corrections are new records, e.g. amendments)
    immutable_when: ImmutableRule | None = None

    @property
    def ops(self) -> frozenset[Op]:
        if self.kind is Kind.APPEND_ONLY:
            return frozenset({Op.APPEND})
        return frozenset({Op.INSERT, Op.UPDATE, Op.DELETE})

    @property
    def server_owned(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields.values() if f.ownership is Ownership.SERVER)

    @property
    def insert_only(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields.values() if f.ownership is Ownership.INSERT_ONLY)

    @property
    def required(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields.values() if f.required)

    def defaults(self) -> dict[str, Any]:
        """Every field with a default, at its default value (a fresh copy)."""
        return {f.name: f.default_value() for f in self.fields.values() if not f.required}


def field(
    name: str,
    type_: FieldType,
    *,
    null: bool = False,
    max_length: int | None = None,
    default: Any = _REQUIRED,
    owner: Ownership = Ownership.CLIENT,
    reason: str | None = None,
    accept_on_insert: bool = False,
) -> FieldSpec:
    """A field spec; ``null=True`` without a default makes the default None."""
    if null and default is _REQUIRED:
        default = None
    return FieldSpec(name, type_, null, max_length, default, owner, reason, accept_on_insert)


def string(name: str, max_length: int, **kw: Any) -> FieldSpec:
    """A one-line text field of at most ``max_length`` characters."""
    return field(name, FieldType.STR, max_length=max_length, **kw)


def entity(
    name: str,
    label: str,
    kind: Kind,
    permission: Permission,
    fields: Iterable[FieldSpec],
    **kw: Any,
) -> EntitySpec:
    """An entity spec with its fields in the given order (``kw``: the other EntitySpec options)."""
    return EntitySpec(
        name=name,
        label=label,
        kind=kind,
        fields=MappingProxyType({f.name: f for f in fields}),
        write_permission=permission,
        **kw,
    )


#: Every clinic-owned kind's first field: the clinic, set at creation and never changed.
CLINIC_ID = field(
    "clinic_id",
    FieldType.ID,
    owner=Ownership.INSERT_ONLY,
    reason="A record cannot be moved to another clinic.",
)
