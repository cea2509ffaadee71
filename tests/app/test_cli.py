"""`python -m app ...` as IT staff and scripts use it: real processes, a real encrypted home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GLOWDESK_")}
    full_env.update({"GLOWDESK_HOME": str(home), "GLOWDESK_KEY_FILE": str(home.parent / "key")})
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli") / "home"
    result = run(home, "demo", "--patients", "150", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "demo clinic ready" in result.stdout
    assert "150 patients" in result.stdout
    return home


def test_search_finds_by_name_and_phone_digits(demo_home: Path) -> None:
    listing = run(demo_home, "search", "a", "--json", "--limit", "5")
    assert listing.returncode == 0, listing.stderr
    hits = json.loads(listing.stdout)
    assert hits, "a one-letter prefix should match some of 150 demo clients"
    target = hits[0]
    by_name = json.loads(run(demo_home, "search", target["last_name"], "--json").stdout)
    assert target["id"] in {h["id"] for h in by_name}
    digits = target["phone"][-6:]
    by_phone = json.loads(run(demo_home, "search", digits, "--json").stdout)
    assert target["id"] in {h["id"] for h in by_phone}


def test_status_json_reports_the_clinic(demo_home: Path) -> None:
    result = run(demo_home, "status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["encrypted"] is True
    assert status["patients"] == 150
    assert status["demo"] is True
    assert status["clinic"]
    assert status["pending_changes"] > 0  # the demo's writes wait in the outbox for a server


def test_audit_verify_ok(demo_home: Path) -> None:
    result = run(demo_home, "audit", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "audit chain ok" in result.stdout


def test_demo_refuses_to_overwrite_a_clinic(demo_home: Path) -> None:
    result = run(demo_home, "demo", "--patients", "10", "--quiet")
    assert result.returncode == 1
    assert "already holds the clinic" in result.stderr
    assert "Traceback" not in result.stderr


def test_import_csv_dry_run_changes_nothing(demo_home: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "clients.csv"
    csv_file.write_text(
        "First Name,Last Name,Mobile,Email\nAmélie,Durand,(415) 555-0199,amelie@example.com\n"
        "Bad,Phone,12,bad@example.com\n",
        encoding="utf-8",
    )
    before = json.loads(run(demo_home, "status", "--json").stdout)["patients"]
    result = run(demo_home, "import-csv", str(csv_file), "--dry-run")
    assert "line 3" in result.stdout
    after = json.loads(run(demo_home, "status", "--json").stdout)["patients"]
    assert after == before


def test_commands_in_an_unset_home_say_what_to_do(tmp_path: Path) -> None:
    result = run(tmp_path / "fresh", "search", "smith")
    assert result.returncode == 1
    assert "not set up for a clinic" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_key_is_one_clear_line(demo_home: Path, tmp_path: Path) -> None:
    result = run(demo_home, "status", env={"GLOWDESK_KEY_FILE": str(tmp_path / "nope.key")})
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "key is missing" in result.stderr
    assert "Traceback" not in result.stderr
