"""The sync engine: say hello, push the outbox, pull the clinic's changes, remember the outcome.

One :meth:`SyncEngine.sync_once` is::

    hello  -> versions negotiated (ProtocolMismatch: stop, nothing pushed or pulled)
    push   -> the outbox in core.sync.batch_mutations batches, in outbox order; each batch's
              results are applied and its entries acknowledged in one local transaction, only
              after the server answered (a crash before that re-sends the batch, and the server
              answers "duplicate" for what it already has)
    pull   -> pages from the stored cursor; each page and the new cursor in one local
              transaction (a crash between pages resumes at the last applied page: no gap,
              and a page applied twice changes nothing). One page ahead is fetched while a
              page is applied (a one-page pipeline: the next request goes out once the
              current page's cursor is known, so the network, the server and the store work
              at the same time); a fetched page that was never applied is simply dropped.
              A first download (cursor 0) asks for pages of FIRST_DOWNLOAD_LIMIT rows.

Acting staff: every mutation carries the staff member who made it (``Mutation.staff_id``); the
``X-Glowdesk-Staff`` header of a push is that staff member, so one push request never mixes
staff. Entries made by the system (no staff) go under the workstation's last signed-in staff
member (:func:`remember_staff`, else the newest staff member in the outbox). If the server does
not accept the entry's own staff member any more (deactivated since), the batch is sent again
under the last signed-in one; the server then decides per change.

Store work goes through ``run_db`` (default: run it right here), so that an app that serialises
every store access on one thread (the desktop UI) can hand the engine its executor.

Progress and stopping: ``on_progress(SyncProgress)`` is called after every push batch and every
pulled page (the first download shows rows so far); ``should_stop()`` is asked before every
batch and page, and when it says yes :class:`SyncCancelled` is raised there, between two
requests, so whatever was applied stays applied and the next sync carries on from the cursor.
What the store holds that changed (entity names, and the clients whose record shows a changed
row) is collected across rounds, failed ones included, until :meth:`SyncEngine.take_changes`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from sqlalchemy import select

import core
from app.db.models import Clinic, OutboxEntry
from app.db.store import Store
from app.db.types import iso_utc
from app.repositories import settings, sync_state
from app.repositories.context import Ctx
from app.repositories.uow import system_actor, unit_of_work
from app.sync.apply import AckReport, ApplyReport, apply_results, apply_rows, mutation_of, upsert_directory
from app.sync.client import SyncClient, SyncTransport
from app.sync.errors import (
    NotEnrolledError,
    SyncCancelled,
    SyncError,
    SyncRefused,
    SyncStopped,
    SyncUnavailable,
)
from app.sync.quiet_gc import quiet_gc
from app.sync.state import SyncState, read_state
from core.sync import (
    DEFAULT_PULL_LIMIT,
    MAX_PULL_LIMIT,
    MAX_PUSH_BODY_BYTES,
    MAX_PUSH_MUTATIONS,
    PROTOCOL_VERSION,
    SCHEMA_VERSION,
    HelloRequest,
    HelloResponse,
    Mutation,
    ProtocolMismatch,
    PushRequest,
    SyncProtocolError,
    batch_mutations,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

RunDb = Callable[[Callable[[], Any]], Any]
ShouldStop = Callable[[], bool]
#: how often staff (and PIN hashes) are re-read from the server's staff list
STAFF_REFRESH_SECONDS = 600.0
#: outbox entries read from the store at a time (then sent in protocol-sized batches)
OUTBOX_WINDOW = 2000
#: page size of a first download (from cursor 0), when the engine was not given one; later
#: pulls use DEFAULT_PULL_LIMIT, so a page applied on the app's DB worker stays short
FIRST_DOWNLOAD_LIMIT = MAX_PULL_LIMIT
NO_STAFF_MESSAGE = (
    "Changes made on this workstation are waiting for a staff member to sign in before they can "
    "be sent to the clinic server."
)


def _direct(func: Callable[[], Any]) -> Any:
    return func()


@dataclass(frozen=True)
class SyncProgress:
    """How far a sync round has got: ``stage`` is ``push`` or ``pull``; ``cursor`` moves from
    ``start_cursor`` towards ``high_water`` (the server's last number when the round began)."""

    stage: str
    pushed: int
    rows: int
    cursor: int
    start_cursor: int
    high_water: int

    @property
    def fraction(self) -> float | None:
        """Share of the pull done (by sequence number), or None when it cannot be told."""
        span = self.high_water - self.start_cursor
        if span <= 0:
            return None
        return max(0.0, min(1.0, (self.cursor - self.start_cursor) / span))


@dataclass
class SyncChanges:
    """What sync changed in the store: entity names and the clients whose record shows them."""

    entities: set[str] = field(default_factory=set)
    patient_ids: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.entities or self.patient_ids)


