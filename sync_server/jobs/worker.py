"""The job worker: claims due jobs, runs their handlers, retries with backoff, records failures.

``python -m sync_server worker`` runs one (until SIGTERM/SIGINT: the job in hand is finished,
then it exits); ``serve --with-worker`` runs one in a thread beside the HTTP server. Any number
of workers may share a PostgreSQL database.

A handler receives a :class:`JobContext`. It opens its own short transactions with
:meth:`JobContext.transaction` (network calls happen *between* transactions, never while one
holds SQLite's write lock or a row lock) and, in its last writing transaction, calls
:meth:`JobContext.finish`: the job is marked done in the same transaction as its effects, so
the effects and "done" commit together or not at all. A handler that never calls ``finish``
is marked done by the worker after it returns.

A handler raises :class:`~sync_server.jobs.service.JobError` (or any error with
``permanent=True``) to fail for good; any other exception is retried with exponential backoff
until ``max_attempts``. The optional ``give_up`` of a handler records a final failure where
staff will see it (a message marked failed with its reason), in the transaction that marks the
job failed.
"""

from __future__ import annotations

import importlib
import logging
import os
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.clock import Clock, HybridLogicalClock, SystemClock
from core.sync import SERVER_NODE
from sync_server import tenancy
from sync_server.db import Database
from sync_server.jobs import repository, service
from sync_server.jobs.registry import TASK_MODULES
from sync_server.jobs.repository import Claimed
from sync_server.settings import Settings

log = logging.getLogger(__name__)

#: session.info key: (clinic_id, high water seq) of sync rows written by the transaction.
HIGH_WATER = "glowdesk.high_water"


@dataclass(frozen=True)
class Handler:
    run: Callable[[JobContext], None]
    #: called in the transaction that marks the job failed for good: (session, context, reason)
    give_up: Callable[[Session, JobContext, str], None] | None = None


def default_handlers() -> dict[str, Handler]:
    """Every context's ``HANDLERS`` (the modules of :data:`~sync_server.jobs.registry.TASK_MODULES`)."""
    handlers: dict[str, Handler] = {}
    for name in TASK_MODULES:
        handlers.update(importlib.import_module(name).HANDLERS)
    return handlers


@dataclass
class JobContext:
    job: Claimed
    worker: Worker
    finished: bool = False

    @property
    def clinic_id(self) -> str:
        return self.job.clinic_id

    @property
    def payload(self) -> dict[str, Any]:
        return self.job.payload

    @property
    def settings(self) -> Settings:
        return self.worker.settings

    @property
    def db(self) -> Database:
        return self.worker.db

    def now(self) -> datetime:
        return self.worker.clock.now()

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """A transaction working for the job's clinic (the request role, RLS included)."""
        with self.worker.clinic_transaction(self.clinic_id, write=write) as session:
            yield session
            finishing = bool(session.info.get("glowdesk.job_finishing"))
        if finishing:
            self.finished = True

    def finish(self, session: Session) -> None:
        """Mark the job done inside ``session``'s transaction (commits with the handler's effects).

        Raises :class:`LeaseLost` when another worker has taken the job over meanwhile: the
        transaction then rolls back and that worker does the work.
        """
        if not repository.mark_done(session, job_id=self.job.id, worker=self.worker.name, now=self.now()):
            raise service.LeaseLost(self.job.id)
        self.worker.schedule_repeat(session, self.job)
        session.info["glowdesk.job_finishing"] = True


