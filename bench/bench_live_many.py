"""Many clinics on one server (issue 11): 100 clinics with 5 live desktops each (simulated
live-channel clients: one server-sent-events stream per desktop), 3 API processes
(``python -m sync_server serve``, no job worker) on one fresh PostgreSQL database.

- Idle load: with every stream open and nothing happening, the database's transactions per
  second over ``IDLE_SECONDS`` (``pg_stat_database`` commits + rollbacks of the bench database,
  read from another database so that reading them adds nothing). Target <= 20/s. Before
  LISTEN/NOTIFY each process polled ``clinic_sync_state`` every 250 ms per clinic with a
  stream: 3 x 100 x 4 = 1,200 transactions/s.
- Change to desk: ``CHANGES`` pushes (a new client record), each for another clinic and through
  one of the three processes in turn; timed from just before the push request to the moment
  each of that clinic's 5 streams (spread over the three processes) announces the new number.
  Target p99 <= 250 ms over all 5 x ``CHANGES`` arrivals. The floor: the push request itself
  (its own round trip, measured in the same run); also shown, the delay after the push's answer
  reached the pusher (0 when a stream heard first), i.e. what the live channel adds.

The streams are asyncio clients in this process (httpx); the processes, PostgreSQL and this
load generator share the machine's cores. Prints one line; exits 1 on a miss.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _servers as S
import httpx
import psycopg
from _common import percentile  # noqa: I001

from core.clock import HybridLogicalClock
from core.ids import new_id
from core.permissions import Role
from core.sync import PROTOCOL_VERSION, SCHEMA_VERSION
from sync_server import security
from sync_server.db import Database
from sync_server.settings import Settings
from tests.sync_server.conftest import PIN, SECRET, ClinicRef, World

CLINICS = int(os.environ.get("BENCH_CLINICS", "100"))
DESKS = int(os.environ.get("BENCH_DESKS", "5"))
PROCESSES = 3
CHANGES = int(os.environ.get("BENCH_CHANGES", "100"))
IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", "20"))
TARGET_P99_MS, TARGET_IDLE_TPS = 250.0, 20.0
OPEN_AT_ONCE = 25
VERSION_HEADERS = {"X-Glowdesk-Protocol": str(PROTOCOL_VERSION), "X-Glowdesk-Schema": str(SCHEMA_VERSION)}


def xacts(dbname: str) -> int:
    with psycopg.connect(S.PG_ADMIN, autocommit=True) as conn:
        row = conn.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                           (dbname,)).fetchone()
    return int(row[0]) if row else 0


def build(database_url: str) -> list[dict[str, Any]]:
    """Clinics, an owner each and DESKS enrolled devices each, made through the services."""
    settings = Settings(database_url=database_url, secret_key=SECRET)
    db = Database(settings)
    db.upgrade()
    world = World(db, security.hash_pin(PIN))
    out = []
    for n in range(CLINICS):
        clinic: ClinicRef = world.clinic(f"bench-{n:03d}")
        owner = world.staff(clinic, Role.OWNER)
        devices = [world.device(clinic, f"Desk {d}") for d in range(DESKS)]
        out.append({"clinic_id": clinic.id, "owner": owner, "devices": devices})
    db.dispose()
    return out


class Stream:
    """One desktop's live channel: the numbers it was told about, and when."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.high = -1
        self.arrived: dict[int, float] = {}
        self.opened = asyncio.Event()

    async def run(self, client: httpx.AsyncClient) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream", **VERSION_HEADERS}
        async with client.stream("GET", f"{self.url}/api/v1/sync/live", headers=headers) as response:
            response.raise_for_status()
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "changes":
                    seq = int(json.loads(line[5:])["up_to_seq"])
                    now = time.perf_counter()
                    if seq > self.high:
                        self.high = seq
                        self.arrived.setdefault(seq, now)
                    self.opened.set()


