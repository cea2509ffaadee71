"""Every way opening or writing the store can fail ends in a StoreError with a sentence to act on.

All on real SQLCipher files; the damage (lost key, wrong key, flipped bytes, truncation, a full
disk, a folder the user may not write to) is done for real, never simulated with mocks.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
import sqlalchemy as sa

from app.db import errors
from app.db.errors import (
    CorruptStoreError,
    DiskFullError,
    KeyFileUnreadableError,
    NoKeychainError,
    NoKeyError,
    ReadOnlyStoreError,
    StoreError,
    WrongKeyError,
)
from app.db.keys import KEY_FILE_ENV, KEYRING_SERVICE, forget_keyring_key
from app.db.store import open_store
from app.repositories import audit, patients
from app.repositories.uow import unit_of_work
from tests.app.db._support import add_patient, downgrade_to_0001, new_patient, owner, scalar

SECRET_NAMES = ("Wilhelmina", "Pemberton-Vasquez", "wilhelmina.pv@examplemail.com", "4155550168")
REPO = Path(__file__).resolve().parents[3]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def seeded(home: Path) -> Path:
    store = open_store(home)
    add_patient(store, "Wilhelmina", "Pemberton-Vasquez", phone="+14155550168",
                email="wilhelmina.pv@examplemail.com")
    store.close()
    return home / "glowdesk.db"


def big_store(home: Path, rows: int = 400) -> Path:
    """A store whose file is mostly patient pages (one ~3 KB row per page)."""
    store = open_store(home)
    with store.session() as s:
        s.execute(
            sa.text(
                "INSERT INTO patient (id, clinic_id, first_name, last_name, address, consents, tags, vip,"
                " first_touch, version, hlc, deleted, created_at, updated_at, notes) VALUES (:id, 'c',"
                " 'Wilhelmina', 'Pemberton-Vasquez', '{}', '{}', '[]', 0, '{}', 1, 'h', 0,"
                " '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', :notes)"
            ),
            [{"id": f"p{i:035d}", "notes": os.urandom(1500).hex()} for i in range(rows)],
        )
    store.close()
    return home / "glowdesk.db"


def assert_front_desk_sentence(err: StoreError) -> None:
    message = err.user_message
    assert message == str(err)
    assert message.endswith(".") and len(message.split()) >= 8
    assert "Traceback" not in message and "sqlite" not in message.lower()
    for secret in SECRET_NAMES:
        assert secret not in message


def assert_logs_clean(caplog: pytest.LogCaptureFixture) -> None:
    for secret in SECRET_NAMES:
        assert secret.lower() not in caplog.text.lower()


def test_every_store_error_is_a_store_error_with_its_own_code() -> None:
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, StoreError)]
    assert len(classes) >= 8
    codes = [c.code for c in classes]
    assert len(set(codes)) == len(codes)


# --- the key ----------------------------------------------------------------------------------


def test_existing_database_with_its_keychain_entry_deleted(home: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    db = seeded(home)
    before = sha(db)
    forget_keyring_key(home)
    with pytest.raises(NoKeyError) as err:
        open_store(home)
    assert "keychain" in str(err.value)
    assert_front_desk_sentence(err.value)
    assert sha(db) == before  # never replaced by a new, empty database under a new key
    assert_logs_clean(caplog)


def test_existing_database_with_its_key_file_missing(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "keys" / "glowdesk.key"
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    db = seeded(home)
    before = sha(db)
    key_file.unlink()
    with pytest.raises(NoKeyError) as err:
        open_store(home)
    assert str(key_file) in str(err.value)
    assert_front_desk_sentence(err.value)
    assert not key_file.exists()  # no new key made for an existing database
    assert sha(db) == before


def test_wrong_key_in_the_keychain(home: Path, memory_keyring, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    db = seeded(home)
    before = sha(db)
    (entry,) = [k for k in memory_keyring.items if k[0] == KEYRING_SERVICE]
    memory_keyring.items[entry] = os.urandom(32).hex()
    with pytest.raises(WrongKeyError) as err:
        open_store(home)
    assert_front_desk_sentence(err.value)
    assert sha(db) == before
    assert_logs_clean(caplog)


def test_wrong_key_is_still_named_when_the_key_check_file_is_gone(home: Path, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    seeded(home)
    (home / "glowdesk.keycheck").unlink()
    (entry,) = [k for k in memory_keyring.items if k[0] == KEYRING_SERVICE]
    memory_keyring.items[entry] = os.urandom(32).hex()
    with pytest.raises(WrongKeyError):
        open_store(home)


def test_another_workstations_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "a.key"))
    seeded(tmp_path / "a")
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "b.key"))
    open_store(tmp_path / "b").close()
    (tmp_path / "a.key").write_bytes((tmp_path / "b.key").read_bytes())
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "a.key"))
    with pytest.raises(WrongKeyError):
        open_store(tmp_path / "a")


def test_a_key_file_that_is_not_a_key(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "glowdesk.key"
    key_file.write_text("hunter2\n")
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    with pytest.raises(StoreError, match="not a Glowdesk key"):
        open_store(home)
    assert not (home / "glowdesk.db").exists()


def test_no_keychain_and_no_key_file_refuses_and_writes_nothing(home: Path) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    with pytest.raises(NoKeychainError) as err:
        open_store(home)
    assert "GLOWDESK_KEY_FILE" in str(err.value)
    assert_front_desk_sentence(err.value)
    assert not (home / "glowdesk.db").exists()
    assert not [f for f in home.rglob("*") if f.is_file()]  # no plaintext fallback, nothing at all


def test_key_file_is_created_private_and_used(home: Path, tmp_path: Path, memory_keyring, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    key_file = tmp_path / "it" / "glowdesk.key"
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    pid = add_patient(store := open_store(home), "Wilhelmina", "Pemberton-Vasquez")
    store.close()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(bytes.fromhex(key_file.read_text().strip())) == 32
    assert memory_keyring.items == {}  # the keychain was not touched
    again = open_store(home)  # the same file opens it again
    assert scalar(again, "SELECT first_name FROM patient WHERE id = :id", id=pid) == "Wilhelmina"
    again.close()
    monkeypatch.delenv(KEY_FILE_ENV)
    with pytest.raises(NoKeyError):  # without the file the keychain has no key for it
        open_store(home)


# --- damaged files ----------------------------------------------------------------------------


def test_bytes_overwritten_in_the_middle_are_reported_as_corruption(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    db = big_store(home)
    size = db.stat().st_size
    with db.open("r+b") as fh:
        fh.seek(size // 2)
        fh.write(os.urandom(200))
    raised: list[StoreError] = []
    try:
        store = open_store(home)
    except CorruptStoreError as exc:
        raised.append(exc)
    else:
        try:
            with pytest.raises(CorruptStoreError) as err:
                with store.session() as s:
                    s.execute(sa.text("SELECT id, notes FROM patient")).all()
            raised.append(err.value)
            # later queries on the same store, such as a search, keep saying so
            with pytest.raises(CorruptStoreError):
                with unit_of_work(store, owner(store)) as ctx:
                    patients.search(ctx, "wilhelmina")
        finally:
            store.close()
    assert_front_desk_sentence(raised[0])
    assert "backups" in str(raised[0])
    assert_logs_clean(caplog)


def test_a_damaged_first_page_is_reported_at_open(home: Path) -> None:
    db = seeded(home)
    with db.open("r+b") as fh:
        fh.seek(100)
        fh.write(b"\x00" * 100)
    with pytest.raises(CorruptStoreError):
        open_store(home)


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda size: size // 2 + 100, id="mid-page"),
        pytest.param(lambda size: (size // 8192) * 4096, id="half-on-a-page-boundary"),
        pytest.param(lambda size: 4096, id="first-page-only"),
        pytest.param(lambda size: 1000, id="inside-the-header"),
        pytest.param(lambda size: 0, id="empty"),
    ],
)
def test_a_truncated_file_is_reported_as_corruption(home: Path, cut) -> None:  # type: ignore[no-untyped-def]
    db = big_store(home, rows=60)
    os.truncate(db, cut(db.stat().st_size))
    try:
        store = open_store(home)
    except CorruptStoreError as exc:
        assert_front_desk_sentence(exc)
        return
    try:
        with pytest.raises(CorruptStoreError):
            with store.session() as s:
                s.execute(sa.text("SELECT id, notes FROM patient")).all()
    finally:
        store.close()


def test_an_interrupted_first_open_does_not_block_the_next_one(home: Path) -> None:
    # a brand-new workstation whose first open stopped before the database file got any data
    home.mkdir()
    (home / "glowdesk.db").touch()
    store = open_store(home)
    store.close()
    store = open_store(home)
    assert scalar(store, "SELECT count(*) FROM patient") == 0
    store.close()


# --- a full disk ------------------------------------------------------------------------------


def test_a_full_disk_says_so_and_leaves_nothing_half_written(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = open_store(home)
    kept = add_patient(store, "Ada", "Keeping", phone="+14155550100")
    counts = {t: scalar(store, f"SELECT count(*) FROM {t}") for t in ("patient", "outbox", "audit_log")}
    with pytest.raises(DiskFullError) as err:
        with unit_of_work(store, owner(store)) as ctx:
            pages = ctx.session.execute(sa.text("PRAGMA page_count")).scalar()
            # SQLite really runs out of pages: the file may not grow past its current size
            ctx.session.execute(sa.text(f"PRAGMA max_page_count = {pages}"))
            patients.create(
                ctx,
                new_patient("Wilhelmina", "Pemberton-Vasquez", phone="+14155550168",
                            email="wilhelmina.pv@examplemail.com", notes="n" * 2_000_000),
            )
    assert_front_desk_sentence(err.value)
    assert "Nothing was half-saved" in str(err.value)
    assert "disk_full" in caplog.text
    assert_logs_clean(caplog)
    store.close()

    again = open_store(home)  # a fresh connection: no page limit
    try:
        assert {t: scalar(again, f"SELECT count(*) FROM {t}") for t in counts} == counts
        with unit_of_work(again, owner(again)) as ctx:
            assert patients.search(ctx, "wilhelmina") == []
            assert [h.id for h in patients.search(ctx, "keeping")] == [kept]
            assert audit.verify(ctx.session).ok
        add_patient(again, "Wilhelmina", "Pemberton-Vasquez")  # and it works once there is room
    finally:
        again.close()


# --- a data folder the user may not write to --------------------------------------------------
#
# CI runs as root, for whom chmod changes nothing. The store is opened in a child process that
# drops to the unprivileged user `nobody` after importing (the interpreter lives under /root,
# which nobody may not read), so the kernel really refuses the writes. One child opens every
# scenario, each with its own data folder and key file.

CHILD = r"""
import json, os, sys
import encodings.ascii, encodings.utf_8, encodings.latin_1  # noqa: F401  (nobody cannot read them later)
import sqlalchemy, sqlcipher3, alembic.command, alembic.config, alembic.script  # noqa: F401
from app.db.store import open_store
from app.db.errors import StoreError
os.setgroups([])
os.setgid(int(sys.argv[2]))
os.setuid(int(sys.argv[1]))
for arg in sys.argv[3:]:
    name, home, key_file = arg.split("::")
    os.environ["GLOWDESK_KEY_FILE"] = key_file
    try:
        store = open_store(home)
    except Exception as exc:  # reported, so one scenario's crash does not hide the others
        result = {"error": type(exc).__name__, "message": str(exc), "store_error": isinstance(exc, StoreError)}
    else:
        with store.session() as s:
            n = s.execute(sqlalchemy.text("SELECT count(*) FROM patient")).scalar()
        store.close()
        result = {"error": None, "patients": n}
    print(json.dumps({name: result}))
