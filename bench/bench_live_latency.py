"""Change-to-other-desktop latency through the live channel (target p99 <= 500 ms on loopback).

Two enrolled desktops on a real server process, each with its background :class:`SyncRunner`
(interval 60 s, so only the live channel can bring a change in time; the runner's usual debounce).
Desktop A edits a client 200 times, one edit at a time; each is timed from the local commit to
the moment desktop B's runner reports it applied that client (``on_synced``). Prints p50/p99 and
exits 1 when p99 misses the target.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import percentile  # noqa: I001
from _sync import ServerProcess, load, make_clinic, new_desk

from app.sync import SyncRunner

CHANGES = int(os.environ.get("BENCH_CHANGES", "200"))
TARGET_MS = 500.0
DEBOUNCE = float(os.environ.get("BENCH_DEBOUNCE", "0.3"))  # the app's RunnerOptions default


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="glowdesk-bench-live-") as tmp_name:
        tmp = Path(tmp_name)
        server = ServerProcess(tmp / "server").start()
        runners: list[SyncRunner] = []
        try:
            setup = make_clinic(server, codes=2)
            a = new_desk(tmp, server, setup, "a")
            pid = a.add_patient("Live", "Latency", phone="+14155550100")
            a.sync()
            b = new_desk(tmp, server, setup, "b")
            arrived = threading.Event()
            seen_at: list[float] = []

            def on_synced(changes) -> None:  # noqa: ANN001
                if pid in changes.patient_ids:
                    seen_at.append(time.perf_counter())
                    arrived.set()

            for desk, callback in ((a, None), (b, on_synced)):
                runner = SyncRunner(desk.store, engine=desk.engine(), on_synced=callback, interval=60.0,
                                    debounce=DEBOUNCE, backoff_base=0.2, backoff_cap=1.0)
                runner.start()
                runners.append(runner)
            for runner in runners:
                runner.wait_for(lambda s: s.online is True and s.live_connected and not s.syncing, timeout=20)
            latencies: list[float] = []
            lost = 0
            for n in range(CHANGES):
                arrived.clear()
                seen_at.clear()
                started = time.perf_counter()
                a.edit(pid, preferred_name=f"Edit {n}")
                runners[0].notify_local_change()
                if not arrived.wait(5.0):
                    lost += 1
                    continue
                latencies.append((seen_at[0] - started) * 1000)
                time.sleep(0.02)
        finally:
            for runner in runners:
                runner.stop(5)
            server.stop()
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(f"live_latency_{CHANGES}: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(latencies):.0f} ms over "
          f"{len(latencies)} changes ({lost} not seen within 5 s), ratio p99/target {p99 / TARGET_MS:.2f} "
          f"(target p99 <= {TARGET_MS:.0f} ms; debounce {DEBOUNCE * 1000:.0f} ms); {load()}")
    return 0 if p99 <= TARGET_MS and lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
