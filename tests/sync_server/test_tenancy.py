"""One server, many clinics: crafted requests and, on PostgreSQL, row-level security."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from core.ids import new_id
from core.permissions import Role
from sync_server import security, tenancy
from sync_server.app import create_app
from sync_server.audit.models import AuditEntry
from sync_server.clinics.models import Clinic, Device, Staff
from sync_server.db import Database
from sync_server.migrations.models import load_all_models
from sync_server.settings import Settings

from .conftest import SECRET, Personas, World


def test_another_clinics_device_is_not_found_by_id(client: TestClient, personas: Personas) -> None:
    headers = personas.device_a.headers(personas.owner)
    response = client.get(f"/api/v1/devices/{personas.device_b.id}", headers=headers)
    assert response.status_code == 404
    assert "B front desk" not in response.text
    assert response.json() == {"detail": "There is no such workstation in this clinic.", "code": "not_found"}


def test_another_clinics_device_cannot_be_revoked(client: TestClient, personas: Personas) -> None:
    response = client.post(
        f"/api/v1/devices/{personas.device_b.id}/revoke", headers=personas.device_a.headers(personas.owner)
    )
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=personas.device_b.headers()).status_code == 200


def test_lists_only_show_the_devices_own_clinic(client: TestClient, personas: Personas) -> None:
    staff = client.get("/api/v1/staff", headers=personas.device_a.headers()).json()
    devices = client.get("/api/v1/devices", headers=personas.device_a.headers(personas.owner)).json()
    assert personas.b_owner not in {s["id"] for s in staff}
    assert len(staff) == 5
    assert [d["id"] for d in devices] == [personas.device_a.id]


def test_the_clinic_comes_from_the_credential_not_from_the_request(client: TestClient, personas: Personas) -> None:
    """A device of A naming B's staff member (or B's clinic in a header) is still a device of A."""
    headers = {**personas.device_a.headers(personas.b_owner), "X-Glowdesk-Clinic": personas.b.id}
    assert client.get("/api/v1/devices", headers=headers).status_code == 403
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["clinic"]["id"] == personas.a.id


# --- PostgreSQL row-level security -----------------------------------------------------------

pg_only = pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)


@pg_only
def test_rls_hides_other_clinics_from_a_query_that_forgets_its_filter(db: Database, personas: Personas) -> None:
    with db.transaction(write=False, app_role=True) as session:
        tenancy.enter_clinic(session, personas.a.id)
        assert session.execute(text("SELECT current_user")).scalar_one() == tenancy.APP_ROLE
        # No clinic_id filter anywhere below: RLS supplies it.
        staff = session.execute(select(Staff)).scalars().all()
        devices = session.execute(select(Device)).scalars().all()
        audit = session.execute(select(AuditEntry)).scalars().all()
        clinics = session.execute(select(Clinic)).scalars().all()
    assert {s.clinic_id for s in staff} == {personas.a.id} and len(staff) == 5
    assert [d.id for d in devices] == [personas.device_a.id]
    assert audit and {e.clinic_id for e in audit} == {personas.a.id}
    assert [c.id for c in clinics] == [personas.a.id]


@pg_only
def test_rls_shows_nothing_before_the_clinic_is_known(db: Database, personas: Personas) -> None:
    with db.transaction(write=False, app_role=True) as session:
        assert session.execute(select(Staff)).scalars().all() == []
        assert session.execute(select(Clinic)).scalars().all() == []
        # Presenting a device token's hash reveals that device, and nothing else of its clinic.
        tenancy.present_credential(session, security.hash_device_token(personas.device_b.token))
        assert [d.id for d in session.execute(select(Device)).scalars()] == [personas.device_b.id]
        assert session.execute(select(Staff)).scalars().all() == []


@pg_only
def test_rls_refuses_writing_into_another_clinic(db: Database, personas: Personas, pin_hash: str) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    session = db.session(write=True, app_role=True)
    try:
        tenancy.enter_clinic(session, personas.a.id)
        session.add(Staff(id=new_id(), clinic_id=personas.b.id, display_name="Mole", role="owner",
                          pin_hash=pin_hash, active=True, created_at=now, updated_at=now))
        with pytest.raises(DBAPIError, match="row-level security"):
            session.flush()
    finally:
        session.rollback()
        session.close()


@pg_only
def test_rls_settings_do_not_leak_into_the_next_transaction(db: Database, personas: Personas) -> None:
    # One pooled connection, so the second transaction reuses the first one's connection.
    db = Database(db.settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0}))
    with db.transaction(write=False, app_role=True) as session:
        tenancy.enter_clinic(session, personas.a.id)
        assert session.execute(select(Staff)).scalars().all()
    with db.transaction(write=False, app_role=True) as session:
        assert session.execute(select(Staff)).scalars().all() == []
        assert session.execute(text("SELECT current_setting('glowdesk.clinic_id', true)")).scalar_one() in ("", None)
    db.dispose()


@pg_only
def test_every_clinic_table_is_protected_and_not_owned_by_the_request_role(admin_sql: Engine) -> None:
    tables = [t.name for t in load_all_models().sorted_tables if "clinic_id" in t.c or t.name == "clinic"]
    with admin_sql.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner),"
            " (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)"
            " FROM pg_class c WHERE c.relname = ANY(:names) AND c.relkind = 'r'"
        ), {"names": tables}).all()
    assert sorted(r[0] for r in rows) == sorted(tables)
    for name, enabled, forced, owner, policies in rows:
        assert enabled and forced and policies >= 1, name
        assert owner != tenancy.APP_ROLE, name


@pg_only
def test_the_audit_log_is_append_only_for_the_request_role(db: Database, personas: Personas) -> None:
    for statement in ("UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(DBAPIError, match="permission denied"):
            with db.transaction(write=True, app_role=True) as session:
                tenancy.enter_clinic(session, personas.a.id)
                session.execute(text(statement))


def test_every_clinic_owned_model_carries_clinic_id() -> None:
    """A new table either belongs to a clinic (clinic_id, scoped, RLS) or is deliberately global."""
    global_tables = {"clinic"}
    for table in load_all_models().sorted_tables:
        if table.name not in global_tables:
            assert "clinic_id" in table.c, table.name
            assert not table.c.clinic_id.nullable, table.name


@pytest.mark.postgres
def test_a_non_superuser_owner_is_held_to_rls_too(pg_server: Engine, tmp_path: Path) -> None:
    """The production set-up: tables owned by an ordinary role, FORCE RLS applying to it as well.

    The DBA creates the owner and lets it switch to the request role (docs/server.md); the
    migration, the admin commands and the API then all work without superuser rights.
    """
    owner = f"glowdesk_owner_{secrets.token_hex(4)}"
    dbname = f"glowdesk_test_owner_{secrets.token_hex(4)}"
    with pg_server.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{owner}" LOGIN'))
        conn.execute(text(f'GRANT {tenancy.APP_ROLE} TO "{owner}"'))
        conn.execute(text(f'CREATE DATABASE "{dbname}" OWNER "{owner}"'))
    url = make_url(str(pg_server.url)).set(username=owner, database=dbname).render_as_string(hide_password=False)
    settings = Settings(server_home=tmp_path, database_url=url, secret_key=SECRET)
    db = Database(settings)
    try:
        db.upgrade()
        world = World(db, security.hash_pin("2468"))
        a, b = world.clinic("owner-a"), world.clinic("owner-b")
        world.staff(a, Role.OWNER, "A Owner")
        world.staff(b, Role.OWNER, "B Owner")
        device = world.device(a)
        with db.transaction(write=False) as session:  # the owner itself, no clinic chosen
            assert session.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar_one() is False
            assert session.execute(select(Staff)).scalars().all() == []
            tenancy.enter_clinic(session, a.id)
            assert [s.display_name for s in session.execute(select(Staff)).scalars()] == ["A Owner"]
        with TestClient(create_app(settings)) as client:
            assert client.get("/healthz").json()["status"] == "ok"
            assert [s["display_name"] for s in client.get("/api/v1/staff", headers=device.headers()).json()] == ["A Owner"]
    finally:
        db.dispose()
        with pg_server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{owner}"'))
