"""``python -m sync_server``: the operator's commands, run as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.templates import STARTER_TEMPLATES
from sync_server.cli import build_parser, main
from sync_server.db import SCHEMA_HEAD
from sync_server.settings import Settings

REPO = Path(__file__).resolve().parents[2]
#: ``main(argv)`` run in this process: (exit code, stdout, stderr).
InProcess = Callable[..., tuple[int, str, str]]


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GLOWDESK_SERVER_HOME": str(settings.server_home),
        "GLOWDESK_DATABASE_URL": settings.database_url,
        "GLOWDESK_SECRET_KEY": settings.ensure_secret_key(),
    }
    return subprocess.run(
        [sys.executable, "-m", "sync_server", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )


def ok_json(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_an_operator_sets_up_a_clinic_and_a_workstation(settings: Settings, client: TestClient) -> None:
    assert ok_json(run(settings, "migrate"))["schema"] == SCHEMA_HEAD
    clinic = ok_json(run(settings, "create-clinic", "--name", "Glow Med Spa", "--slug", "glow",
                         "--timezone", "America/New_York"))
    assert clinic["slug"] == "glow" and len(str(clinic["clinic_id"])) == 36
    assert clinic["timezone"] == "America/New_York" and clinic["region"] == "US"
    assert clinic["templates"] == len(STARTER_TEMPLATES)  # a new clinic can text from day one
    staff = ok_json(run(settings, "create-staff", "--clinic", "glow", "--name", "Olivia Owner",
                        "--role", "owner", "--pin", "2468"))
    issued = ok_json(run(settings, "enrollment-code", "--clinic", "glow", "--ttl-minutes", "15"))
    assert set(issued) >= {"code", "expires_at"}

    enrolled = client.post("/api/v1/enroll", json={"code": issued["code"], "device_name": "Front desk"})
    assert enrolled.status_code == 201, enrolled.text
    assert [s["id"] for s in enrolled.json()["staff"]] == [staff["staff_id"]]
    device_id = enrolled.json()["device"]["id"]
    headers = {"Authorization": f"Bearer {enrolled.json()['device_token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    revoked = ok_json(run(settings, "revoke-device", "--clinic", "glow", "--device", device_id))
    assert revoked["device_id"] == device_id and revoked["revoked_at"]
    assert client.get("/api/v1/me", headers=headers).status_code == 401

    report = ok_json(run(settings, "audit", "verify", "--clinic", "glow"))
    assert report["ok"] is True
    # clinic, its starter templates, staff, code, enrolment, revocation
    assert report["checked"] == 5 + len(STARTER_TEMPLATES)


def assert_one_line_failure(returncode: int, stderr: str, message: str) -> None:
    assert returncode != 0
    assert stderr.startswith("error: ")
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    assert message in stderr


def test_a_failing_command_prints_one_line_and_exits_non_zero(settings: Settings) -> None:
    result = run(settings, "create-staff", "--clinic", "nope", "--name", "X", "--role", "owner", "--pin", "1234")
    assert_one_line_failure(result.returncode, result.stderr, "error: There is no clinic with the slug 'nope'.")
    assert result.stdout == ""


@pytest.fixture
def in_process(settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> InProcess:
    """Run ``main(argv)`` in this process against the test database: (exit code, stdout, stderr)."""
    monkeypatch.setenv("GLOWDESK_SERVER_HOME", str(settings.server_home))
    monkeypatch.setenv("GLOWDESK_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("GLOWDESK_SECRET_KEY", settings.ensure_secret_key())

    def call(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return call


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create-clinic", "--name", "Again", "--slug", "glow"], "A clinic with the slug 'glow' already exists."),
        (["create-clinic", "--name", "X", "--slug", "Glow Spa!"], "'Glow Spa!' is not a usable slug"),
        (["create-clinic", "--name", "X", "--slug", "x", "--timezone", "Mars/Base"], "'Mars/Base' is not a time zone"),
        (["create-staff", "--clinic", "glow", "--name", "X", "--role", "boss", "--pin", "1234"],
         "'boss' is not a role; choose one of owner, manager, provider, front_desk, medical_director."),
        (["create-staff", "--clinic", "glow", "--name", "X", "--role", "owner", "--pin", "12"], "A PIN is 4 to 12 digits."),
        (["enrollment-code", "--clinic", "glow", "--ttl-minutes", "20000"], "between 1 minute and 7 days"),
        (["revoke-device", "--clinic", "glow", "--device", "nope"], "There is no such workstation in this clinic."),
        (["audit", "verify", "--clinic", "nope"], "There is no clinic with the slug 'nope'."),
    ],
    ids=["duplicate-slug", "bad-slug", "bad-timezone", "bad-role", "short-pin", "long-ttl", "unknown-device",
         "unknown-clinic"],
)
def test_refusals_name_their_reason(in_process: InProcess, argv: list[str], message: str) -> None:
    assert in_process("create-clinic", "--name", "Glow", "--slug", "glow")[0] == 0
    code, out, err = in_process(*argv)
    assert_one_line_failure(code, err, message)
    assert out == ""


def test_staff_names_are_unique_in_a_clinic_and_roles_are_forgiving(in_process: InProcess) -> None:
    in_process("create-clinic", "--name", "Glow", "--slug", "glow")
    code, out, _ = in_process("create-staff", "--clinic", "glow", "--name", "Fran  Desk", "--role", "Front-Desk",
                              "--pin", "1234")
    assert code == 0 and json.loads(out)["role"] == "front_desk" and json.loads(out)["display_name"] == "Fran Desk"
    code, _, err = in_process("create-staff", "--clinic", "glow", "--name", "Fran Desk", "--role", "owner",
                              "--pin", "1234")
    assert_one_line_failure(code, err, "already has a staff member named 'Fran Desk'")


def test_a_tampered_audit_chain_fails_verification(in_process: InProcess, admin_sql: Engine) -> None:
    clinic = json.loads(in_process("create-clinic", "--name", "Glow", "--slug", "glow")[1])
    with admin_sql.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET action = 'nothing.happened' WHERE clinic_id = :c"),
                     {"c": clinic["clinic_id"]})
    code, out, err = in_process("audit", "verify", "--clinic", "glow")
    assert_one_line_failure(code, err, "The audit chain of 'glow' is broken: entry 1 was changed after it was written.")
    assert json.loads(out)["ok"] is False


# In-process: argument handling (fast; no database needed).

@pytest.mark.parametrize(
    "command",
    [["serve"], ["migrate"], ["create-clinic"], ["create-staff"], ["enrollment-code"], ["revoke-device"],
     ["audit"], ["audit", "verify"], ["demo"]],
)
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([*command, "--help"])
    assert exit_.value.code == 0
    assert "usage: python -m sync_server" in capsys.readouterr().out


def test_a_bad_setting_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GLOWDESK_DATABASE_URL", "mysql://nope")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: setting GLOWDESK_DATABASE_URL: ") and err.count("\n") == 1


@pytest.mark.postgres
def test_postgresql_commands_refuse_an_unmigrated_database(
    pg_scratch: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_scratch.create()  # type: ignore[attr-defined]
    monkeypatch.setenv("GLOWDESK_DATABASE_URL", url)
    monkeypatch.setenv("GLOWDESK_SECRET_KEY", "k")
    assert main(["create-clinic", "--name", "Glow", "--slug", "glow"]) == 1
    assert "run `python -m sync_server migrate` first" in capsys.readouterr().err