"""


def _nobody() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    try:
        import pwd

        entry = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def chown_tree(path: Path, user: tuple[int, int]) -> None:
    os.chown(path, *user)
    for f in path.rglob("*"):
        os.chown(f, *user)


class Scenario:
    def __init__(self, base: Path, name: str, user: tuple[int, int]) -> None:
        self.name = name
        self.home = base / name / "home"
        self.key_file = base / name / "keys" / "glowdesk.key"
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(KEY_FILE_ENV, str(self.key_file))
            seeded(self.home)
        (base / name).chmod(0o755)
        chown_tree(self.key_file.parent, user)
        chown_tree(self.home, user)
        self.before = sha(self.home / "glowdesk.db")

    def arg(self, home: Path | None = None) -> str:
        return f"{self.name}::{home or self.home}::{self.key_file}"


@pytest.fixture(scope="module")
def as_nobody() -> Iterator[dict[str, tuple[Scenario, dict[str, object]]]]:
    """Each scenario's folder as the test leaves it, and what `nobody` got opening it."""
    user = _nobody()
    if user is None:
        pytest.skip("needs root (to drop to the user `nobody`) to make a folder really read-only")
    base = Path(tempfile.mkdtemp(prefix="glowdesk-ro-", dir="/tmp"))  # tmp_path is root-only
    base.chmod(0o755)
    try:
        s = {name: Scenario(base, name, user) for name in ("owner", "folder", "file", "new", "key")}
        # the folder and its files belong to the user: everything works
        # the folder itself belongs to someone else (0755), its files to the user
        os.chown(s["folder"].home, 0, 0)
        # a database file the user may read but not write
        (s["file"].home / "glowdesk.db").chmod(0o400)
        # a data folder to be made where the user may not create one
        s["new"].key_file.unlink()
        # the key file is root's own 0600 file
        os.chown(s["key"].key_file, 0, 0)
        args = [sc.arg() for sc in s.values() if sc.name != "new"]
        args.append(s["new"].arg(base / "new" / "elsewhere" / "home"))
        (base / "new").chmod(0o755)
        os.chown(base / "new", 0, 0)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GLOWDESK_")}
        env["PYTHONPATH"] = str(REPO)
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(user[0]), str(user[1]), *args],
            env=env, cwd="/", capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, done.stderr
        results: dict[str, dict[str, object]] = {}
        for line in done.stdout.splitlines():
            results.update(json.loads(line))
        yield {name: (sc, results[name]) for name, sc in s.items()}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_the_same_store_opens_for_its_owner(as_nobody: dict[str, tuple[Scenario, dict[str, object]]]) -> None:
    _, result = as_nobody["owner"]
    assert result == {"error": None, "patients": 1}


