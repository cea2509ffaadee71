"""Server test fixtures: every test runs on SQLite and on PostgreSQL, on databases built by the
real migrations.

- SQLite: the migrations build one template file per session; each test gets a copy in its own
  server home.
- PostgreSQL (``GLOWDESK_TEST_POSTGRES_URL``, default the local ``test`` database with trust
  auth): a uniquely named database is created per session from that connection, migrated once,
  emptied before each test and dropped at the end, so parallel runs never collide. When the
  server is unreachable the PostgreSQL cases are skipped with the reason.
"""

from __future__ import annotations

import os
import secrets
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

# starlette warns that its TestClient will move to httpx2; nothing for us to do yet.
warnings.filterwarnings("ignore", message=".*starlette.testclient.*")

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from core.clock import SystemClock  # noqa: E402
from core.ids import new_id  # noqa: E402
from core.permissions import Role  # noqa: E402
from sync_server import security  # noqa: E402
from sync_server.app import create_app  # noqa: E402
from sync_server.audit.service import Actor  # noqa: E402
from sync_server.clinics import service as clinics  # noqa: E402
from sync_server.clinics.models import Staff  # noqa: E402
from sync_server.db import Database  # noqa: E402
from sync_server.migrations.models import load_all_models  # noqa: E402
from sync_server.settings import SQLITE_FILENAME, Settings  # noqa: E402

PG_URL = os.environ.get(
    "GLOWDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SECRET = "test-secret-key-not-for-production"
PIN = "2468"
SERVER_ENV = (
    "GLOWDESK_SERVER_HOME", "GLOWDESK_DATABASE_URL", "GLOWDESK_PUBLIC_URL", "GLOWDESK_SECRET_KEY",
    "GLOWDESK_TWILIO_API_URL", "GLOWDESK_STRIPE_API_URL", "GLOWDESK_META_GRAPH_URL",
    "GLOWDESK_GOOGLE_ADS_API_URL", "GLOWDESK_DB_POOL_SIZE", "GLOWDESK_DB_MAX_OVERFLOW",
)


@pytest.fixture(autouse=True)
def _clean_server_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own GLOWDESK_ server settings never leak into a test."""
    for name in SERVER_ENV:
        monkeypatch.delenv(name, raising=False)


# --- databases -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("sqlite-template")
    db = Database(Settings(server_home=home, secret_key=SECRET))
    db.upgrade()
    db.dispose()  # the last connection checkpoints the WAL into the main file
    return home / SQLITE_FILENAME


@dataclass
class PostgresDatabase:
    url: str
    admin: Engine  # superuser connection to the session database (truncation, tampering)

    def reset(self) -> None:
        # DELETE is ~100x faster than TRUNCATE on a handful of tiny tables.
        with self.admin.begin() as conn:
            for table in reversed(load_all_models().sorted_tables):
                conn.execute(table.delete())


def _pg_admin_engine() -> Engine:
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        reason = " ".join(str(exc.orig or exc).split())[:200]
        where = make_url(PG_URL)
        pytest.skip(f"PostgreSQL not reachable on {where.host}:{where.port or 5432}: {reason}")
    return engine


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Engine]:
    """An AUTOCOMMIT connection to the maintenance database (creates and drops databases)."""
    engine = _pg_admin_engine()
    yield engine
    engine.dispose()


@dataclass
class ScratchDatabases:
    """Creates uniquely named PostgreSQL databases and drops them at the end of the session."""

    server: Engine
    names: list[str]

    def create(self) -> str:
        name = f"glowdesk_test_{os.getpid()}_{secrets.token_hex(4)}"
        with self.server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.server.connect() as conn:
            for name in self.names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_scratch(pg_server: Engine) -> Iterator[ScratchDatabases]:
    scratch = ScratchDatabases(pg_server, [])
    yield scratch
    scratch.drop_all()


@pytest.fixture(scope="session")
def pg_database(pg_scratch: ScratchDatabases) -> Iterator[PostgresDatabase]:
    url = pg_scratch.create()
    db = Database(Settings(database_url=url, secret_key=SECRET))
    db.upgrade()
    db.dispose()
    admin = create_engine(url)
    yield PostgresDatabase(url, admin)
    admin.dispose()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for a fresh, migrated, empty database on ``backend``."""
    home = tmp_path / "server-home"
    home.mkdir()
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), home / SQLITE_FILENAME)
        return Settings(server_home=home, secret_key=SECRET)
    pg: PostgresDatabase = request.getfixturevalue("pg_database")
    pg.reset()
    return Settings(server_home=home, database_url=pg.url, secret_key=SECRET)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()


