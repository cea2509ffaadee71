"""Opening the encrypted store: key, SQLCipher engine, error translation, backup and migration."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.db import schema
from app.db.errors import (
    CorruptStoreError,
    DatabaseTooNewError,
    DiskFullError,
    ReadOnlyStoreError,
    StoreError,
    WrongKeyError,
)
from app.db.keys import DatabaseKey, load_key
from core.clock import Clock, HybridLogicalClock, SystemClock

log = logging.getLogger(__name__)

DB_NAME = "glowdesk.db"
KEYCHECK_NAME = "glowdesk.keycheck"
BACKUP_DIR = "backups"
KEEP_BACKUPS = 5
PAGE_SIZE = 4096
#: local_setting key: an HLC stamp at least as new as any this device wrote (see Store._seed_hlc)
HLC_HIGH_WATER = "hlc_high_water"


def translate(exc: BaseException, path: Path) -> StoreError | None:
    """Map a SQLite/SQLCipher/OS error onto the store error a person can act on."""
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, OSError):
        if orig.errno == errno.ENOSPC:
            return DiskFullError()
        if orig.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return ReadOnlyStoreError(str(path.parent))
        return None
    message = str(orig).lower()
    if "disk is full" in message or "database or disk is full" in message:
        return DiskFullError()
    if "readonly" in message or "read-only" in message:
        return ReadOnlyStoreError(str(path.parent))
    if "unable to open database file" in message:
        return ReadOnlyStoreError(str(path.parent))
    if "malformed" in message or "corrupt" in message or "disk i/o error" in message:
        return CorruptStoreError()
    if "file is not a database" in message or "not a database" in message:
        return CorruptStoreError()
    if "vtable constructor failed" in message:
        # the FTS5 index cannot read its shadow tables: what a damaged page leaves behind
        return CorruptStoreError()
    return None


class Store:
    """An open encrypted store: the engine, a session factory and this device's clocks."""

    def __init__(self, home: Path, engine: Engine, key: DatabaseKey, clock: Clock) -> None:
        self.home = home
        self.path = home / DB_NAME
        self.engine = engine
        self.key_source = key.source
        self.clock = clock
        self._sessions = sessionmaker(engine, expire_on_commit=False, autoflush=True)
        self.device_id = self._ensure_device_id()
        self.hlc = HybridLogicalClock(self.device_id, clock)
        self._seed_hlc()

    def _ensure_device_id(self) -> str:
        with self.session() as s:
            row = s.execute(
                sa.text("SELECT value FROM local_setting WHERE key = 'device_id'")
            ).scalar_one_or_none()
            if row is not None:
                return str(json.loads(row))
            device_id = secrets.token_hex(8)
            s.execute(
                sa.text("INSERT INTO local_setting(key, value) VALUES ('device_id', :v)"),
                {"v": f'"{device_id}"'},
            )
            return device_id

    def _seed_hlc(self) -> None:
        """Continue after the newest stamp already written here, whatever the wall clock says.

        The newest local change is the last outbox entry; whoever prunes acknowledged entries
        keeps ``HLC_HIGH_WATER`` (a local setting) at least as new as what was pruned.
        """
        with self.session() as s:
            tail = s.execute(
                sa.text("SELECT hlc FROM outbox ORDER BY seq DESC LIMIT 1")
            ).scalar_one_or_none()
            mark = s.execute(
                sa.text("SELECT value FROM local_setting WHERE key = :k"), {"k": HLC_HIGH_WATER}
            ).scalar_one_or_none()
        for value in (tail, json.loads(mark) if mark else None):
            if isinstance(value, str) and value:
                with contextlib.suppress(ValueError):
                    self.hlc.seed(value)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: commits on success, rolls back on error; errors are translated."""
        s = self._sessions()
        try:
            with s.begin():
                yield s
        except (DBAPIError, sqlite3.Error, OSError) as exc:
            mapped = translate(exc, self.path)
            if mapped is None:
                raise
            log.error("store error: %s", mapped.code)
            raise mapped from exc
        finally:
            s.close()

    def checkpoint(self) -> None:
        with self.engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.checkpoint()
        self.engine.dispose()


def _make_engine(path: Path, key: DatabaseKey | None) -> Engine:
    """SQLCipher engine keyed with the raw key. ``key=None`` builds a *plain* SQLite engine and
    exists only so benchmarks can compare against it; the app never passes None."""
    if key is None:
        url = URL.create("sqlite", database=str(path))
    else:
        url = URL.create("sqlite+pysqlcipher", password=f"x'{key.hex}'", database=str(path))
    engine = sa.create_engine(url, hide_parameters=True, pool_pre_ping=False)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        # a wrong key shows up on the first read, not at PRAGMA key: check right away
        cur.execute("SELECT count(*) FROM sqlite_master")
        cur.fetchone()
        for pragma in (
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA temp_store = MEMORY",
            "PRAGMA cache_size = -32000",
            "PRAGMA busy_timeout = 5000",
        ):
            cur.execute(pragma)
            cur.fetchall()
        cur.close()

    return engine


def _backup(path: Path, revision: str | None, clock: Clock) -> Path:
    folder = path.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = clock.now().astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"glowdesk-{stamp}-schema-{revision or 'none'}.db"
    # copy under a temporary name first: a copy cut short (full disk) never counts as a backup
    partial = target.with_name(target.name + ".partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out, path.open("rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    backups = sorted(folder.glob("glowdesk-*.db"))
    for old in backups[:-KEEP_BACKUPS]:
        old.unlink(missing_ok=True)
    log.info("backed up the store before migrating (kept %d)", min(len(backups), KEEP_BACKUPS))
    return target


def _check_key(home: Path, key: DatabaseKey, *, existed: bool) -> None:
    """Tell a wrong key from a damaged file before SQLCipher has to guess (existing stores)."""
    check = home / KEYCHECK_NAME
    if existed and check.exists():
        if check.read_text(encoding="ascii", errors="replace").strip() != key.check_value():
            raise WrongKeyError()


def _write_key_check(home: Path, key: DatabaseKey) -> None:
    """Record which key opens this store, once it has opened (or been created) with it.

    Written only after success, so a first open that stops half-way never leaves a check file
    behind that would make an empty database look like a damaged one.
    """
    check = home / KEYCHECK_NAME
    value = key.check_value()
    with contextlib.suppress(OSError):
        if check.exists() and check.read_text(encoding="ascii", errors="replace").strip() == value:
            return
        tmp = check.with_suffix(".tmp")
        tmp.write_text(value + "\n", encoding="ascii")
        os.replace(tmp, check)


def open_store(
    home: Path,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    plaintext_for_benchmark: bool = False,
) -> Store:
    """Open (creating if needed) the encrypted store in ``home``, migrating it to this version."""
    clock = clock or SystemClock()
    home = Path(home)
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise translate(exc, home / DB_NAME) or ReadOnlyStoreError(str(home)) from exc
    path = home / DB_NAME
    existed = path.exists() and path.stat().st_size > 0
    if existed and not os.access(path, os.W_OK) or not os.access(home, os.W_OK):
        raise ReadOnlyStoreError(str(home))
    if path.exists() and not existed and (home / KEYCHECK_NAME).exists():
        # a store that was opened here before is now an empty file: never start over silently
        raise CorruptStoreError("the file is empty")
    if plaintext_for_benchmark:
        key = None
        engine = _make_engine(path, None)
        dbkey = DatabaseKey(b"\0" * 32, "none (benchmark)")
    else:
        dbkey = load_key(home, create=not existed)
        _check_key(home, dbkey, existed=existed)
        key = dbkey
        engine = _make_engine(path, key)
    if existed and path.stat().st_size % PAGE_SIZE:
        engine.dispose()
        raise CorruptStoreError("the file is truncated")
    try:
        try:
            current = schema.current_revision(engine)
        except DBAPIError as exc:
            mapped = translate(exc, path)
            if isinstance(mapped, CorruptStoreError) and not existed:
                raise mapped from exc
            if isinstance(mapped, CorruptStoreError) and (home / KEYCHECK_NAME).exists():
                raise CorruptStoreError() from exc
            if isinstance(mapped, CorruptStoreError):
                # no key check file to tell them apart: say both
                raise WrongKeyError() from exc
            raise (mapped or exc) from exc
        if current != schema.HEAD:
            if current is not None and current not in schema.REVISIONS:
                raise DatabaseTooNewError(current)
            if not migrate:
                raise StoreError(
                    "This Glowdesk database needs an upgrade before it can be used here. "
                    "Start the Glowdesk app once to upgrade it (a backup is made first)."
                )
            if current is not None:
                with engine.connect() as c:
                    c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                _backup(path, current, clock)
            schema.upgrade(engine)
            os.chmod(path, 0o600)
    except StoreError:
        engine.dispose()
        raise
    except (DBAPIError, OSError) as exc:
        engine.dispose()
        mapped = translate(exc, path)
        if mapped is None:
            raise
        raise mapped from exc
    try:
        store = Store(home, engine, dbkey, clock)
    except BaseException:
        engine.dispose()
        raise
    if not plaintext_for_benchmark:
        _write_key_check(home, dbkey)
    return store
