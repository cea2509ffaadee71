"""Queries of the jobs context.

Claiming is atomic on both backends:

- PostgreSQL: ``UPDATE job ... WHERE id IN (SELECT id ... FOR UPDATE SKIP LOCKED) RETURNING``,
  so any number of workers share the table without waiting on each other's rows;
- SQLite: candidates are read, then each one is taken with a compare-and-swap ``UPDATE``
  (``WHERE id = :id AND status = :seen AND attempts = :seen``); a zero row count means another
  worker got it first, and it is skipped. (Write transactions hold SQLite's write lock anyway.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from sync_server.jobs.models import DONE, FAILED, QUEUED, RUNNING, Job


@dataclass(frozen=True, slots=True)
class Claimed:
    """A job this worker holds until ``locked_until``."""

    id: str
    clinic_id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    dedupe_key: str | None
    repeat_seconds: int | None


_CLAIM_COLUMNS = (Job.id, Job.clinic_id, Job.kind, Job.payload, Job.attempts, Job.max_attempts, Job.dedupe_key,
                  Job.repeat_seconds)


def insert(session: Session, values: dict[str, Any]) -> bool:
    """Insert a job unless one with the same (clinic_id, dedupe_key) exists; True if inserted."""
    if values.get("dedupe_key") is None:
        session.add(Job(**values))
        session.flush()
        return True
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(Job).values(**values).on_conflict_do_nothing().returning(Job.id)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(Job).values(**values).on_conflict_do_nothing().returning(Job.id)
    # one round trip: RETURNING yields the id only when the row was really created
    return bool(session.execute(stmt).scalar_one_or_none() == values["id"])


def _due(now: datetime) -> Any:
    return or_(
        (Job.status == QUEUED) & (Job.run_after <= now),
        (Job.status == RUNNING) & (Job.locked_until < now),  # its worker died: take it over
    )


def claim(session: Session, *, worker: str, now: datetime, until: datetime, limit: int) -> list[Claimed]:
    values = {"status": RUNNING, "locked_by": worker, "locked_until": until, "attempts": Job.attempts + 1,
              "updated_at": now}
    if session.get_bind().dialect.name == "postgresql":
        ids = (
            select(Job.id).where(_due(now)).order_by(Job.run_after).limit(limit)
            .with_for_update(skip_locked=True).scalar_subquery()
        )
        rows = session.execute(
            update(Job).where(Job.id.in_(ids)).values(**values).returning(*_CLAIM_COLUMNS)
            .execution_options(synchronize_session=False)
        ).all()
        return [Claimed(*row) for row in rows]
    candidates = session.execute(
        select(Job.id, Job.status, Job.attempts).where(_due(now)).order_by(Job.run_after).limit(limit)
    ).all()
    claimed: list[Claimed] = []
    for job_id, status, attempts in candidates:
        result = cast(CursorResult[Any], session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == status, Job.attempts == attempts)
            .values(**values)
            .execution_options(synchronize_session=False)
        ))
        if result.rowcount != 1:
            continue  # another worker took it between our read and our update
        row = session.execute(select(*_CLAIM_COLUMNS).where(Job.id == job_id)).one()
        claimed.append(Claimed(*row))
    return claimed


def _held(job_id: str, worker: str) -> Any:
    return (Job.id == job_id) & (Job.status == RUNNING) & (Job.locked_by == worker)


def _cas(session: Session, condition: Any, values: dict[str, Any]) -> bool:
    result = cast(CursorResult[Any], session.execute(
        update(Job).where(condition).values(**values).execution_options(synchronize_session=False)
    ))
    return result.rowcount == 1


def mark_done(session: Session, *, job_id: str, worker: str, now: datetime) -> bool:
    """Done, if this worker still holds the job (False: its lease was lost to another worker)."""
    return _cas(session, _held(job_id, worker), {
        "status": DONE, "locked_by": None, "locked_until": None, "finished_at": now, "updated_at": now,
        "last_error": None,
    })


def mark_retry(session: Session, *, job_id: str, worker: str, now: datetime, run_after: datetime, error: str) -> bool:
    return _cas(session, _held(job_id, worker), {
        "status": QUEUED, "locked_by": None, "locked_until": None, "run_after": run_after, "updated_at": now,
        "last_error": error[:500],
    })


def mark_failed(session: Session, *, job_id: str, worker: str | None, now: datetime, error: str) -> bool:
    condition = _held(job_id, worker) if worker is not None else (Job.id == job_id) & (Job.status != DONE)
    return _cas(session, condition, {
        "status": FAILED, "locked_by": None, "locked_until": None, "finished_at": now, "updated_at": now,
        "last_error": error[:500],
    })


def get(session: Session, *, clinic_id: str, job_id: str) -> Job | None:
    return session.execute(select(Job).where(Job.clinic_id == clinic_id, Job.id == job_id)).scalar_one_or_none()


def by_key(session: Session, *, clinic_id: str, dedupe_key: str) -> Job | None:
    return session.execute(
        select(Job).where(Job.clinic_id == clinic_id, Job.dedupe_key == dedupe_key)
    ).scalar_one_or_none()


def failed(session: Session, *, clinic_id: str, limit: int = 100) -> Sequence[Job]:
    return session.execute(
        select(Job).where(Job.clinic_id == clinic_id, Job.status == FAILED)
        .order_by(Job.finished_at.desc()).limit(limit)
    ).scalars().all()


def counts(session: Session, *, clinic_id: str) -> dict[str, int]:
    from sqlalchemy import func

    rows = session.execute(
        select(Job.status, func.count()).where(Job.clinic_id == clinic_id).group_by(Job.status)
    ).all()
    return {status: int(n) for status, n in rows}


__all__ = ["DONE", "FAILED", "QUEUED", "RUNNING", "Claimed"]