async def scenario(urls: list[str], clinics: list[dict[str, Any]], dbname: str
                   ) -> tuple[list[float], list[float], list[float], float, int]:
    limits = httpx.Limits(max_connections=CLINICS * DESKS + 20, max_keepalive_connections=CLINICS * DESKS + 20)
    timeout = httpx.Timeout(60.0, connect=10.0)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        streams: dict[str, list[Stream]] = {}
        tasks = []
        opening: list[Stream] = []
        i = 0
        for c in clinics:
            for device in c["devices"]:
                stream = Stream(urls[i % len(urls)], device.token)
                i += 1
                streams.setdefault(c["clinic_id"], []).append(stream)
                tasks.append(asyncio.create_task(stream.run(client)))
                opening.append(stream)
                if len(opening) == OPEN_AT_ONCE:  # desktops connect over a few seconds, not at one instant
                    await asyncio.wait_for(asyncio.gather(*(s.opened.wait() for s in opening)), 120)
                    opening = []
        await asyncio.wait_for(asyncio.gather(*(s.opened.wait() for s in opening)), 120)

        await asyncio.sleep(3)  # let the connections settle (and the statistics catch up)
        before = await asyncio.to_thread(xacts, dbname)
        started = time.perf_counter()
        await asyncio.sleep(IDLE_SECONDS)
        after = await asyncio.to_thread(xacts, dbname)
        idle_tps = (after - before) / (time.perf_counter() - started)

        latencies: list[float] = []
        after_answer: list[float] = []
        push_ms: list[float] = []
        busy_before = await asyncio.to_thread(xacts, dbname)
        for n in range(CHANGES):
            c = clinics[n % len(clinics)]
            device = c["devices"][0]
            hlc = HybridLogicalClock(f"bench{n}")
            body = {"protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION, "device_id": device.id,
                    "mutations": [{"mutation_id": new_id(), "entity": "patient", "entity_id": new_id(), "op": "insert",
                                   "fields": {"clinic_id": c["clinic_id"], "first_name": "Live", "last_name": f"N{n}",
                                              "phone": "+14155550123"},
                                   "base_version": 0, "hlc": str(hlc.now()), "staff_id": c["owner"]}]}
            url = urls[n % len(urls)]
            t0 = time.perf_counter()
            r = await client.post(f"{url}/api/v1/sync/push", json=body,
                                  headers={"Authorization": f"Bearer {device.token}", "X-Glowdesk-Staff": c["owner"]})
            push_ms.append((time.perf_counter() - t0) * 1000)
            r.raise_for_status()
            seq = int(r.json()["results"][0]["server_seq"])
            deadline = time.perf_counter() + 5
            targets = streams[c["clinic_id"]]
            while any(s.high < seq for s in targets) and time.perf_counter() < deadline:
                await asyncio.sleep(0.002)
            answered = t0 + push_ms[-1] / 1000
            for s in targets:
                got = min((t for q, t in s.arrived.items() if q >= seq), default=None)
                latencies.append((got - t0) * 1000 if got is not None else float("inf"))
                after_answer.append(max(0.0, got - answered) * 1000 if got is not None else float("inf"))
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)  # statistics are flushed about once a second
        busy = await asyncio.to_thread(xacts, dbname) - busy_before
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return latencies, after_answer, push_ms, idle_tps, busy


def main() -> int:
    with S.fresh_postgres() as pg_url, tempfile.TemporaryDirectory(prefix="glowdesk-bench-many-") as tmp:
        if pg_url is None:
            print("live_many: NOT MEASURED - PostgreSQL at 127.0.0.1:5432 is unreachable")
            return 2
        dbname = pg_url.rsplit("/", 1)[1]
        clinics = build(pg_url)
        help_text = subprocess.run([sys.executable, "-m", "sync_server", "serve", "--help"], capture_output=True,
                                   text=True, cwd=S.REPO).stdout
        args = ("--no-worker",) if "--no-worker" in help_text else ()
        servers = []
        try:
            for n in range(PROCESSES):
                server = S.ServerProcess(Path(tmp) / f"api{n}", extra_env={
                    "GLOWDESK_DATABASE_URL": pg_url, "GLOWDESK_SECRET_KEY": SECRET}, serve_args=args)
                servers.append(server.start())
            latencies, after_answer, push_ms, idle_tps, busy = asyncio.run(scenario([s.url for s in servers], clinics, dbname))
        except BaseException:
            for server in servers:
                print(f"--- {server.log}:\n" + server.log.read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            for server in servers:
                server.stop()
    lost = sum(1 for x in latencies if x == float("inf"))
    seen = [x for x in latencies if x != float("inf")]
    p50, p99 = percentile(seen, 50), percentile(seen, 99)
    ok = not lost and p99 <= TARGET_P99_MS and idle_tps <= TARGET_IDLE_TPS
    print(f"live_many_{CLINICS}x{DESKS}_{PROCESSES}proc: change to desk p50 {p50:.0f} ms, p99 {p99:.0f} ms over "
          f"{len(seen)} arrivals ({lost} not within 5 s), ratio p99/target {p99 / TARGET_P99_MS:.2f} (target <= "
          f"{TARGET_P99_MS:.0f} ms; floor: the push's own round trip p50 {percentile(push_ms, 50):.0f} ms, p99 "
          f"{percentile(push_ms, 99):.0f} ms; after the push's answer: p50 "
          f"{percentile([x for x in after_answer if x != float('inf')], 50):.0f} ms, p99 "
          f"{percentile([x for x in after_answer if x != float('inf')], 99):.0f} ms); idle database {idle_tps:.1f} transactions/s over {IDLE_SECONDS:.0f} s "
          f"with {CLINICS * DESKS} streams open (the same counter saw {busy} transactions during the {CHANGES} "
          f"pushes), ratio {idle_tps / TARGET_IDLE_TPS:.2f} (target <= "
          f"{TARGET_IDLE_TPS:.0f}/s){'' if ok else ' MISSED'}; load {S.load()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
