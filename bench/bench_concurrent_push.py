"""5 desktops pushing 1,000 edits each, concurrently, to one server: edits/s, no loss, no duplicate.

Each desktop (its own encrypted store, enrolled on a real server process over loopback HTTP)
makes its edits offline first: new clients and edits of them, 1,000 outbox entries in all. Then
all five sync at once (each in its own thread, its engine pushing its outbox in batches). Timed
from the start to the last acknowledgement. Checked afterwards from the server's side with a full
pull: every client of every desktop is there once, with its last edit; every outbox is empty.
``BENCH_DATABASE=postgresql`` runs it against a fresh PostgreSQL database. Exits 1 on any loss.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import _servers as S  # noqa: I001
from _sync import ServerProcess, load, make_clinic, new_desk
from sqlalchemy import func, select

from app.db.models import OutboxEntry
from tests.integration.conftest import server_rows, token_of

DESKS = int(os.environ.get("BENCH_DESKS", "5"))
EDITS = int(os.environ.get("BENCH_EDITS", "1000"))
CLIENTS = EDITS // 4  # each client: one insert and three edits


def _run(tmp: Path, database_url: str | None) -> tuple[str, bool]:
    env = {"GLOWDESK_DATABASE_URL": database_url, "GLOWDESK_SECRET_KEY": S.SECRET} if database_url else {}
    server = ServerProcess(tmp / "server", extra_env=env).start()
    try:
        setup = make_clinic(server, codes=DESKS)
        desks = [new_desk(tmp, server, setup, f"d{i}") for i in range(DESKS)]
        expected: dict[str, str] = {}
        for i, desk in enumerate(desks):
            for n in range(CLIENTS):
                pid = desk.add_patient(f"Desk{i}", f"Client{n}", phone=f"+1415{i:03d}{n:04d}")
                for e in range(3):
                    desk.edit(pid, preferred_name=f"d{i}-c{n}-e{e}")
                expected[pid] = f"d{i}-c{n}-e2"
        errors: list[BaseException] = []

        def push(desk) -> None:  # noqa: ANN001
            try:
                desk.sync()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=push, args=(d,)) for d in desks]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - start
        pending = 0
        for desk in desks:
            with desk.store.session() as s:
                pending += int(s.execute(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.acked_at.is_(None))).scalar_one())
        on_server = server_rows(server.url, token_of(desks[0]), "patient")
        mine = {k: v for k, v in on_server.items() if k in expected}
        lost = len(expected) - len(mine)
        wrong = sum(1 for k, (_deleted, data) in mine.items() if data.get("preferred_name") != expected[k])
        for desk in desks:
            desk.store.close()
        edits = DESKS * CLIENTS * 4
        ok = not errors and lost == 0 and wrong == 0 and pending == 0
        return (f"{edits} edits from {DESKS} desktops in {seconds:.1f} s = {edits / seconds:,.0f} edits/s; "
                f"{lost} lost, {wrong} not at their last edit, {pending} left in outboxes, {len(errors)} errors"
                + (f" ({errors[0]!r})" if errors else "")), ok
    finally:
        server.stop()


def main() -> int:
    backend = os.environ.get("BENCH_DATABASE", "sqlite")
    with tempfile.TemporaryDirectory(prefix="glowdesk-bench-push-") as tmp_name:
        if backend == "postgresql":
            with S.fresh_postgres() as pg_url:
                if pg_url is None:
                    print("concurrent_push: postgresql skipped: 127.0.0.1:5432 unreachable")
                    return 1
                line, ok = _run(Path(tmp_name), pg_url)
        else:
            line, ok = _run(Path(tmp_name), None)
    print(f"concurrent_push_{DESKS}x{EDITS} ({backend}): {line}; {load()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
