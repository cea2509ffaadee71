"""Data export of the 20,000-patient demo clinic (target >= 50,000 FHIR resources/s), from a desktop's
encrypted store and from the server (embedded SQLite and PostgreSQL).

What is timed is the whole export as the owner runs it, minus opening the store: the audit entry,
reading every row from one snapshot, mapping it to FHIR and CSV, writing the NDJSON and CSV files,
checksumming them and writing the manifest. Best of ``BENCH_RUNS`` (default 3) runs into fresh
folders; CPU seconds of the same run are printed too (the machine is shared). ``BENCH_PATIENTS``
shrinks the clinic for a quick run. Prints one line for the desktop and one for the server; exits
1 when a target is missed.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import _servers as S  # noqa: I001  (puts the repository on sys.path; fresh PostgreSQL databases)
from _sync import load

from core.export import Manifest

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "20000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TARGET = 50_000
NOW = datetime(2026, 11, 20, 19, 30, tzinfo=UTC)


def _best(run: Callable[[Path], Manifest], tmp: Path, label: str) -> tuple[float, float, int]:
    """(best wall seconds, CPU seconds of that run, resources) over RUNS exports."""
    best = (float("inf"), 0.0, 0)
    for i in range(RUNS):
        wall, cpu = time.perf_counter(), time.process_time()
        manifest = run(tmp / f"{label}-{i}")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if wall < best[0]:
            best = (wall, cpu, manifest.resources)
    return best


def _figure(label: str, wall: float, cpu: float, resources: int) -> tuple[str, bool]:
    rate = resources / wall
    return (f"{label} {resources:,} resources in {wall:.2f} s = {rate:,.0f}/s (CPU {cpu:.2f} s = "
            f"{resources / cpu:,.0f}/s; {rate / TARGET:.2f}x the target)"), rate >= TARGET


def desktop(tmp: Path) -> tuple[str, bool]:
    from app.db.store import open_store
    from app.services.demo import generate_demo
    from app.services.export import export_data
    from app.services.workspace import open_workspace
    from core.clock import FixedClock

    os.environ["GLOWDESK_KEY_FILE"] = str(tmp / "desk.key")
    store = open_store(tmp / "desk", clock=FixedClock(NOW))
    generate_demo(store, patients=PATIENTS, seed=42, now=NOW)
    store.close()
    ws = open_workspace(tmp / "desk")
    try:
        owner, clinic = ws.default_actor(), ws.require_clinic()
        wall, cpu, n = _best(lambda out: export_data(ws.store, actor=owner, clinic=clinic, out=out), tmp, "desk")
    finally:
        ws.close()
    return _figure("desktop (SQLCipher)", wall, cpu, n)


def server(tmp: Path, backend: str, database_url: str | None) -> tuple[str, bool]:
    from sync_server.db import Database
    from sync_server.demo import service as demo
    from sync_server.export.service import export_clinic
    from sync_server.settings import Settings

    home = tmp / f"server-{backend}"
    settings = Settings(server_home=home, secret_key=S.SECRET, **({"database_url": database_url} if database_url else {}))
    db = Database(settings)
    try:
        db.upgrade()
        with db.transaction() as session:
            demo.seed_demo(session, patients=PATIENTS, slug="lumiere", now=NOW)
        with db.transaction() as session:
            demo.refresh_statistics(session)
        wall, cpu, n = _best(lambda out: export_clinic(db, slug="lumiere", staff_name="Olivia Owens", pin="1234",
                                                       out=out, now=NOW), tmp, backend)
    finally:
        db.dispose()
    return _figure(backend, wall, cpu, n)


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory(prefix="glowdesk-bench-export-") as name:
        tmp = Path(name)
        line, good = desktop(tmp)
        ok &= good
        print(f"export_{PATIENTS}_desktop: {line} (target >= {TARGET:,} resources/s, best of {RUNS}); {load()}",
              flush=True)
        parts = []
        part, good = server(tmp, "sqlite", None)
        parts.append(part)
        ok &= good
        with S.fresh_postgres() as pg_url:
            if pg_url is None:
                parts.append("postgresql skipped: 127.0.0.1:5432 unreachable")
            else:
                part, good = server(tmp, "postgresql", pg_url)
                parts.append(part)
                ok &= good
        print(f"export_{PATIENTS}_server: " + "; ".join(parts) + f" (target >= {TARGET:,} resources/s, best of {RUNS}); "
              + load(), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