@dataclass
class PushSummary:
    sent: int = 0
    batches: int = 0
    acked: int = 0
    applied: int = 0
    duplicates: int = 0
    resolved: int = 0
    rejected: int = 0
    conflicts: int = 0
    high_water: int | None = None

    def add(self, ack: AckReport) -> None:
        self.acked += ack.acked
        self.applied += ack.applied
        self.duplicates += ack.duplicates
        self.resolved += ack.resolved
        self.rejected += ack.rejected
        self.conflicts += ack.conflicts


@dataclass
class PullSummary:
    rows: int = 0
    pages: int = 0
    skipped: int = 0
    conflicts: int = 0
    cursor: int = 0
    entities: set[str] = field(default_factory=set)

    def add(self, report: ApplyReport) -> None:
        self.rows += report.rows
        self.skipped += report.skipped
        self.conflicts += report.conflicts
        self.entities |= report.entities


@dataclass
class SyncSummary:
    push: PushSummary
    pull: PullSummary
    seconds: float
    pending: int
    conflicts_to_review: int
    rejected_to_review: int

    def line(self) -> str:
        """One line for people: what went up, what came down, what needs a look."""
        p, q = self.push, self.pull
        sent = f"pushed {p.acked} change{'s' if p.acked != 1 else ''}"
        notes = [f"{n} {label}" for n, label in (
            (p.duplicates, "already on the server"), (p.resolved, "merged"), (p.rejected, "refused"),
        ) if n]
        if notes:
            sent += f" ({', '.join(notes)})"
        text = (
            f"sync ok: {sent}, pulled {q.rows} row{'s' if q.rows != 1 else ''} in {q.pages} "
            f"page{'s' if q.pages != 1 else ''}, cursor {q.cursor}"
        )
        if self.pending:
            text += f", {self.pending} still pending"
        text += f", {self.conflicts_to_review} conflict{'s' if self.conflicts_to_review != 1 else ''} to review"
        if self.rejected_to_review:
            text += f", {self.rejected_to_review} refused change{'s' if self.rejected_to_review != 1 else ''}"
        return text + f" ({self.seconds:.1f} s)"


def remember_staff(store: Store, staff_id: str) -> None:
    """Record the staff member who last signed in on this workstation (the acting staff of
    pushes of system-made changes)."""
    with unit_of_work(store, system_actor(store)) as ctx:
        settings.put(ctx, sync_state.LAST_STAFF, staff_id)


def _windows(entries: Sequence[Mutation]) -> Iterator[list[Mutation]]:
    """Consecutive runs of the same staff member (outbox order is kept)."""
    run: list[Mutation] = []
    for m in entries:
        if run and run[-1].staff_id != m.staff_id:
            yield run
            run = []
        run.append(m)
    if run:
        yield run


