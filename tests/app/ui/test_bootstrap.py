"""`python main.py` as operators run it: no display, a self-test, a store that cannot open."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.bootstrap import NO_DISPLAY, OFFSCREEN_ONLY, display_problem

ROOT = Path(__file__).resolve().parents[3]


def run_main(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "GLOWDESK_HOME", "GLOWDESK_KEY_FILE"}}
    env.update(GLOWDESK_HOME=str(tmp_path / "home"), GLOWDESK_KEY_FILE=str(tmp_path / "glowdesk.key"),
               PYTHONDONTWRITEBYTECODE="1")
    env.update(extra)
    return env


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux decides by DISPLAY/WAYLAND_DISPLAY")
def test_no_display_says_so_in_one_line_and_exits_2(tmp_path):
    result = run_main("--demo", env=clean_env(tmp_path), timeout=60)
    assert result.returncode == 2
    output = (result.stdout + result.stderr).strip()
    assert output == NO_DISPLAY
    assert len(output.splitlines()) == 1
    assert "Traceback" not in output
    assert not (tmp_path / "home").exists()  # nothing was created


def test_display_detection():
    linux = "linux"
    assert display_problem({}, linux) == NO_DISPLAY
    assert display_problem({"DISPLAY": ":0"}, linux) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, linux) is None
    assert display_problem({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "w"}, linux) == NO_DISPLAY
    assert display_problem({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, linux) == NO_DISPLAY
    assert display_problem({}, "win32") is None
    assert display_problem({}, "darwin") is None
    # offscreen is for the self-test; a normal run there would draw its window nowhere
    for platform in ("offscreen", "minimal"):
        assert display_problem({"QT_QPA_PLATFORM": platform}, linux, self_test=True) is None
        assert display_problem({"QT_QPA_PLATFORM": platform}, linux) == NO_DISPLAY
        assert display_problem({"QT_QPA_PLATFORM": platform, "DISPLAY": ":0"}, linux) == OFFSCREEN_ONLY
        assert display_problem({"QT_QPA_PLATFORM": platform}, "win32") == OFFSCREEN_ONLY


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux decides by DISPLAY/WAYLAND_DISPLAY")
def test_make_run_on_a_headless_machine_does_not_hang_offscreen(tmp_path):
    """The Makefile exports QT_QPA_PLATFORM=offscreen when there is no display."""
    result = run_main("--demo", env=clean_env(tmp_path, QT_QPA_PLATFORM="offscreen"), timeout=60)
    assert result.returncode == 2
    assert (result.stdout + result.stderr).strip() == NO_DISPLAY


def test_demo_self_test_builds_the_clinic_and_prints_one_summary_line(tmp_path):
    env = clean_env(tmp_path, QT_QPA_PLATFORM="offscreen")
    result = run_main("--demo", "--self-test", "--patients", "200", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith("self-test ok: store encrypted, 200 patients, search ")
    assert "window" in lines[0]
    assert "Traceback" not in result.stderr
    assert "Building the demo clinic" in result.stderr  # progress, when headless, goes to stderr
    log = (tmp_path / "home" / "logs" / "glowdesk.log").read_text(encoding="utf-8")
    assert "opened the demo clinic" in log

    # a second run opens the existing clinic, and the self-test needs no QT_QPA_PLATFORM
    env.pop("QT_QPA_PLATFORM")
    again = run_main("--demo", "--self-test", env=env)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.startswith("self-test ok: store encrypted, 200 patients")
    assert "Building the demo clinic" not in again.stderr


def test_a_store_that_cannot_open_is_one_clear_line_and_non_zero(tmp_path):
    env = clean_env(tmp_path, QT_QPA_PLATFORM="offscreen")
    assert run_main("--demo", "--self-test", "--patients", "20", env=env).returncode == 0
    (tmp_path / "other.key").write_text("ab" * 32 + "\n", encoding="ascii")
    env["GLOWDESK_KEY_FILE"] = str(tmp_path / "other.key")
    result = run_main("--demo", "--self-test", env=env, timeout=60)
    assert result.returncode == 1
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("self-test failed: The database key does not match")
    assert "Traceback" not in result.stderr


def test_self_test_fails_with_its_reason_when_there_is_no_clinic(tmp_path):
    result = run_main("--self-test", env=clean_env(tmp_path), timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().startswith("self-test failed: This workstation is not set up for a clinic")
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_ready_file_notes_when_the_sign_in_screen_is_interactive_then_the_app_quits(tmp_path):
    """GLOWDESK_READY_FILE (benchmarks): one JSON line once the staff list is shown, exit 0."""
    import json
    import time

    env = clean_env(tmp_path, QT_QPA_PLATFORM="offscreen")
    assert run_main("--demo", "--self-test", "--patients", "20", env=env).returncode == 0
    ready = tmp_path / "ready.json"
    started = time.time()
    result = run_main(env={**env, "GLOWDESK_READY_FILE": str(ready)}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    line = json.loads(ready.read_text(encoding="utf-8"))
    assert started < line["ready_at"] < time.time()
    if sys.platform.startswith("linux"):
        assert 0 < line["rss_kb"] <= line["peak_rss_kb"]
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_the_window_loads_without_the_sync_engine_until_a_store_syncs():
    """A third of the start-up was the sync engine (httpx, the wire format): it loads on first use."""
    probe = ("import sys\n"
             "import app.ui.app, app.ui.main_window\n"
             "print(sorted(m for m in ('httpx', 'app.sync.engine', 'app.sync.client', 'core.sync') if m in sys.modules))\n"
             "import app.ui.enroll_dialog\n"  # the first-run screen loads the enrolment module first
             "from app.sync import SyncEngine, SyncRunner, enroll, remember_staff\n"
             "import app.sync\n"
             "print(SyncEngine.__module__, SyncRunner.__module__, enroll.__module__, hasattr(app.sync, 'nothing'))\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == ["[]", "app.sync.engine app.sync.runner app.sync.enrolment False"]
