"""The database: engine per settings, sessions, transaction boundaries and migrations.

- SQLite (embedded default): WAL journal, foreign keys on, a busy timeout, and transactions
  begun by SQLAlchemy rather than by the ``sqlite3`` driver, so that a *write* transaction can
  start with ``BEGIN IMMEDIATE``: it takes the database's write lock up front instead of
  failing with "database is locked" when it upgrades a read snapshot that another writer has
  moved past. HTTP requests with an unsafe method (POST, PUT, PATCH, DELETE) and every CLI
  command that changes data are write transactions.
- PostgreSQL through psycopg 3 (``postgresql+psycopg://``). Request transactions switch to the
  RLS role (see :mod:`sync_server.tenancy`).

Services never commit. The request boundary (:func:`sync_server.deps.get_session`) and the
command boundary (:meth:`Database.transaction`) commit, or roll back on any exception.
SQL parameters never reach logs or error messages (``hide_parameters=True``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, create_engine, event, func, inspect, literal, text, type_coerce
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from sync_server import tenancy
from sync_server.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
#: The newest schema revision this code knows (a test checks it is Alembic's single head).
#: A database already there is opened without loading Alembic at all (quick commands).
SCHEMA_HEAD = "0010"
#: Execution option that makes a SQLite transaction begin with ``BEGIN IMMEDIATE``.
_WRITE = "glowdesk_write"


def make_engine(settings: Settings) -> Engine:
    """An engine for ``settings.database_url`` (connects lazily: no I/O here)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, hide_parameters=True, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    if url.get_backend_name() == "postgresql":
        return create_engine(
            url,
            hide_parameters=True,
            pool_pre_ping=True,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
    raise ValueError(f"unsupported database backend {url.get_backend_name()!r}")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (see _on_begin); pysqlite's implicit BEGIN is
        # always deferred and skips SELECTs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


class Database:
    """One engine and its session factories; built by ``create_app`` and by CLI commands."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings)
        self._write_engine = self.engine.execution_options(**{_WRITE: True})
        self._sessions = sessionmaker(expire_on_commit=False, autoflush=True)
        event.listen(self._sessions, "after_begin", _after_begin)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, *, write: bool, app_role: bool) -> Session:
        """A new session. ``write`` takes SQLite's write lock at BEGIN; ``app_role`` runs each
        transaction as the RLS role on PostgreSQL (request sessions do; admin commands don't)."""
        session = self._sessions(bind=self._write_engine if write else self.engine)
        session.info[tenancy.USE_APP_ROLE] = app_role
        return session

    @contextmanager
    def transaction(self, *, write: bool = True, app_role: bool = False) -> Iterator[Session]:
        """A unit of work for commands and jobs: commit on success, roll back on any error."""
        session = self.session(write=write, app_role=app_role)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()

    # --- schema --------------------------------------------------------------------------

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()

    def upgrade(self, revision: str = "head") -> None:
        if revision == "head" and self.current_revision() == SCHEMA_HEAD:
            return
        from alembic import command

        cfg = alembic_config()
        with self._write_engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def downgrade(self, revision: str) -> None:
        from alembic import command

        cfg = alembic_config()
        with self._write_engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)


def _after_begin(session: Session, _transaction: Any, connection: Connection) -> None:
    tenancy.apply_on_begin(session, connection)


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def script_head() -> str:
    """Alembic's head revision, read from the migration scripts (tests compare SCHEMA_HEAD)."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the server migrations have {len(heads)} heads; merge them")
    return heads[0]


def check_database(db: Database) -> str | None:
    """Round-trip to the database as a request would (RLS role included); return the revision."""
    with db.transaction(write=False, app_role=True) as session:
        session.execute(text("SELECT 1"))
        has_version = inspect(session.connection()).has_table("alembic_version")
        if not has_version:
            return None
        return session.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def insert_ignore(session: Session, table: Any, values: dict[str, Any]) -> None:
    """``INSERT ... ON CONFLICT DO NOTHING`` on either backend (idempotent row creation)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(table).values(**values).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(table).values(**values).on_conflict_do_nothing())


def utc_text(session: Session, column: Any) -> Any:
    """A timestamp column read as its wire text (``2026-11-22T13:53:35.123456Z``), formatted by
    the database: reading a whole table (the data export) without a Python datetime per value.
    SQLite stores ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC, always with microseconds)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    raw = type_coerce(column, String)
    return func.substr(raw, 1, 10) + literal("T") + func.substr(raw, 12) + literal("Z")
