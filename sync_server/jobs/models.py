"""Tables of the jobs context: ``job``, the durable queue every side effect and webhook goes through."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.orm import Base, ClinicOwned

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"


class Job(ClinicOwned, Base):
    """One unit of work for a worker, in the clinic it belongs to.

    - ``status``: ``queued`` (waiting for ``run_after``) → ``running`` (claimed by ``locked_by``
      until ``locked_until``; a worker that dies leaves it to be claimed again after that) →
      ``done``, or back to ``queued`` with a later ``run_after`` (retry with backoff), or
      ``failed`` (permanent error, or ``max_attempts`` used up: ``last_error`` says why).
    - ``dedupe_key``: derived from the row that caused the job ("webhook:<event id>",
      "message.send:<message id>"); unique per clinic, so enqueueing the same work twice
      creates one job.
    - ``payload`` holds ids and flags, never patient data (job rows are visible to every
      worker, across clinics).
    - ``repeat_seconds``: a recurring job (the lead-form sweep) enqueues its next run when it
      finishes, done or failed.
    """

    __tablename__ = "job"
    __table_args__ = (
        UniqueConstraint("clinic_id", "dedupe_key"),
        Index(None, "status", "run_after"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]]
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    run_after: Mapped[datetime]
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    repeat_seconds: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
