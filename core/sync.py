"""Sync protocol v1 and the entity catalogue, under their historical name (a facade).

The code lives in small modules now; this one re-exports every public name it always had, so
``from core.sync import ...`` keeps working everywhere:

- :mod:`core.protocol` - the wire format: versions and limits (:mod:`~core.protocol.versions`),
  messages (:mod:`~core.protocol.messages`), errors (:mod:`~core.protocol.errors`), version
  negotiation (:mod:`~core.protocol.negotiation`), parsing and validation
  (:mod:`~core.protocol.validation`);
- :mod:`core.specs` - what an entity spec and a field spec are;
- :mod:`core.entities` - every syncable kind, one module per kind or small family, registered in
  :data:`~core.entities.ENTITIES`.

New code may import from the modules themselves; names added there need not appear here.
"""

from __future__ import annotations

from core.entities import (
    APPEND_ONLY_ENTITIES as APPEND_ONLY_ENTITIES,
)
from core.entities import (
    ENTITIES as ENTITIES,
)
from core.entities import (
    SERVER_ONLY_ENTITIES as SERVER_ONLY_ENTITIES,
)
from core.entities import (
    entity_spec as entity_spec,
)
from core.protocol.errors import (
    BadOperation as BadOperation,
)
from core.protocol.errors import (
    EntityNotWritable as EntityNotWritable,
)
from core.protocol.errors import (
    FieldNotAllowed as FieldNotAllowed,
)
from core.protocol.errors import (
    InvalidFieldValue as InvalidFieldValue,
)
from core.protocol.errors import (
    InvalidHLC as InvalidHLC,
)
from core.protocol.errors import (
    InvalidId as InvalidId,
)
from core.protocol.errors import (
    InvalidMutation as InvalidMutation,
)
from core.protocol.errors import (
    MalformedRequest as MalformedRequest,
)
from core.protocol.errors import (
    MissingFields as MissingFields,
)
from core.protocol.errors import (
    ProtocolMismatch as ProtocolMismatch,
)
from core.protocol.errors import (
    PushTooLarge as PushTooLarge,
)
from core.protocol.errors import (
    SyncProtocolError as SyncProtocolError,
)
from core.protocol.errors import (
    UnknownEntity as UnknownEntity,
)
from core.protocol.errors import (
    error_from_body as error_from_body,
)
from core.protocol.messages import (
    Change as Change,
)
from core.protocol.messages import (
    Conflict as Conflict,
)
from core.protocol.messages import (
    ErrorBody as ErrorBody,
)
from core.protocol.messages import (
    HelloRequest as HelloRequest,
)
from core.protocol.messages import (
    HelloResponse as HelloResponse,
)
from core.protocol.messages import (
    LiveEvent as LiveEvent,
)
from core.protocol.messages import (
    Mutation as Mutation,
)
from core.protocol.messages import (
    MutationResult as MutationResult,
)
from core.protocol.messages import (
    PullRequest as PullRequest,
)
from core.protocol.messages import (
    PullResponse as PullResponse,
)
from core.protocol.messages import (
    PushRequest as PushRequest,
)
from core.protocol.messages import (
    PushResponse as PushResponse,
)
from core.protocol.negotiation import (
    check_versions as check_versions,
)
from core.protocol.negotiation import (
    negotiate as negotiate,
)
from core.protocol.validation import (
    batch_mutations as batch_mutations,
)
from core.protocol.validation import (
    canonical_json as canonical_json,
)
from core.protocol.validation import (
    check_body_size as check_body_size,
)
from core.protocol.validation import (
    check_field_value as check_field_value,
)
from core.protocol.validation import (
    is_hlc as is_hlc,
)
from core.protocol.validation import (
    is_uuid as is_uuid,
)
from core.protocol.validation import (
    normalise_value as normalise_value,
)
from core.protocol.validation import (
    parse_push as parse_push,
)
from core.protocol.validation import (
    validate_mutation as validate_mutation,
)
from core.protocol.versions import (
    BOOKKEEPING_FIELDS as BOOKKEEPING_FIELDS,
)
from core.protocol.versions import (
    DEFAULT_PULL_LIMIT as DEFAULT_PULL_LIMIT,
)
from core.protocol.versions import (
    MAX_PULL_LIMIT as MAX_PULL_LIMIT,
)
from core.protocol.versions import (
    MAX_PUSH_BODY_BYTES as MAX_PUSH_BODY_BYTES,
)
from core.protocol.versions import (
    MAX_PUSH_MUTATIONS as MAX_PUSH_MUTATIONS,
)
from core.protocol.versions import (
    MIN_CLIENT_SCHEMA_VERSION as MIN_CLIENT_SCHEMA_VERSION,
)
from core.protocol.versions import (
    PROTOCOL_HEADER as PROTOCOL_HEADER,
)
from core.protocol.versions import (
    PROTOCOL_VERSION as PROTOCOL_VERSION,
)
from core.protocol.versions import (
    SCHEMA_HEADER as SCHEMA_HEADER,
)
from core.protocol.versions import (
    SCHEMA_VERSION as SCHEMA_VERSION,
)
from core.protocol.versions import (
    SERVER_NODE as SERVER_NODE,
)
from core.protocol.versions import (
    SUPPORTED_PROTOCOL_VERSIONS as SUPPORTED_PROTOCOL_VERSIONS,
)
from core.protocol.versions import (
    Authority as Authority,
)
from core.protocol.versions import (
    ConflictKind as ConflictKind,
)
from core.protocol.versions import (
    MutationStatus as MutationStatus,
)
from core.specs import (
    EntitySpec as EntitySpec,
)
from core.specs import (
    FieldSpec as FieldSpec,
)
from core.specs import (
    FieldType as FieldType,
)
from core.specs import (
    ImmutableRule as ImmutableRule,
)
from core.specs import (
    Kind as Kind,
)
from core.specs import (
    Op as Op,
)
from core.specs import (
    Ownership as Ownership,
)

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