class Worker:
    def __init__(
        self,
        db: Database,
        *,
        handlers: Mapping[str, Handler] | None = None,
        clock: Clock | None = None,
        name: str | None = None,
        poll_interval: float = 0.5,
        batch: int = 10,
        lease: timedelta = timedelta(minutes=5),
        backoff_base: timedelta = service.BACKOFF_BASE,
        backoff_cap: timedelta = service.BACKOFF_CAP,
        on_changes: Callable[[str, int], None] | None = None,
    ) -> None:
        if handlers is None:
            handlers = default_handlers()
        self.db = db
        self.settings = db.settings
        self.handlers = dict(handlers)
        self.clock = clock or SystemClock()
        #: stamps the server's own writes to synced records (core.sync.SERVER_NODE)
        self.hlc = HybridLogicalClock(SERVER_NODE, self.clock)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.poll_interval = poll_interval
        self.batch = batch
        self.lease = lease
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.on_changes = on_changes
        self._wake = threading.Event()
        self.stopping = threading.Event()
        self.processed = 0

    # --- transactions ----------------------------------------------------------------------

    @contextmanager
    def clinic_transaction(self, clinic_id: str, *, write: bool = True) -> Iterator[Session]:
        with self.db.transaction(write=write, app_role=True) as session:
            tenancy.enter_clinic(session, clinic_id)
            yield session
            high = session.info.get(HIGH_WATER)
        if high is not None and self.on_changes is not None:
            try:
                self.on_changes(*high)
            except Exception:  # noqa: BLE001 - a notification never fails a job
                log.exception("live notification failed")

    # --- running ---------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()

    def run(self) -> None:
        """Work until :meth:`stop` (the job in hand is finished first)."""
        service.add_waker(self.wake)
        log.info("job worker %s started", self.name)
        try:
            while not self.stopping.is_set():
                try:
                    done = self.run_once()
                except Exception as exc:  # noqa: BLE001 - the database may be briefly away
                    log.warning("job worker: cannot claim work (%s)", type(exc).__name__)
                    done = 0
                if done == 0 and not self.stopping.is_set():
                    self._wake.wait(self.poll_interval)
                    self._wake.clear()
        finally:
            service.remove_waker(self.wake)
            log.info("job worker %s stopped", self.name)

    def run_once(self) -> int:
        """Claim up to ``batch`` due jobs and run them; the number run."""
        claimed = self.claim()
        for job in claimed:
            self.process(job)
            if self.stopping.is_set():
                break  # claimed but unstarted jobs are taken over after their lease
        return len(claimed)

    def drain(self, *, max_rounds: int = 100) -> int:
        """Run due jobs until none is left (tests, commands); the number run."""
        total = 0
        for _ in range(max_rounds):
            n = self.run_once()
            total += n
            if n == 0:
                break
        return total

    def claim(self) -> list[Claimed]:
        now = self.clock.now()
        with self.db.transaction(write=True, app_role=True) as session:
            tenancy.work_queue(session)
            return repository.claim(session, worker=self.name, now=now, until=now + self.lease, limit=self.batch)

    def process(self, job: Claimed) -> None:
        handler = self.handlers.get(job.kind)
        ctx = JobContext(job=job, worker=self)
        if handler is None:
            self._fail(ctx, None, f"no handler for job kind {job.kind!r}", permanent=True)
            return
        if job.attempts > job.max_attempts:  # it kept killing its workers
            self._fail(ctx, handler, "gave up: the job did not finish in any of its attempts", permanent=True)
            return
        try:
            handler.run(ctx)
        except service.LeaseLost:
            log.warning("job %s (%s): taken over by another worker", job.id, job.kind)
            return
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the job
            permanent = bool(getattr(exc, "permanent", False))
            reason = getattr(exc, "user_message", None) or type(exc).__name__
            if not permanent and not isinstance(exc, service.JobError):
                log.warning("job %s (%s) attempt %d failed: %s", job.id, job.kind, job.attempts, type(exc).__name__,
                            exc_info=log.isEnabledFor(logging.DEBUG))
            self._fail(ctx, handler, str(reason), permanent=permanent)
            return
        if not ctx.finished:
            try:
                with ctx.transaction() as session:
                    ctx.finish(session)
            except service.LeaseLost:
                return
        self.processed += 1

    def _fail(self, ctx: JobContext, handler: Handler | None, reason: str, *, permanent: bool) -> None:
        job = ctx.job
        now = self.clock.now()
        final = permanent or job.attempts >= job.max_attempts
        with self.clinic_transaction(job.clinic_id) as session:
            if final:
                if not repository.mark_failed(session, job_id=job.id, worker=self.name, now=now, error=reason):
                    return
                if handler is not None and handler.give_up is not None:
                    handler.give_up(session, ctx, reason)
                self.schedule_repeat(session, job)
                log.warning("job %s (%s) failed after %d attempt(s): %s", job.id, job.kind, job.attempts,
                            "permanent error" if permanent else "attempts used up")
            else:
                delay = service.backoff(job.attempts, base=self.backoff_base, cap=self.backoff_cap)
                repository.mark_retry(session, job_id=job.id, worker=self.name, now=now, run_after=now + delay,
                                      error=reason)

    def schedule_repeat(self, session: Session, job: Claimed) -> None:
        if not job.repeat_seconds:
            return
        run_after = self.clock.now() + timedelta(seconds=job.repeat_seconds)
        service.enqueue(
            session, clinic_id=job.clinic_id, kind=job.kind, payload=job.payload,
            dedupe_key=f"{job.kind}@{run_after:%Y%m%dT%H%M%S}", now=self.clock.now(), run_after=run_after,
            max_attempts=job.max_attempts, repeat_seconds=job.repeat_seconds,
        )


def start_thread(worker: Worker) -> threading.Thread:
    """Run ``worker`` in a daemon thread (``serve --with-worker``); stop it with ``worker.stop()``."""
    thread = threading.Thread(target=worker.run, name="glowdesk-job-worker", daemon=True)
    thread.start()
    return thread


def run_until_signalled(worker: Worker) -> None:
    """Run in the main thread until SIGTERM or SIGINT (``python -m sync_server worker``)."""

    def stop(signum: int, _frame: Any) -> None:
        log.info("job worker: signal %d, finishing the job in hand", signum)
        worker.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        worker.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

