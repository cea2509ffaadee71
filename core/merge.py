"""The merge rules, one implementation for the clinic server and the desktops.

:func:`merge_update` takes the row as it stands (:class:`RowState`) and one mutation, and returns
a :class:`MergeOutcome`: the new row state, what happened, and the conflicts involved. It is a
pure function; the server runs it for every pushed mutation (in its per-clinic order), and a
desktop runs it to predict what its pending edits will look like over a pulled row
(:func:`rebase`).

Rules (protocol v1):

1. **Editable rows merge field by field, last writer wins per field.** Every field carries the
   :class:`Stamp` of the write that set its value (its HLC, the row version it was applied at,
   the version its writer had seen). An incoming value wins when its HLC is newer than the
   field's stamp, otherwise it loses. HLC strings order by wall time, then counter, then node
   id, so ties between workstations are broken deterministically; an identical stamp with a
   different value (a buggy client) is broken by the values' canonical JSON.
2. **Nothing is lost silently.** For each field the row remembers every other node's latest
   losing write. A losing write is an open :class:`core.sync.Conflict` when its value differs
   from the winning value and nobody who later wrote that field had seen it, i.e. its version is
   above every such writer's ``base_version`` (a writer who saw a value and changed it anyway
   decided, so that is not a conflict; neither is a node overwriting its own earlier value).
   Conflicts are a function of the *set* of writes, not of their order: any replica applying the
   same mutations in any order ends with the same data and the same conflicts.
3. **Deletes are tombstones and the delete wins.** A delete marks the row deleted whatever its
   stamp. Edits that arrive after the delete (or that the deleter had not seen) still merge into
   the hidden data, so replicas converge, and each one is kept as an ``edit_of_deleted``
   conflict. There is no undelete in v1.
4. **Inserts**: a new id creates the row (version 1; every field stamped with the insert). The
   same insert again (same HLC) is a ``duplicate``; a different insert with an existing id is a
   real collision and is ``rejected``.
5. **Append-only entities** (timeline activities) are created once and never change: an append
   is applied, a second append of the same id is a ``duplicate``, edits and deletes are refused.
6. **Server-owned fields** (see :data:`core.sync.ENTITIES`) are never changed by a client: in a
   client update such a field is refused on its own, with its sentence in ``rejected_fields``,
   and the rest of the mutation is merged (``conflict_resolved``); only server-owned fields
   means ``rejected``. In a client insert they are reset to their default unless the field
   accepts the client's value as an initial request (patient consents from the intake form).
   Insert-only fields are refused the same way in updates. With ``authority="server"`` the
   server's own writes set server-owned fields outright (the server is their only writer).
7. **Signed/immutable records**: an entity's ``immutable_when`` rule, or the ``immutable``
   argument, names a reason to refuse a client's edit or delete of a row (a signed chart:
   corrections are amendments). That refusal depends on the row's state when the server sees
   the mutation: the server decides, in its order.

Versions: a change that alters the row (its data, tombstone or conflict bookkeeping) bumps
``version`` by one; the server gives that change its next sequence number. ``base_version`` of
a mutation must be a server-assigned version (see :mod:`core.sync`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from core.clock import HLCTimestamp
from core.sync import (
    ENTITIES,
    Authority,
    Change,
    Conflict,
    EntitySpec,
    Kind,
    Mutation,
    MutationResult,
    MutationStatus,
    Op,
    Ownership,
    SyncProtocolError,
    canonical_json,
    normalise_value,
    validate_mutation,
)

#: Format version of :meth:`RowState.to_meta` (stored by the server next to each row).
META_VERSION: Final = 1


def _node(hlc: str) -> str:
    return HLCTimestamp.parse(hlc).node


@dataclass(frozen=True, slots=True)
class Stamp:
    """Who set a value and when: the write's HLC, the row version it was applied at (server
    numbering), the row version its writer had seen, and the acting staff member."""

    hlc: str
    version: int = 0
    base_version: int = 0
    staff_id: str | None = None

    @property
    def node(self) -> str:
        return _node(self.hlc)

    def to_json(self) -> list[Any]:
        return [self.hlc, self.version, self.base_version, self.staff_id]

    @classmethod
    def from_json(cls, raw: list[Any]) -> Stamp:
        return cls(str(raw[0]), int(raw[1]), int(raw[2]), raw[3])


@dataclass(frozen=True, slots=True)
class LosingWrite:
    """A node's latest value for a field that lost to the current value."""

    value: Any
    stamp: Stamp


