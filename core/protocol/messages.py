"""The messages of sync protocol v1 (pydantic models): hello, push, pull, live, errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.clock import HLCTimestamp
from core.protocol.versions import (
    DEFAULT_PULL_LIMIT,
    MAX_PULL_LIMIT,
    MAX_PUSH_BODY_BYTES,
    MAX_PUSH_MUTATIONS,
    PROTOCOL_VERSION,
    SCHEMA_VERSION,
    ConflictKind,
    MutationStatus,
)


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
