"""`python -m app enroll / sync / status` as real processes against a real server process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.conftest import REPO, ServerProcess, free_port, make_clinic


def app_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLOWDESK_")}
    env.update({"GLOWDESK_HOME": str(home), "GLOWDESK_KEY_FILE": str(home.parent / f"{home.name}.key")})
    return env


def app(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=REPO, env=app_env(home), capture_output=True, text=True,
        timeout=120,
    )


def test_enroll_sync_and_status_from_the_command_line(server: ServerProcess, tmp_path: Path) -> None:
    setup = make_clinic(server, codes=1)
    home = tmp_path / "front-desk"
    code = setup.codes[0]

    enrolled = app(home, "enroll", server.url, code, "--device-name", "Front desk PC")
    assert enrolled.returncode == 0, enrolled.stderr
    assert f"enrolled 'Front desk PC' with Clinic {setup.slug} at {server.url}" in enrolled.stdout
    assert "2 staff" in enrolled.stdout and "first sync ok" in enrolled.stdout

    again = app(home, "enroll", server.url, code)
    assert again.returncode == 1 and "already enrolled" in again.stderr

    used = app(tmp_path / "other", "enroll", server.url, code)
    assert used.returncode == 1 and "already used" in used.stderr and "Traceback" not in used.stderr

    synced = app(home, "sync", "--once", "--staff", "Olivia Owner", "--pin", "2468")
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.startswith("sync ok: pushed")
    assert len(synced.stdout.strip().splitlines()) == 1

    status = app(home, "status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["sync"] == "online" and report["online"] is True
    assert report["server_url"] == server.url and report["clinic"] == f"Clinic {setup.slug}"
    assert report["conflicts"] == 0 and isinstance(report["cursor"], int) and report["last_sync"]
    assert "device_token" not in status.stdout and "gdd_" not in status.stdout

    # the foreground runner until Ctrl-C
    runner = subprocess.Popen(
        [sys.executable, "-m", "app", "sync"], cwd=REPO, env=app_env(home), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    assert runner.stdout is not None
    line = runner.stdout.readline()
    assert "Online" in line, line
    runner.send_signal(signal.SIGINT)
    out, err = runner.communicate(timeout=20)
    assert runner.returncode == 0, err
    assert "sync stopped" in err


def test_enroll_errors_are_one_clear_line(server: ServerProcess, tmp_path: Path) -> None:
    bad = app(tmp_path / "a", "enroll", server.url, "AAAA-BBBB-CCCC-DDDD")
    assert bad.returncode == 1
    assert bad.stderr.strip() == (
        "error: This enrollment code is not known to this server. Ask your administrator for a new one."
    )
    started = time.monotonic()
    nobody = app(tmp_path / "b", "enroll", f"http://127.0.0.1:{free_port()}", "AAAA-BBBB-CCCC-DDDD")
    assert nobody.returncode == 1 and "cannot be reached" in nobody.stderr
    assert len(nobody.stderr.strip().splitlines()) == 1
    assert time.monotonic() - started < 30
    not_enrolled = app(tmp_path / "c", "sync", "--once")
    assert not_enrolled.returncode == 1 and "not enrolled" in not_enrolled.stderr
