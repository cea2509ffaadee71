"""Cold start of the desktop app on the 20,000-patient encrypted store (target <= 2 s, RSS <= 400 MB).

The store is built once for the run (the demo clinic with 20,000 patients, in a temp folder).
Then ``python main.py`` starts in a fresh process, as a clinic workstation starts it, RUNS times
(default 5), offscreen. ``GLOWDESK_READY_FILE`` makes the app note the moment it is interactive
and quit (app.ui.app.write_ready): "interactive" is the first turn of the event loop after the
main window is shown with its first screen's data loaded, i.e. the sign-in screen with the
clinic's staff list read from the store and drawn, the PIN field taking keys (a shared workstation
opens with nobody signed in). Time is wall time from just before the process is spawned to that
moment; memory is the process's resident set (VmHWM, the peak so far) at that moment.

The OS file cache is warm (the store was just written, Python's bytecode is compiled): this is
a restart on a workstation that ran the app before, not the first start after a reboot.
Prints one line with p50 and max over the runs and their ratios to the targets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, percentile, temp_home  # noqa: I001

from app.db.store import open_store
from app.services.demo import generate_demo

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "20000"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
TARGET_S = 2.0
TARGET_RSS_MB = 400.0
TIMEOUT_S = 120


def build_store(home: Path) -> None:
    store = open_store(home)
    try:
        generate_demo(store, patients=PATIENTS, seed=42)
    finally:
        store.close()


def start_once(home: Path, ready: Path) -> tuple[float, float]:
    """Seconds from spawn to interactive, and the peak resident memory (MB) then."""
    ready.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="offscreen", GLOWDESK_HOME=str(home), GLOWDESK_READY_FILE=str(ready))
    started = time.time()
    proc = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S)
    if proc.returncode != 0 or not ready.exists():
        raise SystemExit(f"cold_start: the app did not become interactive (exit {proc.returncode}): "
                         f"{(proc.stderr or proc.stdout).strip()[-400:]}")
    line = json.loads(ready.read_text(encoding="utf-8"))
    return line["ready_at"] - started, line.get("peak_rss_kb", 0) / 1024


def main() -> int:
    with temp_home("cold-start") as home, tempfile.TemporaryDirectory(prefix="glowdesk-ready-") as tmp:
        build_store(home)
        runs = [start_once(home, Path(tmp) / "ready.json") for _ in range(RUNS)]
    seconds = [s for s, _ in runs]
    rss = [m for _, m in runs]
    p50, worst = percentile(seconds, 50), max(seconds)
    rss_p50, rss_max = percentile(rss, 50), max(rss)
    ok = worst <= TARGET_S and rss_max <= TARGET_RSS_MB
    print(f"cold_start_{PATIENTS}: to interactive sign-in p50 {p50:.2f} s, max {worst:.2f} s over {RUNS} starts "
          f"(target <= {TARGET_S:.0f} s, ratio p50 {p50 / TARGET_S:.2f}, max {worst / TARGET_S:.2f}); "
          f"peak RSS p50 {rss_p50:.0f} MB, max {rss_max:.0f} MB "
          f"(target <= {TARGET_RSS_MB:.0f} MB, ratio max {rss_max / TARGET_RSS_MB:.2f})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
