"""Sync protocol v1: the wire format between the desktops and the clinic server.

The server is the hub. A desktop *pushes* its outbox as :class:`Mutation` objects in a
:class:`PushRequest` and gets one :class:`MutationResult` per mutation back; it *pulls*
:class:`Change` rows ("every row changed since my cursor") in :class:`PullResponse` pages; before
either it says :class:`HelloRequest` and the server answers with a :class:`HelloResponse` or a
:class:`ProtocolMismatch` naming both sides' versions and who has to update.

This module also holds the **entity catalogue** (:data:`ENTITIES`): for every syncable entity its
kind (``editable``: merged field by field; ``append_only``: never edited, never conflicts),
whether clients may write it at all, its fields with their wire types, and which fields are
*server-owned* (clients may ask, the server decides) or *insert-only* (set when the record is
created, never changed from a workstation). :func:`validate_mutation` checks a mutation against
the catalogue and raises a :class:`SyncProtocolError` subclass whose message a front-desk person
can read. Messages never contain field values (patient data), only entity and field names.

The merge rules that both sides apply live in :mod:`core.merge`.

Wire rules (v1):

- ids (``mutation_id``, ``entity_id``, id fields) are canonical lowercase UUID strings (UUIDv7 made
  where the row was created);
- ``hlc`` is the string form of :class:`core.clock.HLCTimestamp` (sortable as text; its node part
  names the writer);
- datetimes travel as UTC ISO-8601 text (``2026-11-22T13:53:35.123456Z``), dates as ``YYYY-MM-DD``;
- ``base_version`` is the **server-assigned** version of the row the edit was made on (the version
  last received from a pull or a push result; 0 for inserts and appends). It must never be a
  version bumped locally by the desktop: conflict detection compares it with the server's
  numbering;
- a push body is at most :data:`MAX_PUSH_BODY_BYTES` bytes and :data:`MAX_PUSH_MUTATIONS`
  mutations; larger pushes are refused whole (nothing applied) with :class:`PushTooLarge`.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from core.clock import HLCTimestamp
from core.errors import GlowdeskError
from core.permissions import Permission

# --- versions and limits ---------------------------------------------------------------------

#: The sync protocol spoken by this build (message shapes and their meaning).
PROTOCOL_VERSION: Final = 1
#: Protocol versions a server built from this core accepts.
SUPPORTED_PROTOCOL_VERSIONS: Final = frozenset({1})
#: Version of the entity catalogue below (entities, fields, ownership). Not the Alembic revision
#: of either database: bump it when an entity or a field is added, removed or changes meaning.
#: 2: messaging (``message``, ``message_template``, ``message_read``); lead routing and merge reviews
#:    (reply deadlines and escalations on ``lead``, working hours on ``staff``, ``merged_into`` on
#:    ``patient``, ``merge_review``).
SCHEMA_VERSION: Final = 2
#: The oldest client catalogue a server built from this core still accepts.
MIN_CLIENT_SCHEMA_VERSION: Final = 1

#: At most this many mutations per push; the desktop sends its outbox in batches.
MAX_PUSH_MUTATIONS: Final = 500
#: At most this many bytes in a push body (4 MiB), checked on the raw body before parsing.
MAX_PUSH_BODY_BYTES: Final = 4 * 1024 * 1024
#: Pull page sizes (rows per page).
DEFAULT_PULL_LIMIT: Final = 1000
MAX_PULL_LIMIT: Final = 5000

#: Headers carrying the client's versions on requests without a JSON body (pull, live).
PROTOCOL_HEADER: Final = "X-Glowdesk-Protocol"
SCHEMA_HEADER: Final = "X-Glowdesk-Schema"

#: The HLC node id of the server's own writes (webhooks, jobs, portal, admin commands).
SERVER_NODE: Final = "server"

#: Sync bookkeeping: never sent in ``Mutation.fields`` (the protocol carries it separately).
BOOKKEEPING_FIELDS: Final = frozenset({"id", "version", "hlc", "deleted", "created_at", "updated_at"})

Authority = Literal["client", "server"]
MutationStatus = Literal["applied", "duplicate", "conflict_resolved", "rejected"]
ConflictKind = Literal["concurrent_edit", "edit_of_deleted"]


# --- errors ----------------------------------------------------------------------------------


class SyncProtocolError(GlowdeskError):
    """A request or a mutation that does not follow sync protocol v1."""

    code = "sync_protocol"
    status = 400

    def to_body(self) -> ErrorBody:
        return ErrorBody(code=self.code, message=self.user_message, details=self.details())

    def details(self) -> dict[str, Any]:
        return {}


class ProtocolMismatch(SyncProtocolError):
    """The desktop and the server do not speak compatible protocol or catalogue versions.

    ``upgrade`` says which side has to be updated: ``"client"`` (update Glowdesk on this
    workstation; HTTP 426) or ``"server"`` (the clinic server is older than the workstation;
    HTTP 409). Nothing is pushed or pulled across a mismatch, so nothing is merged wrongly.
    """

    code = "protocol_mismatch"

    def __init__(
        self,
        *,
        client_protocol: int,
        client_schema: int,
        server_protocol: int,
        server_schema: int,
        upgrade: Literal["client", "server"],
    ) -> None:
        both = (
            f"(this workstation: sync protocol {client_protocol}, schema {client_schema}; "
            f"clinic server: sync protocol {server_protocol}, schema {server_schema})"
        )
        if upgrade == "client":
            message = (
                f"This workstation's Glowdesk is too old for the clinic server {both}. "
                "Update Glowdesk on this workstation, then sync again."
            )
        else:
            message = (
                f"The clinic server is older than this workstation's Glowdesk {both}. "
                "Ask whoever runs the clinic server to update it; this workstation keeps "
                "working offline and syncs once it is updated."
            )
        super().__init__(message)
        self.client_protocol = client_protocol
        self.client_schema = client_schema
        self.server_protocol = server_protocol
        self.server_schema = server_schema
        self.upgrade = upgrade
        self.status = 426 if upgrade == "client" else 409

    def details(self) -> dict[str, Any]:
        return {
            "client_protocol_version": self.client_protocol,
            "client_schema_version": self.client_schema,
            "server_protocol_version": self.server_protocol,
            "server_schema_version": self.server_schema,
            "upgrade": self.upgrade,
        }


class MalformedRequest(SyncProtocolError):
    """A body that is not valid JSON or does not have the shape of the message."""

    code = "malformed"
    status = 422


class PushTooLarge(SyncProtocolError):
    code = "push_too_large"
    status = 413


class InvalidMutation(SyncProtocolError):
    """One mutation that cannot be accepted as sent (the rest of a push is unaffected)."""

    code = "invalid_mutation"
    status = 422

    def __init__(
        self,
        user_message: str,
        *,
        mutation_id: str | None = None,
        entity: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(user_message)
        self.mutation_id = mutation_id
        self.entity = entity
        self.field = field

    def details(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (("mutation_id", self.mutation_id), ("entity", self.entity), ("field", self.field))
            if v is not None
        }


class UnknownEntity(InvalidMutation):
    code = "unknown_entity"


class EntityNotWritable(InvalidMutation):
    code = "not_writable"
    status = 403


class BadOperation(InvalidMutation):
    code = "bad_op"


class InvalidId(InvalidMutation):
    code = "bad_id"


class InvalidHLC(InvalidMutation):
    code = "bad_hlc"


class FieldNotAllowed(InvalidMutation):
    code = "field_not_allowed"


class InvalidFieldValue(InvalidMutation):
    code = "bad_value"


class MissingFields(InvalidMutation):
    code = "missing_fields"


_ERROR_CLASSES: dict[str, type[SyncProtocolError]] = {
    c.code: c
    for c in (
        SyncProtocolError,
        MalformedRequest,
        PushTooLarge,
        InvalidMutation,
        UnknownEntity,
        EntityNotWritable,
        BadOperation,
        InvalidId,
        InvalidHLC,
        FieldNotAllowed,
        InvalidFieldValue,
        MissingFields,
    )
}


def error_from_body(body: ErrorBody) -> SyncProtocolError:
    """Rebuild the error a server answered with (the desktop re-raises it for its UI)."""
    if body.code == ProtocolMismatch.code:
        d = body.details
        return ProtocolMismatch(
            client_protocol=int(d["client_protocol_version"]),
            client_schema=int(d["client_schema_version"]),
            server_protocol=int(d["server_protocol_version"]),
            server_schema=int(d["server_schema_version"]),
            upgrade="client" if d.get("upgrade") == "client" else "server",
        )
    cls = _ERROR_CLASSES.get(body.code, SyncProtocolError)
    if issubclass(cls, InvalidMutation):
        return cls(
            body.message,
            mutation_id=body.details.get("mutation_id"),
            entity=body.details.get("entity"),
            field=body.details.get("field"),
        )
    err = cls(body.message)
    if cls is SyncProtocolError:
        err.code = body.code
    return err


# --- the entity catalogue --------------------------------------------------------------------


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


def _f(
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
    if null and default is _REQUIRED:
        default = None
    return FieldSpec(name, type_, null, max_length, default, owner, reason, accept_on_insert)


def _s(name: str, max_length: int, **kw: Any) -> FieldSpec:
    return _f(name, FieldType.STR, max_length=max_length, **kw)


T = FieldType
_CLINIC_REASON = "A record cannot be moved to another clinic."
_CLINIC_ID = _f("clinic_id", T.ID, owner=Ownership.INSERT_ONLY, reason=_CLINIC_REASON)
_ATTRIBUTION_REASON = (
    "Where a lead came from (campaign, ad, click ids, landing page) is recorded when the lead "
    "arrives and cannot be changed afterwards."
)
_CLAIM_REASON = (
    "Lead claims are handed out by the clinic server so that two people never call the same "
    "lead; claim the lead while online."
)


def _attr(name: str, max_length: int | None = None) -> FieldSpec:
    ftype = T.TEXT if max_length is None else T.STR
    return _f(
        name, ftype, null=True, max_length=max_length, owner=Ownership.INSERT_ONLY, reason=_ATTRIBUTION_REASON
    )


def _entity(
    name: str,
    label: str,
    kind: Kind,
    permission: Permission,
    fields: Iterable[FieldSpec],
    **kw: Any,
) -> EntitySpec:
    return EntitySpec(
        name=name,
        label=label,
        kind=kind,
        fields=MappingProxyType({f.name: f for f in fields}),
        write_permission=permission,
        **kw,
    )


# --- lead routing and one record per person (catalogue v2) -----------------------------------
# Fields spliced into the staff, patient and lead entities below, and the server-only
# ``merge_review`` entity appended to the catalogue (see docs/decisions.md, "Lead routing").

_ROUTING_REASON = (
    "Reply deadlines and escalations are kept by the clinic server from the clinic's lead "
    "routing settings; answer the lead (a text or a logged call) to stop its timer."
)
_MERGE_REASON = (
    "Merging two client records is done by the clinic server from the duplicates screen while online."
)

#: staff: the weekly rota that decides who is on shift for lead assignment, in the clinic's
#: time zone: {"mon": [["09:00", "17:00"]], ...}; empty: the clinic's opening hours
_STAFF_ROUTING_FIELDS = (_f("working_hours", T.OBJECT, default={}),)
#: patient: a merged-away record is a tombstone pointing at the record it was merged into
_PATIENT_MERGE_FIELDS = (_f("merged_into", T.ID, null=True, owner=Ownership.SERVER, reason=_MERGE_REASON),)
#: lead: when its first reply is due, and whether (and to whom) a missed one was escalated
_LEAD_ROUTING_FIELDS = (
    _f("sla_due_at", T.DATETIME, null=True, owner=Ownership.SERVER, reason=_ROUTING_REASON),
    _f("escalated_at", T.DATETIME, null=True, owner=Ownership.SERVER, reason=_ROUTING_REASON),
    _f("escalated_to", T.ID, null=True, owner=Ownership.SERVER, reason=_ROUTING_REASON),
)


def _routing_specs() -> tuple[EntitySpec, ...]:
    return (
        _entity(
            "merge_review",
            "possible duplicate",
            Kind.EDITABLE,
            Permission.PATIENT_MERGE,
            [
                _CLINIC_ID,
                _f("patient_id", T.ID),
                _f("candidate_id", T.ID),
                _s("reason", 40),
                _s("status", 12, default="open"),  # open | merged | dismissed
                _f("opened_at", T.DATETIME),
                _f("resolved_at", T.DATETIME, null=True),
                _f("resolved_by", T.ID, null=True),
                _f("survivor_id", T.ID, null=True),
            ],
            client_writable=False,
            not_writable_reason=_MERGE_REASON,
        ),
    )


P = Permission
E = Kind.EDITABLE

_SPECS = (
    _entity(
        "clinic",
        "clinic",
        E,
        P.SETTINGS_MANAGE,
        [
            _s("name", 200),
            _s("slug", 80),
            _s("timezone", 64, default="America/Los_Angeles"),
            _s("region", 2, default="US"),
            _s("currency", 3, default="USD"),
            _s("phone", 20, null=True),
            _f("settings", T.OBJECT, default={}),
        ],
        client_writable=False,
        not_writable_reason=(
            "Clinic details (name, address, time zone, settings) are changed on the clinic "
            "server, not from a workstation."
        ),
    ),
    _entity(
        "location",
        "location",
        E,
        P.SETTINGS_MANAGE,
        [
            _CLINIC_ID,
            _s("name", 200),
            _f("address", T.OBJECT, default={}),
            _s("timezone", 64),
            _s("phone", 20, null=True),
        ],
    ),
    _entity(
        "room",
        "room",
        E,
        P.SETTINGS_MANAGE,
        [
            _CLINIC_ID,
            _f("location_id", T.ID),
            _s("name", 120),
            _s("kind", 40, default="treatment"),
            _f("active", T.BOOL, default=True),
        ],
    ),
    _entity(
        "device",
        "piece of equipment",
        E,
        P.SETTINGS_MANAGE,
        [
            _CLINIC_ID,
            _f("location_id", T.ID),
            _s("name", 120),
            _s("kind", 60),
            _s("model", 120, null=True),
            _f("active", T.BOOL, default=True),
        ],
    ),
    _entity(
        "staff",
        "staff member",
        E,
        P.STAFF_MANAGE,
        [
            _CLINIC_ID,
            _s("display_name", 120),
            _s("role", 30),
            _s("title", 120, null=True),
            _s("email", 254, null=True),
            _s("phone", 20, null=True),
            _s("pin_hash", 200, null=True),
            _s("color", 9, null=True),
            _f("active", T.BOOL, default=True),
            *_STAFF_ROUTING_FIELDS,
        ],
    ),
    _entity(
        "service",
        "service",
        E,
        P.SETTINGS_MANAGE,
        [
            _CLINIC_ID,
            _s("name", 160),
            _s("category", 40),
            _f("duration_min", T.INT),
            _f("buffer_before_min", T.INT, default=0),
            _f("buffer_after_min", T.INT, default=0),
            _f("price_minor", T.INT),
            _s("price_unit", 20, default="session"),
            _s("currency", 3, default="USD"),
            _f("deposit_minor", T.INT, default=0),
            _f("requires_room", T.BOOL, default=True),
            _s("device_kind", 60, null=True),
            _f("qualified_roles", T.LIST, default=[]),
            _f("description", T.TEXT, null=True),
            _f("active", T.BOOL, default=True),
        ],
    ),
    _entity(
        "patient",
        "client record",
        E,
        P.PATIENT_WRITE,
        [
            _CLINIC_ID,
            _s("first_name", 120),
            _s("last_name", 120),
            _s("preferred_name", 120, null=True),
            _f("date_of_birth", T.DATE, null=True),
            _s("sex", 20, null=True),
            _s("pronouns", 30, null=True),
            _s("phone", 20, null=True),
            _s("email", 254, null=True),
            _s("email_key", 254, null=True),
            _s("instagram_handle", 60, null=True),
            _s("instagram_id", 40, null=True),
            _f("address", T.OBJECT, default={}),
            _s("timezone", 64, null=True),
            _f("allergies", T.TEXT, null=True),
            _f("medical_alerts", T.TEXT, null=True),
            _f(
                "consents",
                T.OBJECT,
                default={},
                owner=Ownership.SERVER,
                accept_on_insert=True,
                reason=(
                    "Consents and opt-outs are kept by the clinic server so that an opt-out is "
                    "always honoured; record the client's choice on the consent screen and the "
                    "server will apply it."
                ),
            ),
            _f("tags", T.LIST, default=[]),
            _f("vip", T.BOOL, default=False),
            _f(
                "first_touch",
                T.OBJECT,
                default={},
                owner=Ownership.INSERT_ONLY,
                reason="How a client first found the clinic is recorded once and cannot be changed.",
            ),
            _f("notes", T.TEXT, null=True),
            _s("external_ref", 80, null=True),
            *_PATIENT_MERGE_FIELDS,
        ],
    ),
    _entity(
        "lead",
        "lead",
        E,
        P.LEAD_WRITE,
        [
            _CLINIC_ID,
            _f("patient_id", T.ID, null=True),
            _s("source", 30),
            _s("status", 20, default="new"),
            _s("service_interest", 160, null=True),
            _f("message", T.TEXT, null=True),
            _attr("utm_source", 200),
            _attr("utm_medium", 200),
            _attr("utm_campaign", 200),
            _attr("utm_content", 200),
            _attr("utm_term", 200),
            _attr("fbclid", 500),
            _attr("gclid", 500),
            _attr("gbraid", 500),
            _attr("wbraid", 500),
            _attr("landing_page"),
            _attr("referrer"),
            _attr("campaign_id", 40),
            _attr("adset_id", 40),
            _attr("ad_id", 40),
            _attr("form_id", 40),
            _attr("external_id", 80),
            _f("owner_id", T.ID, null=True),
            _f("claimed_by", T.ID, null=True, owner=Ownership.SERVER, reason=_CLAIM_REASON),
            _f("claimed_at", T.DATETIME, null=True, owner=Ownership.SERVER, reason=_CLAIM_REASON),
            _f("claim_expires_at", T.DATETIME, null=True, owner=Ownership.SERVER, reason=_CLAIM_REASON),
            _f(
                "first_reply_at",
                T.DATETIME,
                null=True,
                owner=Ownership.SERVER,
                reason="The first-reply time is recorded by the clinic server when the first message goes out.",
            ),
            _f(
                "received_at",
                T.DATETIME,
                owner=Ownership.INSERT_ONLY,
                reason="When a lead arrived is recorded once and cannot be changed.",
            ),
            *_LEAD_ROUTING_FIELDS,
        ],
    ),
    _entity(
        "activity",
        "timeline entry",
        Kind.APPEND_ONLY,
        P.PATIENT_WRITE,
        [
            _CLINIC_ID,
            _f("patient_id", T.ID, null=True),
            _f("lead_id", T.ID, null=True),
            _s("type", 40),
            _f("actor_id", T.ID, null=True),
            _f("occurred_at", T.DATETIME),
            _f("payload", T.OBJECT, default={}),
        ],
    ),
    _entity(
        "appointment",
        "appointment",
        E,
        P.APPOINTMENT_WRITE,
        [
            _CLINIC_ID,
            _f("patient_id", T.ID),
            _f("service_id", T.ID),
            _f("provider_id", T.ID),
            _f("location_id", T.ID, null=True),
            _f("room_id", T.ID, null=True),
            _f("device_id", T.ID, null=True),
            _f("start_at", T.DATETIME),
            _f("end_at", T.DATETIME),
            _s("status", 20, default="booked"),
            _s(
                "deposit_status",
                20,
                default="not_required",
                owner=Ownership.SERVER,
                reason=(
                    "A deposit's status is set by the clinic server from the payment itself; "
                    "take, waive or refund the deposit from the payment screen instead."
                ),
            ),
            _f("deposit_minor", T.INT, default=0),
            _f("price_minor", T.INT, default=0),
            _s("currency", 3, default="USD"),
            _f("source_lead_id", T.ID, null=True),
            _f(
                "booked_by",
                T.ID,
                null=True,
                owner=Ownership.INSERT_ONLY,
                reason="Who booked an appointment is recorded when it is booked.",
            ),
            _f("notes", T.TEXT, null=True),
            _f(
                "tentative",
                T.BOOL,
                default=False,
                owner=Ownership.SERVER,
                reason=(
                    "Whether a booking is confirmed is decided by the clinic server when it "
                    "checks the calendar."
                ),
            ),
        ],
    ),
    *_routing_specs(),
)

# --- messaging (schema 2): the shared thread, its templates and read receipts ------------------
#
# A ``message`` is one SMS or Instagram message either way. Workstations may only *insert* an
# outbound message (what to send, to whom, why); the clinic server turns the insert into a send
# through its outbox (consent checked first) and owns everything that happens afterwards:
# status and reason, provider ids, times, and every inbound message. A message is never edited
# or deleted from a workstation. ``message_template`` rows are the clinic's templates (owners
# and managers). ``message_read`` rows are append-only read receipts: the thread of a client
# counts as read up to the newest ``up_to`` of any receipt (see docs/decisions.md, Messaging).

_MESSAGE_REASON = (
    "What happens to a message after it is written (sending, delivery, failure) is recorded by the "
    "clinic server."
)
_MESSAGE_TEXT_REASON = "A message cannot be changed once it is written; send a new one instead."


def _message_owned(name: str, type_: FieldType, **kw: Any) -> FieldSpec:
    return _f(name, type_, owner=Ownership.SERVER, reason=_MESSAGE_REASON, **kw)


def _message_text(name: str, type_: FieldType, **kw: Any) -> FieldSpec:
    return _f(name, type_, owner=Ownership.INSERT_ONLY, reason=_MESSAGE_TEXT_REASON, **kw)


def _message_immutable(_data: Mapping[str, Any]) -> str:
    return "A message cannot be changed or deleted once it is written; send a new one instead."


_MESSAGING_SPECS = (
    _entity(
        "message",
        "message",
        E,
        P.MESSAGE_SEND,
        [
            _CLINIC_ID,
            _message_text("patient_id", T.ID, null=True),
            _message_text("channel", T.STR, max_length=20, default="sms"),
            _message_text("purpose", T.STR, max_length=20, null=True, default="transactional"),
            _message_text("body", T.TEXT),
            _message_text("template_id", T.ID, null=True),
            _message_text("occurred_at", T.DATETIME),
            _message_owned("direction", T.STR, max_length=10, default="outbound"),
            _message_owned("kind", T.STR, max_length=20, default="manual"),
            _message_owned("lead_id", T.ID, null=True),
            _message_owned("author_id", T.ID, null=True),
            _message_owned("media", T.LIST, default=[]),
            _message_owned("status", T.STR, max_length=20, default="queued"),
            _message_owned("status_reason", T.STR, max_length=300, null=True),
            _message_owned("error_code", T.STR, max_length=12, null=True),
            _message_owned("provider_message_id", T.STR, max_length=64, null=True),
            _message_owned("send_after", T.DATETIME, null=True),
            _message_owned("sent_at", T.DATETIME, null=True),
            _message_owned("delivered_at", T.DATETIME, null=True),
        ],
        immutable_when=_message_immutable,
    ),
    _entity(
        "message_template",
        "message template",
        E,
        P.SETTINGS_MANAGE,
        [
            _CLINIC_ID,
            _s("name", 80),
            _f("body", T.TEXT),
            _s("purpose", 20, default="transactional"),
            _f("active", T.BOOL, default=True),
        ],
    ),
    _entity(
        "message_read",
        "read receipt",
        Kind.APPEND_ONLY,
        P.PATIENT_READ,
        [
            _CLINIC_ID,
            _f("patient_id", T.ID),
            _f("up_to", T.DATETIME),
            _f("staff_id", T.ID, null=True),
            _f("read_at", T.DATETIME),
        ],
    ),
)

_ALL_SPECS = (*_SPECS, *_MESSAGING_SPECS)

#: The entity catalogue, by entity name (the desktop's table names).
ENTITIES: Final[Mapping[str, EntitySpec]] = MappingProxyType({s.name: s for s in _ALL_SPECS})
#: Entities only the server writes.
SERVER_ONLY_ENTITIES: Final = frozenset(s.name for s in _ALL_SPECS if not s.client_writable)
#: Entities that are append-only.
APPEND_ONLY_ENTITIES: Final = frozenset(s.name for s in _ALL_SPECS if s.kind is Kind.APPEND_ONLY)


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


# --- wire models -----------------------------------------------------------------------------


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    # responses ignore unknown keys so that a newer server can add optional fields
    model_config = ConfigDict(extra="ignore")


class ErrorBody(_Response):
    """The JSON body of every sync error response."""

    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class Mutation(_Request):
    """One outbox entry on the wire (the desktop's ``OutboxEntry`` columns, one for one)."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    mutation_id: str = Field(max_length=64)
    entity: str = Field(max_length=64)
    entity_id: str = Field(max_length=64)
    #: insert | update | delete | append
    op: str = Field(max_length=16)
    #: insert/append: every field; update: the changed fields' new values; delete: empty
    fields: dict[str, Any] = Field(default_factory=dict)
    #: the server version of the row this edit was made on (0 for insert/append)
    base_version: int = Field(default=0, ge=0)
    hlc: str = Field(max_length=100)
    #: the staff member acting (the server checks their role)
    staff_id: str | None = Field(default=None, max_length=64)

    @property
    def node(self) -> str:
        """The writer's HLC node id (validate the mutation first)."""
        return HLCTimestamp.parse(self.hlc).node


class HelloRequest(_Request):
    protocol_version: int
    schema_version: int
    device_id: str | None = Field(default=None, max_length=64)
    app_version: str | None = Field(default=None, max_length=40)


class HelloResponse(_Response):
    accepted: bool = True
    protocol_version: int
    schema_version: int
    min_client_schema_version: int
    server_time: datetime
    max_push_mutations: int = MAX_PUSH_MUTATIONS
    max_push_body_bytes: int = MAX_PUSH_BODY_BYTES
    max_pull_limit: int = MAX_PULL_LIMIT
    #: the newest sequence number of the clinic, when the server knows who is asking
    high_water_seq: int | None = None


class PushRequest(_Request):
    protocol_version: int
    schema_version: int
    device_id: str = Field(max_length=64)
    mutations: list[Mutation] = Field(default_factory=list, max_length=MAX_PUSH_MUTATIONS)


class Conflict(_Response):
    """A value that lost a merge and is kept for staff to review. Nothing is lost silently.

    ``concurrent_edit``: two workstations changed the same field without seeing each other's
    change; ``winning_value`` is the field's current value, ``losing_value`` the other one.
    ``edit_of_deleted``: a record was changed on one workstation while deleted on another; the
    delete wins (``winning_value`` is None, ``winner_hlc`` the delete's stamp) and the edit's
    value is kept here.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    entity: str
    entity_id: str
    field: str
    kind: ConflictKind = "concurrent_edit"
    winning_value: Any = None
    winner_hlc: str
    winner_staff_id: str | None = None
    losing_value: Any = None
    loser_hlc: str
    loser_staff_id: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """Identity of a conflict: one losing write of one field of one row."""
        return (self.entity, self.entity_id, self.field, self.kind, self.loser_hlc)

    @property
    def loser_node(self) -> str:
        return HLCTimestamp.parse(self.loser_hlc).node

    @property
    def winner_node(self) -> str:
        return HLCTimestamp.parse(self.winner_hlc).node


class Change(_Response):
    """One row as the server holds it after a change: the unit of a pull page.

    ``data`` holds every data field (not the bookkeeping). ``field_hlc`` lists the stamps of
    fields changed since the row was created; every other field carries ``created_hlc``.
    ``conflicts`` are the row's open conflict records.
    """

    seq: int
    entity: str
    entity_id: str
    version: int
    hlc: str
    deleted: bool = False
    data: dict[str, Any] = Field(default_factory=dict)
    created_hlc: str | None = None
    field_hlc: dict[str, str] = Field(default_factory=dict)
    conflicts: list[Conflict] = Field(default_factory=list)
    created_at: str | None = None
    updated_at: str | None = None


class MutationResult(_Response):
    """What the server did with one mutation.

    - ``applied``: every field took effect (``conflicts`` may list values it overwrote);
    - ``duplicate``: already applied earlier (same ``mutation_id``, or the same insert/append
      id again); nothing changed;
    - ``conflict_resolved``: merged, but the row differs from what the mutation asked for (a
      value lost to a concurrent edit, a field was refused, or the row is deleted): replace the
      local row with ``current``;
    - ``rejected``: nothing applied; ``reason`` is the sentence to show, ``code`` the condition.

    ``server_seq`` is the sequence number of the change this mutation produced (None if it
    changed nothing). ``current`` is the row as the server now holds it, when it exists.
    """

    mutation_id: str
    status: MutationStatus
    server_seq: int | None = None
    reason: str | None = None
    code: str | None = None
    rejected_fields: dict[str, str] = Field(default_factory=dict)
    conflicts: list[Conflict] = Field(default_factory=list)
    current: Change | None = None


class PushResponse(_Response):
    #: one result per mutation, in the order of the request
    results: list[MutationResult]
    #: the newest sequence number of the clinic after this push (pull up to it)
    high_water_seq: int
    server_time: datetime


class PullRequest(_Request):
    """Query of a pull: rows changed after ``cursor`` (exclusive), at most ``limit`` of them."""

    cursor: int = Field(default=0, ge=0)
    limit: int = Field(default=DEFAULT_PULL_LIMIT, ge=1, le=MAX_PULL_LIMIT)
    protocol_version: int = PROTOCOL_VERSION
    schema_version: int = SCHEMA_VERSION


class PullResponse(_Response):
    """One page, in ``seq`` order; apply it and ``next_cursor`` in one local transaction."""

    changes: list[Change]
    #: the cursor to ask with next (the last change's seq, or the request's cursor if empty)
    next_cursor: int
    has_more: bool
    server_time: datetime


class LiveEvent(_Response):
    """A message on the live channel: "the clinic has changes up to ``up_to_seq``; pull"."""

    type: Literal["changes", "ping"] = "changes"
    up_to_seq: int
    server_time: datetime | None = None


# --- negotiation -----------------------------------------------------------------------------


def check_versions(
    protocol_version: int,
    schema_version: int,
    *,
    supported_protocols: frozenset[int] = SUPPORTED_PROTOCOL_VERSIONS,
    server_schema: int = SCHEMA_VERSION,
    min_client_schema: int = MIN_CLIENT_SCHEMA_VERSION,
) -> None:
    """Raise :class:`ProtocolMismatch` unless a server with these versions accepts the client."""
    server_protocol = max(supported_protocols)
    upgrade: Literal["client", "server"] | None = None
    if protocol_version not in supported_protocols:
        upgrade = "client" if protocol_version < min(supported_protocols) else "server"
    elif schema_version < min_client_schema:
        upgrade = "client"
    elif schema_version > server_schema:
        upgrade = "server"
    if upgrade is not None:
        raise ProtocolMismatch(
            client_protocol=protocol_version,
            client_schema=schema_version,
            server_protocol=server_protocol,
            server_schema=server_schema,
            upgrade=upgrade,
        )


def negotiate(
    hello: HelloRequest,
    *,
    server_time: datetime,
    high_water_seq: int | None = None,
    supported_protocols: frozenset[int] = SUPPORTED_PROTOCOL_VERSIONS,
    server_schema: int = SCHEMA_VERSION,
    min_client_schema: int = MIN_CLIENT_SCHEMA_VERSION,
) -> HelloResponse:
    """The server's answer to a hello, or :class:`ProtocolMismatch` naming both versions."""
    check_versions(
        hello.protocol_version,
        hello.schema_version,
        supported_protocols=supported_protocols,
        server_schema=server_schema,
        min_client_schema=min_client_schema,
    )
    return HelloResponse(
        protocol_version=hello.protocol_version,
        schema_version=server_schema,
        min_client_schema_version=min_client_schema,
        server_time=server_time,
        high_water_seq=high_water_seq,
    )


# --- parsing and validation ------------------------------------------------------------------


def check_body_size(size: int | None, *, max_bytes: int = MAX_PUSH_BODY_BYTES) -> None:
    """Refuse a push body (by Content-Length or bytes read) over the limit: nothing applied."""
    if size is not None and size > max_bytes:
        raise PushTooLarge(
            f"This batch of changes is too large for the clinic server ({size} bytes; the limit "
            f"is {max_bytes}). Nothing from it was saved; Glowdesk will send it in smaller batches."
        )


def _describe_pydantic_error(exc: PydanticValidationError) -> str:
    # loc and msg only: pydantic's "input" could hold patient data
    parts = []
    for err in exc.errors(include_url=False, include_input=False)[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{loc}: {err['msg']}")
    more = "" if exc.error_count() <= 3 else f" (and {exc.error_count() - 3} more)"
    return "; ".join(parts) + more


def parse_push(body: bytes, *, max_bytes: int = MAX_PUSH_BODY_BYTES) -> PushRequest:
    """Parse a raw push body: size, shape and versions. Raises, and nothing is applied, when

    - the body is over ``max_bytes`` or holds over :data:`MAX_PUSH_MUTATIONS` mutations
      (:class:`PushTooLarge`);
    - it is not JSON of the :class:`PushRequest` shape (:class:`MalformedRequest`);
    - the versions are not accepted (:class:`ProtocolMismatch`).

    Each mutation is then checked on its own with :func:`validate_mutation` (or inside
    :func:`core.merge.merge_update`): a bad mutation is rejected alone, so that one poisoned
    outbox entry never blocks the rest of a workstation's changes.
    """
    check_body_size(len(body), max_bytes=max_bytes)
    try:
        request = PushRequest.model_validate_json(body)
    except PydanticValidationError as exc:
        for err in exc.errors(include_url=False, include_input=False):
            if tuple(err["loc"]) == ("mutations",) and err["type"] == "too_long":
                raise PushTooLarge(
                    f"This batch holds more than {MAX_PUSH_MUTATIONS} changes, the most the clinic "
                    "server takes at once. Nothing from it was saved; Glowdesk will send it in "
                    "smaller batches."
                ) from None
        raise MalformedRequest(
            f"The clinic server could not read this batch of changes ({_describe_pydantic_error(exc)}). "
            "Nothing from it was saved."
        ) from None
    check_versions(request.protocol_version, request.schema_version)
    return request


def batch_mutations(
    mutations: Iterable[Mutation],
    *,
    max_mutations: int = MAX_PUSH_MUTATIONS,
    max_bytes: int = MAX_PUSH_BODY_BYTES - 4096,
) -> Iterator[list[Mutation]]:
    """Split an outbox into pushes that respect both limits (keeping the outbox order).

    ``max_bytes`` leaves room for the request envelope. A single mutation too large to send
    alone raises :class:`PushTooLarge`.
    """
    batch: list[Mutation] = []
    size = 0
    for m in mutations:
        n = len(m.model_dump_json()) + 1
        if n > max_bytes:
            raise PushTooLarge(
                f"One change to a {m.entity} is too large to send to the clinic server "
                f"({n} bytes; the limit is {max_bytes})."
            )
        if batch and (len(batch) >= max_mutations or size + n > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(m)
        size += n
    if batch:
        yield batch


def is_uuid(value: Any) -> bool:
    """True for a canonical (lowercase, hyphenated) UUID string."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def is_hlc(value: Any) -> bool:
    """True for the canonical string form of an :class:`HLCTimestamp`."""
    if not isinstance(value, str):
        return False
    try:
        ts = HLCTimestamp.parse(value)
    except ValueError:
        return False
    return bool(ts.node) and ts.wall_ms >= 0 and ts.counter >= 0 and str(ts) == value


def _parse_datetime(value: str) -> datetime | None:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else None


_TYPE_TEXT = {
    T.TEXT: "text",
    T.INT: "a whole number",
    T.BOOL: "true or false",
    T.DATETIME: "a date and time in UTC (ISO 8601, such as 2026-11-22T13:53:35.000000Z)",
    T.DATE: "a date (YYYY-MM-DD)",
    T.ID: "a record id (a UUID)",
    T.OBJECT: "a JSON object",
    T.LIST: "a JSON list",
}


def _value_ok(spec: FieldSpec, value: Any) -> bool:
    t = spec.type
    if t in (T.STR, T.TEXT):
        return isinstance(value, str) and (spec.max_length is None or len(value) <= spec.max_length)
    if t is T.INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if t is T.BOOL:
        return isinstance(value, bool)
    if t is T.DATETIME:
        return isinstance(value, str) and _parse_datetime(value) is not None
    if t is T.DATE:
        if not isinstance(value, str) or len(value) != 10:
            return False
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True
    if t is T.ID:
        return is_uuid(value)
    if t is T.OBJECT:
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)
    return isinstance(value, list)


def check_field_value(entity: EntitySpec, name: str, value: Any, *, op: Op = Op.UPDATE) -> None:
    """Raise :class:`FieldNotAllowed` / :class:`InvalidFieldValue` unless ``value`` fits the field.

    On insert/append a null for a non-nullable field that has a default means "the default".
    """
    if name in BOOKKEEPING_FIELDS:
        raise FieldNotAllowed(
            f"The field {name!r} of a {entity.label} is kept by sync itself and cannot be sent in a change.",
            entity=entity.name,
            field=name,
        )
    spec = entity.fields.get(name)
    if spec is None:
        raise FieldNotAllowed(
            f"A {entity.label} has no field {name!r}; this change cannot be applied.",
            entity=entity.name,
            field=name,
        )
    if value is None:
        if spec.nullable or (op in (Op.INSERT, Op.APPEND) and not spec.required):
            return
        raise InvalidFieldValue(
            f"The {entity.label} field {name!r} cannot be empty.", entity=entity.name, field=name
        )
    if not _value_ok(spec, value):
        if spec.type is T.STR:
            expected = f"text of at most {spec.max_length} characters"
        else:
            expected = _TYPE_TEXT[spec.type]
        raise InvalidFieldValue(
            f"The {entity.label} field {name!r} must be {expected}.", entity=entity.name, field=name
        )


def validate_mutation(mutation: Mutation, *, authority: Authority = "client") -> EntitySpec:
    """Check one mutation against protocol v1 and the catalogue; return its entity's spec.

    Raises a :class:`SyncProtocolError` subclass (an :class:`InvalidMutation`) for: a change id
    or record id that is not a UUID, an unknown entity, an entity clients may not write, an
    unknown op or one the entity does not allow, an unreadable HLC, an unknown or bookkeeping
    field, a value of the wrong type, a delete carrying fields, an empty update, or an insert
    missing a required field. Server-owned and insert-only fields are *not* errors here: the
    merge refuses them field by field (see :func:`core.merge.merge_update`).
    """
    mid = mutation.mutation_id
    if not is_uuid(mid):
        raise InvalidId("This change has no valid change id (expected a UUID).", entity=mutation.entity)
    try:
        spec = entity_spec(mutation.entity)
    except UnknownEntity as exc:
        exc.mutation_id = mid
        raise
    if authority == "client" and not spec.client_writable:
        raise EntityNotWritable(
            spec.not_writable_reason or f"A {spec.label} can only be changed on the clinic server.",
            mutation_id=mid,
            entity=spec.name,
        )
    try:
        op = Op(mutation.op)
    except ValueError:
        raise BadOperation(
            f"This workstation sent a change of an unknown type ({mutation.op!r}); only insert, "
            "update, delete and append are understood.",
            mutation_id=mid,
            entity=spec.name,
        ) from None
    if op not in spec.ops:
        if spec.kind is Kind.APPEND_ONLY:
            message = f"A {spec.label} cannot be changed or deleted once saved; add a new one instead."
        else:
            message = f"A {spec.label} is not append-only; create it with an insert."
        raise BadOperation(message, mutation_id=mid, entity=spec.name)
    if not is_uuid(mutation.entity_id):
        raise InvalidId(
            f"The id of this {spec.label} is not a valid record id (expected a UUID).",
            mutation_id=mid,
            entity=spec.name,
        )
    if not is_hlc(mutation.hlc):
        raise InvalidHLC(
            f"This change to a {spec.label} carries an unreadable clock stamp; update Glowdesk "
            "on this workstation.",
            mutation_id=mid,
            entity=spec.name,
        )
    if mutation.staff_id is not None and not is_uuid(mutation.staff_id):
        raise InvalidId(
            "The staff member of this change is not a valid id (expected a UUID).",
            mutation_id=mid,
            entity=spec.name,
        )
    fields = mutation.fields
    if op is Op.DELETE and fields:
        raise InvalidMutation(
            f"A delete of a {spec.label} carries no field values.", mutation_id=mid, entity=spec.name
        )
    if op is Op.UPDATE and not fields:
        raise InvalidMutation(
            f"An update of a {spec.label} must change at least one field.",
            mutation_id=mid,
            entity=spec.name,
        )
    for name, value in fields.items():
        try:
            check_field_value(spec, name, value, op=op)
        except InvalidMutation as exc:
            exc.mutation_id = mid
            raise
    if op in (Op.INSERT, Op.APPEND):
        missing = sorted(n for n in spec.required if fields.get(n) is None)
        if missing:
            listed = ", ".join(missing)
            raise MissingFields(
                f"A new {spec.label} needs these fields: {listed}.",
                mutation_id=mid,
                entity=spec.name,
                field=missing[0],
            )
    return spec


def normalise_value(spec: FieldSpec, value: Any) -> Any:
    """The canonical wire form of a valid value (datetimes as ``...%fZ`` UTC text)."""
    if spec.type is T.DATETIME and isinstance(value, str):
        dt = _parse_datetime(value)
        if dt is not None:
            return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def canonical_json(value: Any) -> str:
    """A value's canonical JSON text (used to compare values and break exact-stamp ties)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


__all__ = [
    "APPEND_ONLY_ENTITIES",
    "Authority",
    "BOOKKEEPING_FIELDS",
    "BadOperation",
    "Change",
    "Conflict",
    "ConflictKind",
    "DEFAULT_PULL_LIMIT",
    "ENTITIES",
    "EntityNotWritable",
    "EntitySpec",
    "ErrorBody",
    "FieldNotAllowed",
    "FieldSpec",
    "FieldType",
    "HelloRequest",
    "HelloResponse",
    "ImmutableRule",
    "InvalidFieldValue",
    "InvalidHLC",
    "InvalidId",
    "InvalidMutation",
    "Kind",
    "LiveEvent",
    "MAX_PULL_LIMIT",
    "MAX_PUSH_BODY_BYTES",
    "MAX_PUSH_MUTATIONS",
    "MIN_CLIENT_SCHEMA_VERSION",
    "MalformedRequest",
    "MissingFields",
    "Mutation",
    "MutationResult",
    "MutationStatus",
    "Op",
    "Ownership",
    "PROTOCOL_HEADER",
    "PROTOCOL_VERSION",
    "ProtocolMismatch",
    "PullRequest",
    "PullResponse",
    "PushRequest",
    "PushResponse",
    "PushTooLarge",
    "SCHEMA_HEADER",
    "SCHEMA_VERSION",
    "SERVER_NODE",
    "SERVER_ONLY_ENTITIES",
    "SUPPORTED_PROTOCOL_VERSIONS",
    "SyncProtocolError",
    "UnknownEntity",
    "batch_mutations",
    "canonical_json",
    "check_body_size",
    "check_field_value",
    "check_versions",
    "entity_spec",
    "error_from_body",
    "is_hlc",
    "is_uuid",
    "negotiate",
    "normalise_value",
    "parse_push",
    "validate_mutation",
]
