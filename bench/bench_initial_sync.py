"""Initial sync of the demo clinic to a fresh desktop over loopback HTTP (targets: >= 15,000 rows/s
and <= 3x the one-JSON-document floor for the 20,000-patient clinic), on a SQLite server and a
PostgreSQL server.

The server seeds the demo clinic server-side (``python -m sync_server demo --patients N``); a new
desktop redeems an enrollment code and downloads everything into its encrypted store (pages
applied atomically with their cursor, search index and all). The floor: the same rows as one JSON
document, fetched over the same loopback from a plain HTTP server and parsed: what moving the
bytes costs with no paging, no merge bookkeeping and no database. ``BENCH_PATIENTS`` shrinks the
clinic for a quick run; ``BENCH_BACKENDS=sqlite`` (or ``postgresql``) runs one backend. Prints one
line; exits 1 when a target is missed on any backend.
"""

from __future__ import annotations

import http.server
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import _servers as S  # noqa: I001  (the fresh PostgreSQL helper)
import httpx
from _sync import ServerProcess, load, new_desk

from app.sync.client import SyncClient
from tests.integration.conftest import ClinicSetup, token_of

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "20000"))
TARGET_RPS, TARGET_FLOOR_RATIO = 15_000, 3.0
BACKENDS = os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")


def _cli(server: ServerProcess, *args: str) -> dict[str, object]:
    """The server's CLI without the tests' 60 s limit (seeding 20,000 patients on a busy machine
    takes longer)."""
    process = server.cli_start(*args)
    out, err = process.communicate(timeout=1800)
    if process.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {err[-500:]}")
    result: dict[str, object] = json.loads(out)
    return result


def _floor(url: str, token: str) -> tuple[float, int, float]:
    """Seconds (best of 3) to fetch and parse every row as one JSON document over loopback, the
    row count and the CPU seconds of that best run."""
    changes: list[dict[str, object]] = []
    with SyncClient(url, token) as client:
        cursor = 0
        while True:
            page = client.pull(cursor=cursor, limit=5000)
            changes.extend(c.model_dump(mode="json") for c in page.changes)
            cursor = page.next_cursor
            if not page.has_more:
                break
    body = json.dumps({"changes": changes}).encode()

    class One(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), One)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        best, best_cpu = float("inf"), 0.0
        for _ in range(3):
            start, cpu = time.perf_counter(), time.process_time()
            rows = len(httpx.get(f"http://127.0.0.1:{server.server_port}/", timeout=120).json()["changes"])
            if time.perf_counter() - start < best:
                best, best_cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        server.shutdown()
    return best, rows, best_cpu


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _one(tmp: Path, backend: str, database_url: str | None) -> tuple[str, bool]:
    env = {"GLOWDESK_DATABASE_URL": database_url, "GLOWDESK_SECRET_KEY": S.SECRET} if database_url else {}
    server = ServerProcess(tmp / f"{backend}-server", extra_env=env).start()
    try:
        seeded = _cli(server, "demo", "--patients", str(PATIENTS))
        slug = str(seeded["slug"])
        code = str(_cli(server, "enrollment-code", "--clinic", slug)["code"])
        setup = ClinicSetup(slug=slug, clinic_id=str(seeded["clinic_id"]), owner_id="", provider_id="", codes=[code])
        assert server.process is not None
        server_cpu, desk_cpu = _cpu_of(server.process.pid), time.process_time()
        start = time.perf_counter()
        desk = new_desk(tmp, server, setup, f"{backend}-desk")
        seconds = time.perf_counter() - start
        server_cpu, desk_cpu = _cpu_of(server.process.pid) - server_cpu, time.process_time() - desk_cpu
        try:
            with desk.store.session() as s:
                from sqlalchemy import text

                from app.db.models import SYNCABLE_MODELS
                rows = 0
                for table in SYNCABLE_MODELS:
                    rows += int(s.execute(text(f"SELECT count(*) FROM {table} WHERE version > 0")).scalar_one())
            floor, floor_rows, floor_cpu = _floor(server.url, token_of(desk))
        finally:
            desk.store.close()
        if rows != floor_rows:
            raise RuntimeError(f"{backend}: the desktop holds {rows} rows, the server sent {floor_rows}")
        rps = floor_rows / seconds
        ratio = seconds / floor
        ok = rps >= TARGET_RPS and ratio <= TARGET_FLOOR_RATIO
        return (f"{backend} {floor_rows} rows in {seconds:.1f} s = {rps:,.0f} rows/s, ratio {rps / TARGET_RPS:.2f} "
                f"of the target; floor one JSON document {floor:.2f} s, sync/floor {ratio:.2f}, ratio "
                f"{ratio / TARGET_FLOOR_RATIO:.2f} of the limit{'' if ok else ' MISSED'}; CPU used: desktop "
                f"{desk_cpu:.1f} s, server {server_cpu:.1f} s, floor's parse {floor_cpu:.1f} s)"), ok
    finally:
        server.stop()


def main() -> int:
    parts, ok = [], True
    with tempfile.TemporaryDirectory(prefix="glowdesk-bench-initial-") as tmp_name:
        tmp = Path(tmp_name)
        if "sqlite" in BACKENDS:
            part, good = _one(tmp, "sqlite", None)
            parts.append(part)
            ok &= good
        if "postgresql" in BACKENDS:

            def on_postgres(url: str) -> tuple[list[str], bool]:
                part, good = _one(tmp, "postgresql", url)
                return [part], good

            lines, good = S.on_fresh_postgres(on_postgres)
            parts += lines
            ok &= good
    print(f"initial_sync_{PATIENTS}: " + "; ".join(parts) + f" (target >= {TARGET_RPS:,} rows/s and <= "
          f"{TARGET_FLOOR_RATIO:.0f}x the floor); " + load())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