@pytest.fixture
def admin_sql(settings: Settings, request: pytest.FixtureRequest) -> Engine:
    """A connection that bypasses the application (and, on PostgreSQL, RLS): for tampering."""
    if settings.is_postgresql:
        pg: PostgresDatabase = request.getfixturevalue("pg_database")
        return pg.admin
    engine = create_engine(settings.database_url)
    request.addfinalizer(engine.dispose)
    return engine


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


# --- personas --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pin_hash() -> str:
    """One argon2 hash for every test staff member (hashing costs ~0.1 s each)."""
    return security.hash_pin(PIN)


@dataclass
class ClinicRef:
    id: str
    slug: str


@dataclass
class DeviceRef:
    id: str
    token: str
    clinic_id: str

    def headers(self, staff_id: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if staff_id is not None:
            headers["X-Glowdesk-Staff"] = staff_id
        return headers


class World:
    """Builds clinics, staff, codes and devices through the services, as an operator would."""

    def __init__(self, db: Database, pin_hash: str) -> None:
        self.db = db
        self._pin_hash = pin_hash
        self.clock = SystemClock()

    def clinic(self, slug: str, name: str | None = None) -> ClinicRef:
        with self.db.transaction() as session:
            clinic = clinics.create_clinic(
                session, name=name or slug.title(), slug=slug, now=self.clock.now(), actor=Actor.cli()
            )
            return ClinicRef(clinic.id, clinic.slug)

    def staff(self, clinic: ClinicRef, role: Role, name: str | None = None, *, active: bool = True) -> str:
        now = self.clock.now()
        with self.db.transaction() as session:
            clinics.open_clinic(session, slug=clinic.slug)
            staff = Staff(
                id=new_id(), clinic_id=clinic.id, display_name=name or f"{role.label} {new_id()[-6:]}",
                role=role.value, pin_hash=self._pin_hash, active=active, created_at=now, updated_at=now,
            )
            session.add(staff)
            return staff.id

    def code(self, clinic: ClinicRef, ttl: timedelta = timedelta(hours=1)) -> str:
        with self.db.transaction() as session:
            clinics.open_clinic(session, slug=clinic.slug)
            return clinics.issue_enrollment_code(
                session, clinic_id=clinic.id, ttl=ttl, secret_key=SECRET, now=self.clock.now(),
                actor=Actor.cli(),
            ).code

    def device(self, clinic: ClinicRef, name: str = "Front desk PC") -> DeviceRef:
        code = self.code(clinic)
        with self.db.transaction(app_role=True) as session:
            enrollment = clinics.enroll_device(
                session, code=code, device_name=name, secret_key=SECRET, now=self.clock.now()
            )
            return DeviceRef(enrollment.device.id, enrollment.token, clinic.id)


@pytest.fixture
def world(db: Database, pin_hash: str) -> World:
    return World(db, pin_hash)


@dataclass
class Personas:
    """Clinic A with a full team and a workstation; clinic B is the outsider."""

    a: ClinicRef
    b: ClinicRef
    owner: str
    manager: str
    front_desk: str
    provider: str
    medical_director: str
    b_owner: str
    device_a: DeviceRef
    device_b: DeviceRef


@pytest.fixture
def personas(world: World) -> Personas:
    a = world.clinic("glow-a", "Glow A")
    b = world.clinic("glow-b", "Glow B")
    return Personas(
        a=a,
        b=b,
        owner=world.staff(a, Role.OWNER, "Olivia Owner"),
        manager=world.staff(a, Role.MANAGER, "Mia Manager"),
        front_desk=world.staff(a, Role.FRONT_DESK, "Fran Desk"),
        provider=world.staff(a, Role.PROVIDER, "Pat Provider"),
        medical_director=world.staff(a, Role.MEDICAL_DIRECTOR, "Dr Dana"),
        b_owner=world.staff(b, Role.OWNER, "Bea Owner"),
        device_a=world.device(a, "A front desk"),
        device_b=world.device(b, "B front desk"),
    )