def _saw(deleter: Stamp, write: Stamp) -> bool:
    """Had the writer of ``deleter`` seen ``write``?"""
    if deleter.base_version >= write.version:
        return True
    return deleter.node == write.node and deleter.hlc > write.hlc


def _cmp(hlc_a: str, value_a: Any, hlc_b: str, value_b: Any) -> int:
    """Order two writes of one field: by HLC, then (identical stamps) by canonical value."""
    if hlc_a != hlc_b:
        return 1 if hlc_a > hlc_b else -1
    ja, jb = canonical_json(value_a), canonical_json(value_b)
    return (ja > jb) - (ja < jb)


@dataclass(frozen=True)
class RowState:
    """A syncable row with its merge bookkeeping. ``version == 0`` means "no such row yet".

    ``stamps`` has the stamp of every field's current value (``field_hlc`` is the HLC view of
    it); ``losers`` keeps, per field, each other node's latest losing write; ``deletes`` each
    node's delete. The server stores ``data`` in its columns and :meth:`to_meta` in a JSON
    column, and rebuilds the state with :meth:`from_stored`.
    """

    entity: str
    entity_id: str
    version: int = 0
    deleted: bool = False
    data: Mapping[str, Any] = field(default_factory=dict)
    stamps: Mapping[str, Stamp] = field(default_factory=dict)
    losers: Mapping[str, Mapping[str, LosingWrite]] = field(default_factory=dict)
    deletes: Mapping[str, Stamp] = field(default_factory=dict)
    #: the stamp of the insert that created the row (None for rows made outside the merge)
    created: Stamp | None = None

    @classmethod
    def absent(cls, entity: str, entity_id: str) -> RowState:
        return cls(entity, entity_id)

    @property
    def exists(self) -> bool:
        return self.version > 0

    @property
    def hlc(self) -> str:
        """The newest stamp on the row (its last change), "" for an absent row."""
        stamps = [s.hlc for s in self.stamps.values()] + [d.hlc for d in self.deletes.values()]
        if self.created is not None:
            stamps.append(self.created.hlc)
        return max(stamps, default="")

    @property
    def field_hlc(self) -> dict[str, str]:
        return {name: s.hlc for name, s in self.stamps.items()}

    def conflicts(self, fields: Iterable[str] | None = None) -> list[Conflict]:
        """The row's open conflicts (of ``fields`` only, if given), sorted; see rules 2 and 3."""
        out: list[Conflict] = []
        top_delete = max(self.deletes.values(), key=lambda d: d.hlc) if self.deletes else None
        names = self.stamps if self.deleted else self.losers
        wanted = None if fields is None else frozenset(fields)
        spec = ENTITIES.get(self.entity)
        server_owned = spec.server_owned if spec is not None else frozenset()
        for name in sorted(n for n in names if wanted is None or n in wanted):
            if name not in self.stamps or name in server_owned:
                continue  # the server's own facts are decisions, never conflicts
            winner = self.stamps[name]
            value = self.data.get(name)
            per_node = self.losers.get(name, {})
            seen = max([winner.base_version, *(w.stamp.base_version for w in per_node.values())])
            live = [per_node[n] for n in sorted(per_node) if per_node[n].stamp.version > seen]
            if self.deleted and top_delete is not None:
                for lost_value, stamp in [(value, winner), *((w.value, w.stamp) for w in live)]:
                    if any(_saw(d, stamp) for d in self.deletes.values()):
                        continue
                    out.append(
                        Conflict(
                            entity=self.entity,
                            entity_id=self.entity_id,
                            field=name,
                            kind="edit_of_deleted",
                            winning_value=None,
                            winner_hlc=top_delete.hlc,
                            winner_staff_id=top_delete.staff_id,
                            losing_value=lost_value,
                            loser_hlc=stamp.hlc,
                            loser_staff_id=stamp.staff_id,
                        )
                    )
                continue
            current_json = canonical_json(value)
            for w in live:
                if canonical_json(w.value) == current_json:
                    continue
                out.append(
                    Conflict(
                        entity=self.entity,
                        entity_id=self.entity_id,
                        field=name,
                        kind="concurrent_edit",
                        winning_value=value,
                        winner_hlc=winner.hlc,
                        winner_staff_id=winner.staff_id,
                        losing_value=w.value,
                        loser_hlc=w.stamp.hlc,
                        loser_staff_id=w.stamp.staff_id,
                    )
                )
        out.sort(key=lambda c: c.key)
        return out

    # --- storage and wire forms ----------------------------------------------------------

    def to_meta(self) -> dict[str, Any]:
        """The merge bookkeeping as JSON (compact: fields still at the insert stamp are implied)."""
        return {
            "v": META_VERSION,
            "created": self.created.to_json() if self.created is not None else None,
            "stamps": {n: s.to_json() for n, s in self.stamps.items() if s != self.created},
            "losers": {
                n: {node: [w.value, *w.stamp.to_json()] for node, w in per_node.items()}
                for n, per_node in self.losers.items()
                if per_node
            },
            "deletes": {node: d.to_json() for node, d in self.deletes.items()},
        }

    @classmethod
    def from_stored(
        cls,
        entity: str,
        entity_id: str,
        *,
        version: int,
        hlc: str,
        deleted: bool,
        data: Mapping[str, Any],
        meta: Mapping[str, Any] | None,
    ) -> RowState:
        """Rebuild a stored row. Without ``meta`` (a row written outside the merge) every field
        is stamped with the row's ``hlc`` and ``version``."""
        fallback = Stamp(hlc, version, version)
        if not meta:
            return cls(
                entity,
                entity_id,
                version=version,
                deleted=deleted,
                data=dict(data),
                stamps={n: fallback for n in data},
                deletes={_node(hlc): fallback} if deleted and hlc else {},
            )
        created = Stamp.from_json(meta["created"]) if meta.get("created") else None
        base = created or fallback
        stamps = {n: base for n in data}
        stamps.update({n: Stamp.from_json(raw) for n, raw in (meta.get("stamps") or {}).items()})
        losers = {
            n: {node: LosingWrite(raw[0], Stamp.from_json(raw[1:])) for node, raw in per_node.items()}
            for n, per_node in (meta.get("losers") or {}).items()
        }
        deletes = {node: Stamp.from_json(raw) for node, raw in (meta.get("deletes") or {}).items()}
        if deleted and not deletes and hlc:
            deletes = {_node(hlc): fallback}
        return cls(
            entity,
            entity_id,
            version=version,
            deleted=deleted,
            data=dict(data),
            stamps=stamps,
            losers=losers,
            deletes=deletes,
            created=created,
        )

    def to_change(self, seq: int, *, created_at: str | None = None, updated_at: str | None = None) -> Change:
        """The row as one pull-page entry (or the ``current`` of a push result)."""
        created_hlc = self.created.hlc if self.created is not None else None
        return Change(
            seq=seq,
            entity=self.entity,
            entity_id=self.entity_id,
            version=self.version,
            hlc=self.hlc,
            deleted=self.deleted,
            data=dict(self.data),
            created_hlc=created_hlc,
            field_hlc={n: s.hlc for n, s in self.stamps.items() if s.hlc != created_hlc},
            conflicts=self.conflicts(),
            created_at=created_at,
            updated_at=updated_at,
        )

    @classmethod
    def from_change(cls, change: Change) -> RowState:
        """A pulled row as a state to rebase local edits on (desktop side).

        The desktop does not get the server's losing writes, so conflicts it would compute are
        predictions only; the server's conflict records are ``change.conflicts``.
        """
        stamp_of = {n: change.field_hlc.get(n, change.created_hlc or change.hlc) for n in change.data}
        stamps = {n: Stamp(h, change.version, change.version) for n, h in stamp_of.items()}
        deletes = (
            {_node(change.hlc): Stamp(change.hlc, change.version, change.version)} if change.deleted else {}
        )
        created = Stamp(change.created_hlc, 1, 0) if change.created_hlc else None
        return cls(
            change.entity,
            change.entity_id,
            version=change.version,
            deleted=change.deleted,
            data=dict(change.data),
            stamps=stamps,
            deletes=deletes,
            created=created,
        )


