"""`make run`'s launcher: server with the demo clinic, desktop enrolled to it, server stopped after."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_run_demo_seeds_enrols_and_stops_the_server(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLOWDESK_") and k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(
        GLOWDESK_SERVER_HOME=str(tmp_path / "server"),
        GLOWDESK_HOME=str(tmp_path / "desktop"),
        GLOWDESK_KEY_FILE=str(tmp_path / "desktop.key"),
        GLOWDESK_PORT=str(port),
        GLOWDESK_DEMO_PATIENTS="120",
    )
    result = subprocess.run([sys.executable, "scripts/run_demo.py"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=240)
    out = result.stdout + result.stderr
    assert "seeding the demo clinic" in out
    assert "first sync ok" in out, out
    assert "needs a display" in out  # no display here: the desktop says why and exits 2
    assert result.returncode == 2
    assert "clinic server stopped" in out
    with socket.socket() as s:  # closing the app stopped the server
        assert s.connect_ex(("127.0.0.1", port)) != 0
    # the desktop's encrypted store now holds the server's clinic
    status = subprocess.run([sys.executable, "-m", "app", "status", "--json"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert '"patients": 120' in status.stdout, status.stdout + status.stderr
