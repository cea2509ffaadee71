"""Shared set-up for the leads and messaging benchmarks (issue 5): a real server process
(``python -m sync_server serve``), the Twilio and Graph stand-ins, fresh PostgreSQL databases,
and N concurrent senders. Reuses the integration tests' :class:`ServerProcess`."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import _common  # noqa: F401  (puts the repository on sys.path)
import httpx

from tests.integration.conftest import REPO, ServerProcess, _env, free_port, make_clinic  # noqa: F401

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
SECRET = "bench-secret-key-not-for-production"


def start_server(home: Path, *, worker: bool, extra_env: dict[str, str] | None = None,
                 processes: int = 1) -> ServerProcess:
    """``serve`` (``--with-worker``: a job worker thread in it; ``processes``: ``--workers N``)."""
    port = free_port()
    env = {"GLOWDESK_PUBLIC_URL": f"http://127.0.0.1:{port}", "GLOWDESK_SECRET_KEY": SECRET, **(extra_env or {})}
    args = (("--with-worker",) if worker else ()) + (("--workers", str(processes)) if processes > 1 else ())
    return ServerProcess(home, port, extra_env=env, serve_args=args).start()


def start_worker(server: ServerProcess, *, batch: int = 10) -> subprocess.Popen[str]:
    """``python -m sync_server worker`` on the server's database (as a second process)."""
    log = (server.home / "worker.log").open("a")
    return subprocess.Popen([sys.executable, "-m", "sync_server", "worker", "--poll-interval", "0.2",
                             "--batch", str(batch)], cwd=REPO, env=_env(server.home, server.extra_env),
                            stdout=log, stderr=subprocess.STDOUT, text=True)


@contextmanager
def fresh_postgres() -> Iterator[str | None]:
    """A throwaway database on the local PostgreSQL (dropped afterwards); None when unreachable."""
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except Exception:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        yield None
        return
    name = "glowdesk_bench_" + secrets.token_hex(4)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def on_fresh_postgres(run: Callable[[str], tuple[list[str], bool]]) -> tuple[list[str], bool]:
    """``run(database_url)`` on a throwaway PostgreSQL database: (result parts, targets met); a
    missing PostgreSQL is a miss that says so."""
    with fresh_postgres() as pg_url:
        if pg_url is None:
            return ["postgresql MISSING: 127.0.0.1:5432 unreachable"], False
        return run(pg_url)


def blast(url: str, requests: list[tuple[bytes, dict[str, str]]], *, senders: int) -> tuple[float, list[int]]:
    """POST (or GET when the body is empty) every request with ``senders`` concurrent senders;
    (seconds, status codes)."""

    async def main() -> tuple[float, list[int]]:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(len(requests)):
            queue.put_nowait(i)
        statuses = [0] * len(requests)
        resent = [0]
        limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:

            async def sender() -> None:
                while True:
                    try:
                        i = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    body, headers = requests[i]
                    for attempt in range(3):  # a reset keep-alive connection: send again, as providers do
                        try:
                            if body:
                                r = await client.post(url, content=body, headers=headers)
                            else:
                                r = await client.get(url, headers=headers)
                            break
                        except httpx.TransportError:
                            if attempt == 2:
                                raise
                            resent[0] += 1
                    statuses[i] = r.status_code

            start = time.perf_counter()
            await asyncio.gather(*(sender() for _ in range(senders)))
            elapsed = time.perf_counter() - start
            if resent[0]:
                print(f"  ({resent[0]} requests re-sent after a reset connection)", file=sys.stderr)
            return elapsed, statuses

    return asyncio.run(main())


def wait_until(check: Callable[[], Any], what: str, timeout: float = 300, step: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(step)


def load() -> str:
    with open("/proc/loadavg") as fh:
        return fh.read().split()[0]