@dataclass(frozen=True)
class MergeOutcome:
    """What merging one mutation did.

    ``row`` is the new state (the same object as the input when nothing changed); ``changed``
    says whether it must be stored with a new version and sequence number; ``changed_fields``
    the data fields whose value changed; ``conflicts`` the open conflicts this mutation is part
    of (as loser or winner); ``rejected_fields`` the fields refused (server-owned/insert-only)
    with their sentences; ``reason``/``code`` explain a rejection or a resolution.
    """

    status: MutationStatus
    row: RowState
    changed: bool
    changed_fields: frozenset[str] = frozenset()
    conflicts: tuple[Conflict, ...] = ()
    rejected_fields: Mapping[str, str] = field(default_factory=dict)
    reason: str | None = None
    code: str | None = None

    def to_result(
        self, mutation_id: str, *, server_seq: int | None = None, current: Change | None = None
    ) -> MutationResult:
        return MutationResult(
            mutation_id=mutation_id,
            status=self.status,
            server_seq=server_seq,
            reason=self.reason,
            code=self.code,
            rejected_fields=dict(self.rejected_fields),
            conflicts=list(self.conflicts),
            current=current,
        )


ImmutableCheck = Callable[[RowState], str | None]


def _rejected(
    current: RowState, reason: str, code: str, rejected_fields: Mapping[str, str] | None = None
) -> MergeOutcome:
    return MergeOutcome(
        "rejected", current, False, rejected_fields=dict(rejected_fields or {}), reason=reason, code=code
    )


