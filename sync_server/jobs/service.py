"""Jobs: enqueue in the caller's transaction; the work is released when that transaction commits.

The database is the queue. :func:`enqueue` inserts a ``job`` row in the same transaction as the
change that causes it (a stored webhook, a message to send), so the job exists exactly when
the change does: a rollback takes both away, and a worker can only see the job once the
transaction has committed. After the commit, in-process workers are woken at once
(:func:`add_waker`); workers in other processes find it on their next poll.

Every job carries a ``dedupe_key`` derived from the row that caused it; enqueueing the same
key twice in a clinic creates one job. Services never commit.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from core.errors import GlowdeskError
from core.ids import new_id
from sync_server.jobs import repository
from sync_server.jobs.models import QUEUED, Job

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(hours=1)


class JobError(GlowdeskError):
    """A job could not do its work. ``permanent``: retrying cannot help (the job fails now);
    otherwise it is retried with backoff until its attempts are used up."""

    code = "job_failed"
    status = 502

    def __init__(self, message: str, *, permanent: bool = False, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.permanent = permanent


class LeaseLost(Exception):
    """The worker's hold on a job expired and another worker took it over; this worker's
    transaction is rolled back so that the work is done once."""


def backoff(attempts: int, *, base: timedelta = BACKOFF_BASE, cap: timedelta = BACKOFF_CAP,
            jitter: float = 0.2) -> timedelta:
    """Delay before retry number ``attempts`` (1, 2, ...): base x 2^(n-1), capped, +-20 % jitter."""
    raw: timedelta = min(cap, base * (2 ** max(0, attempts - 1)))
    delay: timedelta = raw * (1 + random.uniform(-jitter, jitter))
    return delay


def enqueue(
    session: Session,
    *,
    clinic_id: str,
    kind: str,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    now: datetime,
    run_after: datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    repeat_seconds: int | None = None,
) -> bool:
    """Queue a job in the caller's transaction; False when ``dedupe_key`` is already queued
    (or done) in this clinic. Released to workers when the transaction commits."""
    created = repository.insert(session, {
        "id": new_id(), "clinic_id": clinic_id, "kind": kind, "payload": dict(payload or {}),
        "dedupe_key": dedupe_key, "status": QUEUED, "attempts": 0, "max_attempts": max_attempts,
        "run_after": run_after or now, "repeat_seconds": repeat_seconds, "created_at": now, "updated_at": now,
    })
    if created:
        _wake_after_commit(session)
    return created


def find(session: Session, *, clinic_id: str, dedupe_key: str) -> Job | None:
    return repository.by_key(session, clinic_id=clinic_id, dedupe_key=dedupe_key)


def failed_jobs(session: Session, *, clinic_id: str, limit: int = 100) -> list[Job]:
    return list(repository.failed(session, clinic_id=clinic_id, limit=limit))


def counts(session: Session, *, clinic_id: str) -> dict[str, int]:
    return repository.counts(session, clinic_id=clinic_id)


# --- waking in-process workers after commit ---------------------------------------------------

_wakers: set[Callable[[], None]] = set()
_wakers_lock = threading.Lock()
_PENDING = "glowdesk.jobs_pending"


def add_waker(waker: Callable[[], None]) -> None:
    """Call ``waker`` (from any thread) whenever a transaction that enqueued work commits."""
    with _wakers_lock:
        _wakers.add(waker)


def remove_waker(waker: Callable[[], None]) -> None:
    with _wakers_lock:
        _wakers.discard(waker)


def _wake_after_commit(session: Session) -> None:
    if session.info.get(_PENDING):
        return
    session.info[_PENDING] = True

    def committed(_session: Session) -> None:
        _session.info.pop(_PENDING, None)
        with _wakers_lock:
            wakers = list(_wakers)
        for waker in wakers:
            try:
                waker()
            except Exception:  # noqa: BLE001 - a waker never breaks the caller's commit
                log.exception("job waker failed")

    def rolled_back(_session: Session, _previous: Any) -> None:
        _session.info.pop(_PENDING, None)

    event.listen(session, "after_commit", committed, once=True)
    event.listen(session, "after_soft_rollback", rolled_back, once=True)
