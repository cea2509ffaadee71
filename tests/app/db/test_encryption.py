"""A stolen laptop, disk or backup gives away nothing: no name, phone or email in the raw bytes."""

from __future__ import annotations

import sqlite3
import stat
import unicodedata
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db.keys import KEY_FILE_ENV, KEYRING_SERVICE, load_key
from app.db.store import Store, _make_engine, open_store
from app.repositories import patients
from app.repositories.uow import unit_of_work
from core.phone import phone_digits
from tests.app.db._support import add_patient, downgrade_to_0001, owner

PEOPLE = [
    # first, last, phone (E.164), email, instagram
    ("Zelphinia", "Quorrington", "+14155550187", "zelphinia.quorrington@examplemail.com", "zelphiglow"),
    ("Bartholomé", "Xyloveraux", "+13105550142", "bart.xyloveraux@privatebox.net", "xylo_bart"),
    ("Ottoline", "Fernsworthy", "+442079460958", "ottoline.f@fernsworthy.co.uk", "ottofern"),
]
NEW_PHONE = "+16465550163"
ALLERGY = "Anaphylaxis to Lidocainexyz"


def needles() -> list[bytes]:
    """Every way the patients' details could appear in clear (as typed, lower case, FTS tokens)."""
    out: set[str] = set()
    for first, last, phone, email, handle in PEOPLE:
        for word in (first, last, email, handle, f"{first} {last}"):
            out |= {word, word.lower(), unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()}
        out |= {phone, phone_digits(phone), phone_digits(phone)[-10:]}
        out |= {email.split("@")[0], email.split("@")[1].split(".")[0]}
    out |= {NEW_PHONE, phone_digits(NEW_PHONE), ALLERGY, "Lidocainexyz"}
    return sorted(s.encode("utf-8") for s in out if len(s) >= 5)


def fill(store: Store) -> list[str]:
    ids = [
        add_patient(store, first, last, phone=phone, email=email, instagram_handle=handle)
        for first, last, phone, email, handle in PEOPLE
    ]
    with unit_of_work(store, owner(store)) as ctx:  # an edit and a read put values in the audit log
        p = patients.get_for_write(ctx, ids[0])
        assert p is not None
        patients.update(ctx, p, {"phone": NEW_PHONE, "allergies": ALLERGY})
        patients.get(ctx, ids[1])
    return ids


def leaked(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            data = f.read_bytes()
            hits = [n.decode() for n in needles() if n in data]
            if hits:
                found[f.name] = hits
    return found


def test_no_patient_detail_is_in_the_database_wal_or_backups_in_clear(home: Path) -> None:
    store = open_store(home)
    ids = fill(store)
    # while the app runs, recent writes sit in the -wal file
    assert (home / "glowdesk.db-wal").exists()
    assert leaked(home) == {}
    with unit_of_work(store, owner(store)) as ctx:  # the data really is there
        assert [h.id for h in patients.search(ctx, "zelphinia")] == [ids[0]]
        assert [h.id for h in patients.search(ctx, "0163")] == [ids[0]]
    store.close()
    files = {f.name for f in home.rglob("*") if f.is_file()}
    assert "glowdesk.db" in files
    assert leaked(home) == {}


def test_the_needles_would_be_found_if_they_were_there(tmp_path: Path) -> None:
    # the check above is only worth something if it finds the same details in a plain SQLite file
    plain = open_store(tmp_path / "plain", plaintext_for_benchmark=True)
    fill(plain)
    plain.close()
    found = leaked(tmp_path / "plain")
    assert "glowdesk.db" in found
    for expected in ("Quorrington", "zelphinia.quorrington@examplemail.com", "4155550187", "Lidocainexyz"):
        assert expected in found["glowdesk.db"]


def test_plain_sqlite_cannot_read_the_file(home: Path) -> None:
    store = open_store(home)
    fill(store)
    store.close()
    con = sqlite3.connect(home / "glowdesk.db")
    try:
        with pytest.raises(sqlite3.DatabaseError, match="not a database"):
            con.execute("SELECT name FROM sqlite_master").fetchall()
    finally:
        con.close()
    header = (home / "glowdesk.db").read_bytes()[:16]
    assert header != b"SQLite format 3\x00"


def test_the_data_comes_back_after_reopening(home: Path) -> None:
    store = open_store(home)
    ids = fill(store)
    device = store.device_id
    store.close()
    again = open_store(home)
    try:
        assert again.device_id == device
        with unit_of_work(again, owner(again)) as ctx:
            p = patients.get(ctx, ids[0])
            assert p is not None
            assert (p.first_name, p.last_name, p.phone, p.allergies) == (
                "Zelphinia", "Quorrington", NEW_PHONE, ALLERGY,
            )
    finally:
        again.close()


def test_the_key_is_in_the_keychain_and_nowhere_in_the_data_folder(home: Path, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    store = open_store(home)
    fill(store)
    store.close()
    (entry,) = [v for (service, _), v in memory_keyring.items.items() if service == KEYRING_SERVICE]
    assert len(bytes.fromhex(entry)) == 32
    for f in home.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert entry.encode() not in data and bytes.fromhex(entry) not in data


def test_each_data_folder_has_its_own_key(tmp_path: Path, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    a, b = open_store(tmp_path / "a"), open_store(tmp_path / "b")
    a.close()
    b.close()
    keys = [v for (service, _), v in memory_keyring.items.items() if service == KEYRING_SERVICE]
    assert len(keys) == 2 and keys[0] != keys[1]


def test_database_and_key_file_are_private_to_the_user(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "secrets" / "glowdesk.key"
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    open_store(home).close()
    assert stat.S_IMODE((home / "glowdesk.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_backups_made_before_an_upgrade_are_encrypted_too(home: Path) -> None:
    store = open_store(home)
    fill(store)
    store.close()
    downgrade_to_0001(home)
    open_store(home).close()  # the upgrade copies the file to backups/ first
    (backup,) = (home / "backups").glob("glowdesk-*.db")
    engine = _make_engine(backup, load_key(home, create=False))  # a real copy, with the patients in it
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM patient")).scalar() == len(PEOPLE)
    engine.dispose()
    assert leaked(home) == {}
    con = sqlite3.connect(backup)
    try:
        with pytest.raises(sqlite3.DatabaseError):
            con.execute("SELECT name FROM sqlite_master").fetchall()
    finally:
        con.close()