def test_a_data_folder_the_user_may_not_write_to(as_nobody: dict[str, tuple[Scenario, dict[str, object]]]) -> None:
    scenario, result = as_nobody["folder"]
    assert result["error"] == ReadOnlyStoreError.__name__
    assert str(scenario.home) in str(result["message"])
    assert sha(scenario.home / "glowdesk.db") == scenario.before


def test_a_read_only_database_file(as_nobody: dict[str, tuple[Scenario, dict[str, object]]]) -> None:
    scenario, result = as_nobody["file"]
    assert result["error"] == ReadOnlyStoreError.__name__
    assert sha(scenario.home / "glowdesk.db") == scenario.before


def test_a_new_data_folder_where_the_user_may_not_create_one(
    as_nobody: dict[str, tuple[Scenario, dict[str, object]]],
) -> None:
    scenario, result = as_nobody["new"]
    assert result["error"] == ReadOnlyStoreError.__name__
    assert not scenario.key_file.exists()  # no key made for a database that could not be created


def test_a_key_file_the_user_may_not_read(as_nobody: dict[str, tuple[Scenario, dict[str, object]]]) -> None:
    scenario, result = as_nobody["key"]
    assert result["store_error"], f"a StoreError, not a crash: {result}"
    assert result["error"] == KeyFileUnreadableError.__name__
    assert str(scenario.key_file) in str(result["message"])