def merge_update(
    current: RowState,
    mutation: Mutation,
    *,
    authority: Authority = "client",
    immutable: ImmutableCheck | None = None,
) -> MergeOutcome:
    """Merge one mutation (any op) into ``current`` following the module's rules.

    Invalid mutations (see :func:`core.sync.validate_mutation`) come back ``rejected`` with the
    error's sentence and code; nothing raises except a mutation for another row (ValueError).
    """
    if mutation.entity != current.entity or mutation.entity_id != current.entity_id:
        raise ValueError("merge_update: the mutation is for another row")
    try:
        spec = validate_mutation(mutation, authority=authority)
    except SyncProtocolError as exc:
        return _rejected(current, exc.user_message, exc.code)
    op = Op(mutation.op)
    fields = {k: normalise_value(spec.fields[k], v) for k, v in mutation.fields.items()}
    if op in (Op.INSERT, Op.APPEND):
        return _create(spec, current, mutation, fields, authority)
    if not current.exists:
        return _rejected(
            current,
            f"This {spec.label} is not on the clinic server, so the change could not be applied.",
            "not_found",
        )
    if authority == "client":
        reason = spec.immutable_when(current.data) if spec.immutable_when is not None else None
        if reason is None and immutable is not None:
            reason = immutable(current)
        if reason:
            return _rejected(current, reason, "immutable")
    if op is Op.DELETE:
        return _delete(spec, current, mutation)
    return _update(spec, current, mutation, fields, authority)


def _create(
    spec: EntitySpec, current: RowState, m: Mutation, fields: dict[str, Any], authority: Authority
) -> MergeOutcome:
    if current.exists:
        if spec.kind is Kind.APPEND_ONLY or (current.created is not None and current.created.hlc == m.hlc):
            return MergeOutcome("duplicate", current, False)
        return _rejected(
            current,
            f"Another {spec.label} already uses this record id, so this one was not saved. "
            "Please enter it again.",
            "id_collision",
        )
    data = spec.defaults()
    for name, value in fields.items():
        if value is None and not spec.fields[name].nullable:
            continue  # null for a defaulted field means "the default"
        data[name] = value
    if authority == "client":
        for name in spec.server_owned:
            fs = spec.fields[name]
            if not fs.accept_on_insert:
                data[name] = fs.default_value()
    stamp = Stamp(m.hlc, 1, 0, m.staff_id)
    row = RowState(
        spec.name, m.entity_id, version=1, data=data, stamps={n: stamp for n in data}, created=stamp
    )
    return MergeOutcome("applied", row, True, changed_fields=frozenset(data))


def _delete(spec: EntitySpec, current: RowState, m: Mutation) -> MergeOutcome:
    node = m.node
    previous = current.deletes.get(node)
    if previous is not None and previous.hlc >= m.hlc:
        return MergeOutcome("duplicate", current, False)
    version = current.version + 1
    deletes = dict(current.deletes)
    deletes[node] = Stamp(m.hlc, version, m.base_version, m.staff_id)
    row = replace(current, version=version, deleted=True, deletes=deletes)
    mine = tuple(c for c in row.conflicts() if c.kind == "edit_of_deleted")
    return MergeOutcome("applied", row, True, conflicts=mine)