class SyncEngine:
    """Syncs one store with its clinic server through ``transport`` (a :class:`SyncClient`)."""

    def __init__(
        self,
        store: Store,
        transport: SyncTransport,
        *,
        device_id: str | None = None,
        pull_limit: int | None = None,
        run_db: RunDb | None = None,
        on_progress: Callable[[SyncProgress], None] | None = None,
        should_stop: ShouldStop | None = None,
    ) -> None:
        self.store = store
        self.transport = transport
        self.pull_limit = pull_limit
        self._run_db: RunDb = run_db or _direct
        self.on_progress = on_progress
        self.should_stop = should_stop
        self.server: HelloResponse | None = None
        self._changes = SyncChanges()
        self._progress = SyncProgress("push", 0, 0, 0, 0, 0)
        self._staff_refreshed = -STAFF_REFRESH_SECONDS - 1.0
        self.device_id = device_id or self._db(lambda ctx: (sync_state.enrollment(ctx) or {}).get("device_id"))

    @classmethod
    def for_store(cls, store: Store, *, http: Any = None, **kw: Any) -> SyncEngine:
        """An engine with an HTTP client for the server this store is enrolled with."""
        enrolled = cls._read(store, sync_state.enrollment)
        if enrolled is None:
            raise NotEnrolledError()
        client = SyncClient(enrolled["server_url"], enrolled["device_token"], http=http)
        return cls(store, client, device_id=enrolled["device_id"], **kw)

    @staticmethod
    def _read(store: Store, func: Callable[[Ctx], T]) -> T:
        with unit_of_work(store, system_actor(store)) as ctx:
            return func(ctx)

    def _db(self, func: Callable[[Ctx], T]) -> T:
        """Run ``func(ctx)`` in one store transaction, through ``run_db``."""

        def job() -> T:
            with unit_of_work(self.store, system_actor(self.store)) as ctx:
                return func(ctx)

        result: T = self._run_db(job)
        return result

    def _note(self, entities: set[str], patient_ids: set[str]) -> None:
        """Remember rows whose content changed in a committed transaction (for the UI)."""
        self._changes.entities |= entities
        self._changes.patient_ids |= patient_ids

    def take_changes(self) -> SyncChanges:
        """What sync changed in the store since the last call (then forgotten)."""
        changes, self._changes = self._changes, SyncChanges()
        return changes

    def _check_stop(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise SyncCancelled()

    def _report(self, **changes: Any) -> None:
        self._progress = replace(self._progress, **changes)
        if self.on_progress is not None:
            self.on_progress(self._progress)

    def state(self) -> SyncState:
        """The stored sync state (enrolment, last outcome, counts, cursor)."""
        return self._db(read_state)

    def close(self) -> None:
        close = getattr(self.transport, "close", None)
        if callable(close):
            close()

    # --- hello -------------------------------------------------------------------------------

    def hello(self) -> HelloResponse:
        request = HelloRequest(
            protocol_version=PROTOCOL_VERSION,
            schema_version=SCHEMA_VERSION,
            device_id=self.device_id,
            app_version=core.__version__,
        )
        answer = self.transport.hello(request, staff_id=self._db(self._fallback_staff))
        if not answer.accepted:
            raise ProtocolMismatch(
                client_protocol=PROTOCOL_VERSION, client_schema=SCHEMA_VERSION,
                server_protocol=answer.protocol_version, server_schema=answer.schema_version,
                upgrade="client" if SCHEMA_VERSION < answer.min_client_schema_version else "server",
            )
        self.server = answer
        return answer

    # --- push --------------------------------------------------------------------------------

    @staticmethod
    def _fallback_staff(ctx: Ctx) -> str | None:
        last = settings.get(ctx, sync_state.LAST_STAFF)
        if last:
            return str(last)
        newest = ctx.session.execute(
            select(OutboxEntry.staff_id).where(OutboxEntry.staff_id.is_not(None)).order_by(OutboxEntry.seq.desc()).limit(1)
        ).scalar_one_or_none()
        return newest

    def _limits(self) -> tuple[int, int]:
        server = self.server
        if server is None:
            return MAX_PUSH_MUTATIONS, MAX_PUSH_BODY_BYTES - 4096
        return (
            max(1, min(MAX_PUSH_MUTATIONS, server.max_push_mutations)),
            max(4096, min(MAX_PUSH_BODY_BYTES, server.max_push_body_bytes) - 4096),
        )

    def push(self) -> PushSummary:
        """Send every unacknowledged outbox entry; apply the answers as they come."""
        summary = PushSummary()
        max_mutations, max_bytes = self._limits()
        after = 0
        fallback = self._db(self._fallback_staff)

        def window(ctx: Ctx) -> list[tuple[int, Mutation]]:
            query = (
                select(OutboxEntry)
                .where(OutboxEntry.acked_at.is_(None), OutboxEntry.seq > after)
                .order_by(OutboxEntry.seq)
                .limit(OUTBOX_WINDOW)
            )
            return [(e.seq, mutation_of(e)) for e in ctx.session.execute(query).scalars()]

        while True:
            entries = self._db(window)
            if not entries:
                break
            for run in _windows([m for _, m in entries]):
                staff = run[0].staff_id or fallback
                if staff is None:
                    raise SyncRefused(NO_STAFF_MESSAGE, status=403, code="staff_required")
                for batch in batch_mutations(run, max_mutations=max_mutations, max_bytes=max_bytes):
                    self._check_stop()
                    self._push_batch(batch, staff, fallback, summary)
                    self._report(stage="push", pushed=summary.acked)
            after = entries[-1][0]
        return summary

    def _push_batch(self, batch: list[Mutation], staff: str, fallback: str | None, summary: PushSummary) -> None:
        request = PushRequest(
            protocol_version=PROTOCOL_VERSION,
            schema_version=SCHEMA_VERSION,
            device_id=self.device_id or self.store.device_id,
            mutations=batch,
        )
        # the header names the entry's staff member; if the server no longer accepts them
        # (deactivated since), the signed-in one, then none: the server decides per change
        headers = list(dict.fromkeys([staff, fallback, None]))
        for i, header in enumerate(headers):
            try:
                answer = self.transport.push(request, staff_id=header)
                break
            except SyncRefused as exc:
                if exc.status != 403 or i == len(headers) - 1:
                    raise
                log.info("push refused for its acting staff member (%s); trying the next one", exc.code)
        summary.sent += len(batch)
        summary.batches += 1
        summary.high_water = answer.high_water_seq
        ack = self._db(lambda ctx: apply_results(ctx, batch, answer.results))
        summary.add(ack)
        self._note(ack.entities, ack.patient_refs)

    # --- pull --------------------------------------------------------------------------------

    def pull(self, *, max_pages: int | None = None) -> PullSummary:
        """Pull pages from the stored cursor until the server has no more (or ``max_pages``)."""
        summary = PullSummary()
        cursor = self._db(sync_state.cursor)
        limit = self.pull_limit
        if limit is None:
            limit = FIRST_DOWNLOAD_LIMIT if cursor == 0 else DEFAULT_PULL_LIMIT
        if self.server is not None:
            limit = max(1, min(limit, self.server.max_pull_limit))
        high_water = self.server.high_water_seq if self.server is not None else None
        if high_water is None:
            high_water = cursor
        self._report(stage="pull", cursor=cursor, start_cursor=cursor, high_water=max(high_water, cursor))
        ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="glowdesk-pull")
        try:
            self._check_stop()
            fetching: Future[Any] = ahead.submit(self._fetch, cursor, limit)
            while True:
                page = fetching.result()
                next_cursor = max(cursor, page.next_cursor)
                more = bool(page.has_more and page.changes) and (max_pages is None or summary.pages + 1 < max_pages)
                if more:  # the next page travels while this one is applied
                    fetching = ahead.submit(self._fetch, next_cursor, limit)

                def apply(ctx: Ctx, page: Any = page, next_cursor: int = next_cursor) -> ApplyReport:
                    with quiet_gc():
                        report = apply_rows(ctx, page.changes)
                    sync_state.set_cursor(ctx, next_cursor)
                    return report

                report = self._db(apply)
                summary.add(report)
                self._note(report.fresh_entities, report.patient_refs)
                summary.pages += 1
                cursor = next_cursor
                self._report(rows=summary.rows, cursor=cursor,
                             high_water=max(self._progress.high_water, cursor))
                if not more:
                    break
                self._check_stop()
        finally:
            # a page fetched ahead and never applied is dropped; its request is let finish
            ahead.shutdown(wait=True, cancel_futures=True)
        summary.cursor = cursor
        return summary

    def _fetch(self, cursor: int, limit: int) -> Any:
        with quiet_gc():
            return self.transport.pull(cursor=cursor, limit=limit)

    # --- directory ---------------------------------------------------------------------------

    def refresh_staff(self) -> int:
        """Refresh staff (and their PIN hashes) from the server's staff list, for rows the pull
        has not delivered; returns how many active staff members the server listed."""
        staff_list = getattr(self.transport, "staff", None)
        if not callable(staff_list):
            return 0
        members = staff_list()
        self._staff_refreshed = time.monotonic()

        def write(ctx: Ctx) -> None:
            clinic_id = settings.get(ctx, settings.CLINIC_ID)
            if not clinic_id:
                return
            clinic = ctx.session.get(Clinic, clinic_id)
            if clinic is None:
                return
            upsert_directory(
                ctx,
                clinic={"id": clinic.id, "name": clinic.name, "slug": clinic.slug},
                staff=[m.model_dump() for m in members],
                complete=True,
            )

        self._db(write)
        self._note({"staff"}, set())
        return len(members)

    # --- one full round ----------------------------------------------------------------------

    def sync_once(self) -> SyncSummary:
        """hello, push everything, pull everything; the outcome is remembered in the store."""
        started = time.perf_counter()
        self._progress = SyncProgress("push", 0, 0, 0, 0, 0)
        try:
            self._check_stop()
            self.hello()
            pushed = self.push()
            pulled = self.pull()
            if time.monotonic() - self._staff_refreshed > STAFF_REFRESH_SECONDS:
                try:
                    self.refresh_staff()
                except SyncRefused as exc:
                    log.info("could not refresh the staff list (%s)", exc.code)
        except BaseException as exc:
            self.record_failure(exc)
            raise
        counts = self.record_success()
        return SyncSummary(
            push=pushed, pull=pulled, seconds=time.perf_counter() - started, pending=counts["pending"],
            conflicts_to_review=counts["conflicts"], rejected_to_review=counts["rejected"],
        )

    def record_success(self) -> dict[str, int]:
        def write(ctx: Ctx) -> dict[str, int]:
            now = iso_utc(ctx.now())
            sync_state.set_outcome(ctx, {
                "online": True, "offline_since": None, "last_sync_at": now, "last_attempt_at": now,
                "last_error": None, "stopped": None,
            })
            return {
                "pending": sync_state.pending_count(ctx),
                "conflicts": sync_state.conflict_count(ctx),
                "rejected": sync_state.rejection_count(ctx),
            }

        result: dict[str, int] = self._db(write)
        return result

    def record_failure(self, exc: BaseException) -> None:
        """Remember a failed attempt (best effort: a store failure here is only logged)."""
        kind = classify(exc)
        if kind is None or kind == "cancelled":
            return
        message = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__

        def write(ctx: Ctx) -> None:
            now = iso_utc(ctx.now())
            before = sync_state.outcome(ctx)
            offline = kind == "offline"
            after = dict(before)
            after.update({
                "online": not offline and kind != "stopped",
                "last_attempt_at": now,
                "last_error": message,
                "stopped": message if kind == "stopped" else None,
            })
            if offline:
                after["offline_since"] = before.get("offline_since") or now
            else:
                after["offline_since"] = None
            sync_state.set_outcome(ctx, after)

        try:
            self._db(write)
        except Exception:  # noqa: BLE001 - the original failure is what matters
            log.warning("could not record the sync outcome", exc_info=True)


def classify(exc: BaseException) -> str | None:
    """``offline`` (retry; the server is unreachable), ``error`` (retry; it answered badly),
    ``stopped`` (a person must act), ``cancelled`` (someone asked it to stop; not a failure),
    or None (not a sync failure, e.g. KeyboardInterrupt)."""
    if isinstance(exc, SyncCancelled):
        return "cancelled"
    if isinstance(exc, SyncUnavailable):
        return "offline" if exc.offline else "error"
    if isinstance(exc, SyncStopped | ProtocolMismatch):
        return "stopped"
    if isinstance(exc, SyncError | SyncProtocolError):
        return "error"
    if isinstance(exc, Exception):
        return "error"
    return None


__all__ = [
    "PullSummary",
    "PushSummary",
    "SyncChanges",
    "SyncEngine",
    "SyncProgress",
    "SyncSummary",
    "classify",
    "remember_staff",
]
