"""Versions, limits and fixed names of sync protocol v1 (see :mod:`core.protocol`)."""

from __future__ import annotations

from typing import Final, Literal

PROTOCOL_VERSION: Final = 1
#: Protocol versions a server built from this core accepts.
SUPPORTED_PROTOCOL_VERSIONS: Final = frozenset({1})
#: Version of the entity catalogue (:mod:`core.entities`: entities, fields, ownership). Not the Alembic revision
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
