"""The durable job queue: enqueue with the cause, atomic claims, backoff, failures, crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from core.clock import FixedClock
from sync_server import tenancy
from sync_server.audit import service as audit
from sync_server.audit.models import AuditEntry
from sync_server.db import Database
from sync_server.jobs import service as jobs
from sync_server.jobs.models import DONE, FAILED, QUEUED, RUNNING, Job
from sync_server.jobs.worker import Handler, JobContext, Worker, start_thread

from .conftest import ClinicRef, World
from .test_serve import REPO

T0 = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


def enqueue(db: Database, clinic: ClinicRef, kind: str = "test.touch", key: str | None = None,
            now: datetime = T0, **kw: Any) -> bool:
    with db.transaction(app_role=True) as session:
        tenancy.enter_clinic(session, clinic.id)
        return jobs.enqueue(session, clinic_id=clinic.id, kind=kind, dedupe_key=key, now=now, **kw)


def all_jobs(db: Database, clinic: ClinicRef) -> list[Job]:
    with db.transaction(write=False, app_role=True) as session:
        tenancy.enter_clinic(session, clinic.id)
        return list(session.execute(select(Job).where(Job.clinic_id == clinic.id).order_by(Job.created_at)).scalars())


def touch(ctx: JobContext) -> None:
    """A handler whose effect (an audit entry) commits with "done"."""
    with ctx.transaction() as session:
        audit.append(session, clinic_id=ctx.clinic_id, actor=audit.Actor(via="job"), action="test.touch",
                     entity="job", entity_id=ctx.job.id, now=ctx.now())
        ctx.finish(session)


def touched(db: Database, clinic: ClinicRef) -> list[str]:
    with db.transaction(write=False, app_role=True) as session:
        tenancy.enter_clinic(session, clinic.id)
        return list(session.execute(
            select(AuditEntry.entity_id).where(AuditEntry.clinic_id == clinic.id, AuditEntry.action == "test.touch")
        ).scalars())


def test_a_job_exists_exactly_when_its_cause_commits(db: Database, world: World) -> None:
    clinic = world.clinic("glow")
    with pytest.raises(RuntimeError):
        with db.transaction(app_role=True) as session:
            tenancy.enter_clinic(session, clinic.id)
            jobs.enqueue(session, clinic_id=clinic.id, kind="test.touch", dedupe_key="a", now=T0)
            raise RuntimeError("the cause failed")
    assert all_jobs(db, clinic) == []
    assert enqueue(db, clinic, key="a") is True
    assert enqueue(db, clinic, key="a") is False  # the same cause twice: one job
    assert enqueue(db, clinic, key="b") is True
    assert [j.dedupe_key for j in all_jobs(db, clinic)] == ["a", "b"]


def test_the_worker_runs_a_job_and_its_effect_commits_with_done(db: Database, world: World) -> None:
    clinic = world.clinic("glow")
    enqueue(db, clinic)
    worker = Worker(db, handlers={"test.touch": Handler(touch)}, clock=FixedClock(T0))
    assert worker.drain() == 1
    [job] = all_jobs(db, clinic)
    assert (job.status, job.attempts, job.finished_at) == (DONE, 1, T0)
    assert touched(db, clinic) == [job.id]
    assert worker.drain() == 0


def test_retries_back_off_exponentially_then_succeed(db: Database, world: World) -> None:
    clinic = world.clinic("glow")
    enqueue(db, clinic, kind="flaky")
    calls: list[int] = []

    def flaky(ctx: JobContext) -> None:
        calls.append(ctx.job.attempts)
        if len(calls) < 3:
            raise ConnectionError("provider unreachable")

    clock = FixedClock(T0)
    worker = Worker(db, handlers={"flaky": Handler(flaky)}, clock=clock, backoff_base=timedelta(seconds=10))
    assert worker.run_once() == 1
    [job] = all_jobs(db, clinic)
    assert job.status == QUEUED and job.last_error == "ConnectionError"
    first_delay = job.run_after - T0
    assert timedelta(seconds=8) <= first_delay <= timedelta(seconds=12)
    assert worker.run_once() == 0  # not due yet
    clock.advance(first_delay)
    assert worker.run_once() == 1
    [job] = all_jobs(db, clinic)
    second_delay = job.run_after - clock.now()
    assert timedelta(seconds=16) <= second_delay <= timedelta(seconds=24)
    clock.advance(second_delay)
    assert worker.run_once() == 1
    [job] = all_jobs(db, clinic)
    assert (job.status, job.attempts, calls) == (DONE, 3, [1, 2, 3])


def test_a_permanent_failure_is_recorded_with_its_reason_and_given_up(db: Database, world: World) -> None:
    clinic = world.clinic("glow")
    enqueue(db, clinic, kind="doomed")
    given_up: list[str] = []

    def doomed(ctx: JobContext) -> None:
        raise jobs.JobError("The number is not a mobile number.", permanent=True)

    def give_up(session: Any, ctx: JobContext, reason: str) -> None:
        given_up.append(reason)

    worker = Worker(db, handlers={"doomed": Handler(doomed, give_up)}, clock=FixedClock(T0))
    worker.drain()
    [job] = all_jobs(db, clinic)
    assert (job.status, job.attempts, job.last_error) == (FAILED, 1, "The number is not a mobile number.")
    assert given_up == ["The number is not a mobile number."]
    with db.transaction(write=False, app_role=True) as session:
        tenancy.enter_clinic(session, clinic.id)
        assert [j.id for j in jobs.failed_jobs(session, clinic_id=clinic.id)] == [job.id]


def test_a_job_fails_for_good_when_its_attempts_are_used_up(db: Database, world: World) -> None:
    clinic = world.clinic("glow")
    enqueue(db, clinic, kind="broken", max_attempts=3)

    def broken(ctx: JobContext) -> None:
        raise ValueError("bug")

    clock = FixedClock(T0)
    worker = Worker(db, handlers={"broken": Handler(broken)}, clock=clock)
    for _ in range(3):
        worker.run_once()
        clock.advance(timedelta(hours=2))
    [job] = all_jobs(db, clinic)
    assert (job.status, job.attempts) == (FAILED, 3)
    assert worker.run_once() == 0


def test_an_unknown_kind_fails_permanently(db: Database, world: World) -> None:
    clinic = world.clinic("glow")
    enqueue(db, clinic, kind="nobody.handles.this")
    Worker(db, handlers={}, clock=FixedClock(T0)).drain()
    [job] = all_jobs(db, clinic)
    assert job.status == FAILED and "no handler" in (job.last_error or "")


def test_a_dead_workers_job_is_taken_over_after_its_lease(db: Database, world: World) -> None:
    clinic = world.clinic("glow")
    enqueue(db, clinic)
    clock = FixedClock(T0)
    dead = Worker(db, handlers={"test.touch": Handler(touch)}, clock=clock, lease=timedelta(minutes=5))
    assert len(dead.claim()) == 1  # claimed, then the process was killed
    heir = Worker(db, handlers={"test.touch": Handler(touch)}, clock=clock)
    assert heir.drain() == 0  # still leased
    clock.advance(timedelta(minutes=6))
    assert heir.drain() == 1
    [job] = all_jobs(db, clinic)
    assert (job.status, job.attempts) == (DONE, 2)
    assert touched(db, clinic) == [job.id]


def test_a_worker_that_lost_its_lease_rolls_its_work_back(db: Database, world: World) -> None:
    clinic = world.clinic("glow")
    enqueue(db, clinic)
    clock = FixedClock(T0)
    slow = Worker(db, handlers={"test.touch": Handler(touch)}, clock=clock, lease=timedelta(minutes=5))
    [claimed] = slow.claim()
    clock.advance(timedelta(minutes=6))
    fast = Worker(db, handlers={"test.touch": Handler(touch)}, clock=clock)
    assert fast.drain() == 1
    slow.process(claimed)  # finishes late: its "done" finds the job no longer its own
    assert len(touched(db, clinic)) == 1
    assert slow.processed == 0


def test_concurrent_workers_run_each_job_once(db: Database, world: World) -> None:
    a, b = world.clinic("glow-a"), world.clinic("glow-b")
    for i in range(30):
        enqueue(db, a if i % 2 else b, key=f"k{i}", now=datetime.now(UTC))
    workers = [Worker(db, handlers={"test.touch": Handler(touch)}, batch=3) for _ in range(4)]
    threads = [threading.Thread(target=w.drain) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    done = touched(db, a) + touched(db, b)
    assert len(done) == 30 and len(set(done)) == 30
    assert sum(w.processed for w in workers) == 30
    assert {j.status for j in all_jobs(db, a) + all_jobs(db, b)} == {DONE}


def test_a_recurring_job_schedules_its_next_run(db: Database, world: World) -> None:
    clinic = world.clinic("glow")
    enqueue(db, clinic, key="sweep", repeat_seconds=600)
    clock = FixedClock(T0)
    worker = Worker(db, handlers={"test.touch": Handler(touch)}, clock=clock)
    assert worker.drain() == 1
    pending = [j for j in all_jobs(db, clinic) if j.status == QUEUED]
    assert [j.run_after for j in pending] == [T0 + timedelta(minutes=10)]
    clock.advance(timedelta(minutes=10))
    assert worker.drain() == 1
    assert len(all_jobs(db, clinic)) == 3


def test_committing_an_enqueue_wakes_an_idle_worker(db: Database, world: World) -> None:
    clinic = world.clinic("glow")
    worker = Worker(db, handlers={"test.touch": Handler(touch)}, poll_interval=30)
    thread = start_thread(worker)
    try:
        time.sleep(0.2)  # the worker is now waiting on its 30 s poll
        started = time.monotonic()
        enqueue(db, clinic, now=datetime.now(UTC))
        while not touched(db, clinic):
            assert time.monotonic() - started < 5, "the worker was not woken"
            time.sleep(0.02)
        assert time.monotonic() - started < 2
    finally:
        worker.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()


pg_only = pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)


@pg_only
def test_only_a_worker_sees_every_clinics_jobs(db: Database, world: World) -> None:
    a, b = world.clinic("glow-a"), world.clinic("glow-b")
    enqueue(db, a)
    enqueue(db, b)
    with db.transaction(write=False, app_role=True) as session:
        assert session.execute(text("SELECT count(*) FROM job")).scalar_one() == 0
        tenancy.enter_clinic(session, a.id)
        assert session.execute(text("SELECT count(*) FROM job")).scalar_one() == 1
    with db.transaction(write=False, app_role=True) as session:
        assert session.execute(text("SELECT current_user")).scalar_one() == tenancy.APP_ROLE
        tenancy.work_queue(session)
        assert session.execute(text("SELECT count(*) FROM job")).scalar_one() == 2


def test_the_worker_command_stops_cleanly_on_sigterm(settings: Any, world: World) -> None:
    clinic = world.clinic("glow")
    enqueue(db=world.db, clinic=clinic, kind="nobody.handles.this", now=datetime.now(UTC))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GLOWDESK_SERVER_HOME": str(settings.server_home),
        "GLOWDESK_DATABASE_URL": settings.database_url,
        "GLOWDESK_SECRET_KEY": settings.ensure_secret_key(),
    }
    proc = subprocess.Popen([sys.executable, "-m", "sync_server", "worker", "--poll-interval", "0.1"], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while all_jobs(world.db, clinic)[0].status in (QUEUED, RUNNING):
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "the worker did not pick the job up"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = proc.stdout.read() if proc.stdout else ""
    assert "stopped" in output
    assert all_jobs(world.db, clinic)[0].status == FAILED
