"""`make run`'s launcher: server with the demo clinic, desktop enrolled to it, server stopped after."""

from __future__ import annotations

import os
import signal
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


def _demo_env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GLOWDESK_") and k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(GLOWDESK_SERVER_HOME=str(tmp_path / "server"), GLOWDESK_HOME=str(tmp_path / "desktop"),
               GLOWDESK_KEY_FILE=str(tmp_path / "desktop.key"), GLOWDESK_PORT=str(port),
               GLOWDESK_DEMO_PATIENTS="60")
    return env


def test_the_demo_world_texts_in_through_the_twilio_stand_in_and_reaches_the_desktop(tmp_path: Path) -> None:
    """`make run`'s stand-ins are connected: a client texting the demo number (signed as Twilio
    signs) becomes a client and a lead on the enrolled desktop, and gets the instant reply."""
    port = _free_port()
    env = _demo_env(tmp_path, port)
    demo = subprocess.Popen([sys.executable, "scripts/run_demo.py", "--serve-only"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            lines.append(line)
            if "demo ready" in line:
                break
        else:
            raise AssertionError("".join(lines))
        sent = subprocess.run([sys.executable, "scripts/demo_event.py", "text", "+14155550199",
                               "Hi! Do you have any lip filler openings on Friday?"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert sent.returncode == 0 and "answered 200" in sent.stdout, sent.stdout + sent.stderr
        found = ""
        for _ in range(60):  # the worker processes the text; the desktop pulls it
            subprocess.run([sys.executable, "-m", "app", "sync", "--once"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=60)
            found = subprocess.run([sys.executable, "-m", "app", "search", "0199", "--json"], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=60).stdout
            if "+14155550199" in found:
                break
        assert "+14155550199" in found, found
        shown = subprocess.run([sys.executable, "-m", "sync_server", "integrations", "show", "--clinic", "lumiere"],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert "auth-token-for-tests" not in shown.stdout  # secrets are never printed back
    finally:
        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0 and "clinic server stopped" in rest, "".join(lines) + rest
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
