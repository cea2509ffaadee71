"""Sync protocol v1: the wire format between the desktops and the clinic server.

The server is the hub. A desktop *pushes* its outbox as :class:`Mutation` objects in a
:class:`PushRequest` and gets one :class:`MutationResult` per mutation back; it *pulls*
:class:`Change` rows ("every row changed since my cursor") in :class:`PullResponse` pages; before
either it says :class:`HelloRequest` and the server answers with a :class:`HelloResponse` or a
:class:`ProtocolMismatch` naming both sides' versions and who has to update.

Modules: :mod:`~core.protocol.versions` (versions, limits, header names), :mod:`~core.protocol.messages`
(the pydantic messages), :mod:`~core.protocol.errors` (the errors and their bodies),
:mod:`~core.protocol.negotiation` (hello) and :mod:`~core.protocol.validation` (parsing a push,
batching an outbox, checking a mutation against the entity catalogue of :mod:`core.entities`: a
:class:`~core.protocol.errors.SyncProtocolError` subclass whose message a front-desk person can
read, never containing field values). The merge rules that both sides apply live in :mod:`core.merge`.

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
