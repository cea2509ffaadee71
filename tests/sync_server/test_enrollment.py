"""Enrolling a workstation with a one-time, expiring code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from core.permissions import Role
from sync_server.clinics.models import Device
from sync_server.db import Database

from .conftest import PIN, World


def _device_count(admin_sql: Engine) -> int:
    with admin_sql.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Device.__table__)).scalar_one())


def test_enrollment_returns_a_credential_the_clinic_and_its_staff(
    client: TestClient, world: World, admin_sql: Engine
) -> None:
    clinic = world.clinic("glow", "Glow Med Spa")
    owner = world.staff(clinic, Role.OWNER, "Olivia Owner")
    world.staff(clinic, Role.PROVIDER, "Old Provider", active=False)
    code = world.code(clinic)

    response = client.post("/api/v1/enroll", json={"code": code, "device_name": "Front desk PC"})

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["device_token"].startswith("gdd_")
    assert body["device"]["name"] == "Front desk PC"
    assert body["clinic"] == {
        "id": clinic.id, "slug": "glow", "name": "Glow Med Spa", "timezone": "America/Los_Angeles",
        "region": "US", "currency": "USD",
    }
    # Only active staff, with what offline sign-in needs.
    assert [(s["id"], s["display_name"], s["role"]) for s in body["staff"]] == [(owner, "Olivia Owner", "owner")]
    from argon2 import PasswordHasher

    assert PasswordHasher().verify(body["staff"][0]["pin_hash"], PIN)

    # The credential works, and neither it nor the code is stored in the clear.
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['device_token']}"})
    assert me.json()["device"]["id"] == body["device"]["id"]
    with admin_sql.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM device")).scalars().all()
        codes = conn.execute(text("SELECT code_hash FROM enrollment_code")).scalars().all()
    assert body["device_token"] not in stored and len(stored[0]) == 64
    assert code not in codes and code.replace("-", "") not in codes


def test_codes_are_forgiving_about_case_dashes_and_lookalike_letters(client: TestClient, world: World) -> None:
    clinic = world.clinic("glow")
    code = world.code(clinic)
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    response = client.post("/api/v1/enroll", json={"code": typed, "device_name": "Room 2"})
    assert response.status_code == 201, response.text


def test_a_code_works_once(client: TestClient, world: World, admin_sql: Engine) -> None:
    clinic = world.clinic("glow")
    code = world.code(clinic)
    assert client.post("/api/v1/enroll", json={"code": code, "device_name": "One"}).status_code == 201

    again = client.post("/api/v1/enroll", json={"code": code, "device_name": "Two"})

    assert again.status_code == 401
    assert again.json() == {
        "detail": "This enrollment code was already used. Ask your administrator for a new one.",
        "code": "enrollment_code_refused",
    }
    assert _device_count(admin_sql) == 1


def test_an_expired_code_is_refused(client: TestClient, world: World, admin_sql: Engine) -> None:
    clinic = world.clinic("glow")
    issued_at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(issued_at, tick=False):
        code = world.code(clinic, ttl=timedelta(minutes=30))
    with time_machine.travel(issued_at + timedelta(minutes=29), tick=False):
        still_fresh = world.code(clinic, ttl=timedelta(minutes=30))

    with time_machine.travel(issued_at + timedelta(minutes=30, seconds=1), tick=False):
        late = client.post("/api/v1/enroll", json={"code": code, "device_name": "Late"})
        fresh = client.post("/api/v1/enroll", json={"code": still_fresh, "device_name": "On time"})

    assert late.status_code == 401
    assert late.json()["detail"] == (
        "This enrollment code expired at 2026-03-02 09:30 UTC. Ask your administrator for a new one."
    )
    assert fresh.status_code == 201
    assert _device_count(admin_sql) == 1


def test_unknown_and_malformed_codes_are_refused(client: TestClient, world: World) -> None:
    world.clinic("glow")
    unknown = client.post("/api/v1/enroll", json={"code": "AAAA-BBBB-CCCC-DDDD", "device_name": "X"})
    malformed = client.post("/api/v1/enroll", json={"code": "letmein", "device_name": "X"})
    assert unknown.status_code == malformed.status_code == 401
    assert "not known to this server" in unknown.json()["detail"]
    assert "not a valid enrollment code" in malformed.json()["detail"]
    assert unknown.headers["www-authenticate"] == "Bearer"


def test_a_code_issued_with_another_secret_key_is_unknown(client: TestClient, world: World, db: Database) -> None:
    """Codes are HMACs under the server's secret: a server with another key cannot redeem them."""
    from sync_server.audit.service import Actor
    from sync_server.clinics import service

    clinic = world.clinic("glow")
    with db.transaction() as session:
        service.open_clinic(session, slug=clinic.slug)
        code = service.issue_enrollment_code(
            session, clinic_id=clinic.id, ttl=timedelta(hours=1), secret_key="another-key",
            now=datetime.now(UTC), actor=Actor.cli(),
        ).code
    assert client.post("/api/v1/enroll", json={"code": code, "device_name": "X"}).status_code == 401


def test_enrollment_is_audited(client: TestClient, world: World) -> None:
    clinic = world.clinic("glow")
    owner = world.staff(clinic, Role.OWNER)
    body = client.post("/api/v1/enroll", json={"code": world.code(clinic), "device_name": "PC"}).json()
    report = client.get(
        "/api/v1/audit/verify",
        headers={"Authorization": f"Bearer {body['device_token']}", "X-Glowdesk-Staff": owner},
    ).json()
    # clinic.create, enrollment_code.issue, device.enroll (staff rows here come from a factory)
    assert report == {"ok": True, "checked": 3, "broken_seq": None, "reason": None}


def test_a_malformed_body_is_refused_in_the_usual_shape(client: TestClient) -> None:
    response = client.post("/api/v1/enroll", json={"code": "AAAA-BBBB-CCCC-DDDD"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_request"
    assert body["detail"] == "The request is not valid: device_name: Field required."
    assert body["errors"] == [{"loc": ["body", "device_name"], "msg": "Field required"}]