def _merge_field(
    name: str,
    incoming: LosingWrite,
    data: dict[str, Any],
    stamps: dict[str, Stamp],
    losers: dict[str, dict[str, LosingWrite]],
) -> None:
    per_node = losers.setdefault(name, {})
    node = incoming.stamp.node
    cur = stamps.get(name)
    if cur is None:
        data[name] = incoming.value
        stamps[name] = incoming.stamp
        per_node.pop(node, None)
        return
    cur_value = data.get(name)
    order = _cmp(incoming.stamp.hlc, incoming.value, cur.hlc, cur_value)
    if order == 0:
        return  # this very write is already the value
    if order > 0:
        cur_node = cur.node
        if cur_node != node:
            prev = per_node.get(cur_node)
            if prev is None or _cmp(prev.stamp.hlc, prev.value, cur.hlc, cur_value) < 0:
                per_node[cur_node] = LosingWrite(cur_value, cur)
        per_node.pop(node, None)
        data[name] = incoming.value
        stamps[name] = incoming.stamp
        return
    if cur.node == node:
        return  # the same writer already replaced this value
    prev = per_node.get(node)
    if prev is None or _cmp(prev.stamp.hlc, prev.value, incoming.stamp.hlc, incoming.value) < 0:
        per_node[node] = incoming


def _differs(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return True
    return bool(a != b) or (isinstance(a, dict | list) and canonical_json(a) != canonical_json(b))


def _join(reasons: Iterable[str]) -> str:
    return " ".join(dict.fromkeys(reasons))


def _update(
    spec: EntitySpec, current: RowState, m: Mutation, fields: dict[str, Any], authority: Authority
) -> MergeOutcome:
    rejected: dict[str, str] = {}
    wanted: dict[str, Any] = {}
    for name, value in fields.items():
        fs = spec.fields[name]
        if authority == "client" and fs.ownership is not Ownership.CLIENT:
            if canonical_json(value) != canonical_json(current.data.get(name)):
                rejected[name] = fs.reason or f"The {spec.label} field {name!r} is set by the clinic server."
            continue
        wanted[name] = value
    if not wanted:
        if rejected:
            return _rejected(current, _join(rejected.values()), "server_owned", rejected)
        return MergeOutcome("applied", current, False)

    version = current.version + 1
    data = dict(current.data)
    stamps = dict(current.stamps)
    losers = {n: dict(per_node) for n, per_node in current.losers.items()}
    incoming = Stamp(m.hlc, version, m.base_version, m.staff_id)
    for name, value in wanted.items():
        if authority == "server" and spec.fields[name].ownership is Ownership.SERVER:
            data[name] = value  # the server is the only writer of its facts
            stamps[name] = incoming
            losers.pop(name, None)
            continue
        _merge_field(name, LosingWrite(value, incoming), data, stamps, losers)
    losers = {n: per_node for n, per_node in losers.items() if per_node}

    changed = data != current.data or stamps != current.stamps or losers != current.losers
    if not changed:
        if rejected:
            return MergeOutcome(
                "conflict_resolved",
                current,
                False,
                rejected_fields=rejected,
                reason=_join(rejected.values()),
                code="server_owned",
            )
        return MergeOutcome("duplicate", current, False)

    row = replace(current, version=version, data=data, stamps=stamps, losers=losers)
    changed_fields = frozenset(n for n in wanted if _differs(data.get(n), current.data.get(n)))
    mine = tuple(c for c in row.conflicts(wanted) if m.hlc in (c.loser_hlc, c.winner_hlc))
    lost = any(row.stamps[n].hlc != m.hlc for n in wanted)
    reasons: list[str] = []
    code: str | None = None
    if row.deleted:
        reasons.append(
            f"This {spec.label} was deleted on another workstation; the change is kept in its "
            "conflict list for review."
        )
        code = "deleted"
    elif lost and any(c.loser_hlc == m.hlc for c in mine):
        reasons.append(
            f"The same details of this {spec.label} were changed on another workstation at the "
            "same time; the latest change was kept and the other is listed for review."
        )
        code = "concurrent_edit"
    if rejected:
        reasons.extend(rejected.values())
        code = code or "server_owned"
    status: MutationStatus = "conflict_resolved" if (rejected or lost or row.deleted) else "applied"
    return MergeOutcome(
        status,
        row,
        True,
        changed_fields=changed_fields,
        conflicts=mine,
        rejected_fields=rejected,
        reason=_join(reasons) if reasons else None,
        code=code,
    )


def rebase(row: RowState, pending: Iterable[Mutation]) -> RowState:
    """Desktop side: a pulled row with this workstation's pending (unacknowledged) mutations
    merged on top, in outbox order; what the server will most likely hold after the push.
    Mutations the merge would refuse are skipped."""
    for m in pending:
        outcome = merge_update(row, m)
        if outcome.changed:
            row = outcome.row
    return row


__all__ = [
    "META_VERSION",
    "Conflict",
    "ImmutableCheck",
    "LosingWrite",
    "MergeOutcome",
    "RowState",
    "Stamp",
    "merge_update",
    "rebase",
]