# --- a real small disk (tmpfs), where the machine lets us mount one --------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs: a disk that really fills up and can really be made read-only."""
    point = tmp_path / "disk"
    point.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"this machine does not allow mounting a tmpfs: {done.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def fill_disk(folder: Path, leave: int) -> Path:
    filler = folder / "filler.bin"
    free = shutil.disk_usage(folder).free
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(free - leave, 0))
    return filler


def test_a_backup_that_does_not_fit_is_a_disk_full_error_and_leaves_no_partial_copy(tiny_disk: Path) -> None:
    home = tiny_disk / "home"
    store = open_store(home)
    with unit_of_work(store, owner(store)) as ctx:
        patients.create_many(ctx, (new_patient(f"Filler{i}", "Patient", notes="n" * 1500) for i in range(200)),
                             reason="test")
    store.close()
    downgrade_to_0001(home)
    db = home / "glowdesk.db"
    before = sha(db)
    filler = fill_disk(tiny_disk, leave=db.stat().st_size // 2)
    with pytest.raises(DiskFullError):
        open_store(home)
    assert sha(db) == before  # not migrated without a backup
    assert not [p for p in (home / "backups").iterdir()]  # and no half copy passing for one
    filler.unlink()
    store = open_store(home)  # once there is room, the upgrade goes through
    store.close()
    assert len(list((home / "backups").glob("glowdesk-*.db"))) == 1


def test_a_disk_that_fills_up_during_a_write(tiny_disk: Path) -> None:
    home = tiny_disk / "home"
    store = open_store(home)
    kept = add_patient(store, "Ada", "Keeping")
    fill_disk(tiny_disk, leave=64 * 1024)
    try:
        with pytest.raises(DiskFullError):
            with unit_of_work(store, owner(store)) as ctx:
                patients.create_many(
                    ctx, (new_patient("Wilhelmina", "Pemberton-Vasquez", notes="n" * 3000) for _ in range(100)),
                    reason="test",
                )
        assert scalar(store, "SELECT count(*) FROM patient") == 1
        assert scalar(store, "SELECT id FROM patient") == kept
    finally:
        store.close()


def test_a_read_only_disk(tiny_disk: Path) -> None:
    home = tiny_disk / "home"
    seeded(home)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    with pytest.raises(ReadOnlyStoreError) as err:
        open_store(home)
    assert str(home) in str(err.value)
    assert_front_desk_sentence(err.value)
