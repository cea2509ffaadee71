"""A small in-memory clinic server for the engine's unit tests (the real one is in tests/integration).

It speaks the engine's transport protocol (hello, push, pull, staff) and merges with the same
core.merge rules as the server; failure switches let tests cut the connection at chosen points.
The desktops' stores are always real SQLCipher files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.sync.client import EnrolledStaff
from app.sync.errors import DeviceRevokedError, SyncRefused, SyncUnavailable
from core.merge import RowState, merge_update
from core.sync import (
    SCHEMA_VERSION,
    Change,
    HelloRequest,
    HelloResponse,
    MutationResult,
    ProtocolMismatch,
    PullResponse,
    PushRequest,
    PushResponse,
)

NOW = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)


class Crash(Exception):
    """The 'process died' at a chosen point (the engine never sees the answer)."""


@dataclass
class FakeHub:
    rows: dict[tuple[str, str], tuple[RowState, int]] = field(default_factory=dict)
    seen: dict[str, MutationResult] = field(default_factory=dict)
    seq: int = 0
    #: entity ids whose inserts are refused (a taken slot)
    refuse: dict[str, str] = field(default_factory=dict)
    down: bool = False
    revoked: bool = False
    schema: int = SCHEMA_VERSION
    crash_after_push: int = 0  # apply the next N pushes, then lose the answer
    crash_on_pull: int | None = None  # lose the answer to the pull number N (1-based)
    pulls: int = 0
    pushes: list[tuple[str | None, int]] = field(default_factory=list)  # (staff header, size)
    #: what GET /staff answers (None: an older server without the list, 404)
    staff_list: list[EnrolledStaff] | None = None

    def _gate(self) -> None:
        if self.down:
            raise SyncUnavailable("The clinic server cannot be reached.", offline=True)
        if self.revoked:
            raise DeviceRevokedError()

    def change(self, key: tuple[str, str]) -> Change:
        state, seq = self.rows[key]
        return state.to_change(seq)

    def hello(self, request: HelloRequest, *, staff_id: str | None = None) -> HelloResponse:
        self._gate()
        if request.schema_version > self.schema:
            raise ProtocolMismatch(
                client_protocol=request.protocol_version, client_schema=request.schema_version,
                server_protocol=1, server_schema=self.schema, upgrade="server",
            )
        return HelloResponse(
            protocol_version=1, schema_version=self.schema, min_client_schema_version=1,
            server_time=NOW, high_water_seq=self.seq,
        )

    def push(self, request: PushRequest, *, staff_id: str | None) -> PushResponse:
        self._gate()
        self.pushes.append((staff_id, len(request.mutations)))
        results = []
        for m in request.mutations:
            key = (m.entity, m.entity_id)
            if m.mutation_id in self.seen:
                current = self.change(key) if key in self.rows else None
                stored = self.seen[m.mutation_id]
                status = "rejected" if stored.status == "rejected" else "duplicate"
                results.append(stored.model_copy(update={"status": status, "current": current}))
                continue
            if m.entity_id in self.refuse and m.op == "insert":
                result = MutationResult(
                    mutation_id=m.mutation_id, status="rejected", reason=self.refuse[m.entity_id], code="slot_taken"
                )
            else:
                state = self.rows[key][0] if key in self.rows else RowState.absent(m.entity, m.entity_id)
                outcome = merge_update(state, m)
                seq = None
                if outcome.changed:
                    self.seq += 1
                    seq = self.seq
                    self.rows[key] = (outcome.row, seq)
                current = self.change(key) if key in self.rows else None
                result = outcome.to_result(m.mutation_id, server_seq=seq, current=current)
            self.seen[m.mutation_id] = result
            results.append(result)
        if self.crash_after_push:
            self.crash_after_push -= 1
            raise Crash("died before the answer arrived")
        return PushResponse(results=results, high_water_seq=self.seq, server_time=NOW)

    def pull(self, *, cursor: int, limit: int) -> PullResponse:
        self._gate()
        self.pulls += 1
        if self.crash_on_pull is not None and self.pulls == self.crash_on_pull:
            raise Crash("died while pulling")
        after = sorted((seq, key) for key, (_, seq) in self.rows.items() if seq > cursor)
        page = [self.change(key) for _, key in after[:limit]]
        return PullResponse(
            changes=page, next_cursor=page[-1].seq if page else cursor, has_more=len(after) > limit,
            server_time=NOW,
        )

    def staff(self) -> list[EnrolledStaff]:
        self._gate()
        if self.staff_list is None:
            raise SyncRefused("Not Found", status=404, code="http_404")
        return self.staff_list

    def data(self) -> dict[tuple[str, str], tuple[bool, dict[str, object]]]:
        return {key: (state.deleted, dict(state.data)) for key, (state, _) in self.rows.items()}
