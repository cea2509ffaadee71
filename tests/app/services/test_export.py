"""The workstation's data export: owners only, audited, valid FHIR, counts that match the store."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db.store import Store, open_store
from app.repositories import export_reads
from app.repositories.uow import system_actor, unit_of_work
from app.services.audit import verify_chain
from app.services.demo import generate_demo
from app.services.export import ExportNotAllowed, export_data
from app.services.staff import sign_in
from app.services.workspace import open_workspace
from core.clock import FixedClock
from core.ids import new_id
from tests.fhir_check import check_export, read_csv

NOW = datetime(2026, 11, 20, 19, 30, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A demo clinic of 120 clients, one merged into another and one deleted."""
    folder = tmp_path_factory.mktemp("export-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GLOWDESK_KEY_FILE", str(folder / "db.key"))
        store = open_store(folder / "home", clock=FixedClock(NOW))
        generate_demo(store, patients=120, seed=7, now=NOW)
        with store.session() as s:
            first, second, third = s.execute(sa.text("SELECT id FROM patient ORDER BY id LIMIT 3")).scalars()
            s.execute(sa.text("UPDATE patient SET deleted = 1, merged_into = :to WHERE id = :id"), {"to": first, "id": second})
            s.execute(sa.text("UPDATE patient SET deleted = 1 WHERE id = :id"), {"id": third})
        store.close()
    yield folder


@pytest.fixture
def store(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("GLOWDESK_KEY_FILE", str(home / "db.key"))
    s = open_store(home / "home", clock=FixedClock(NOW))
    yield s
    s.close()


def _count(store: Store, sql: str) -> int:
    with store.session() as s:
        return int(s.execute(sa.text(sql)).scalar_one())


def _clinic(store: Store):  # type: ignore[no-untyped-def]
    ws = open_workspace(store.home)
    try:
        return ws.require_clinic()
    finally:
        ws.close()


def test_the_owner_exports_every_record_as_valid_fhir_with_counts_that_match_the_store(
        store: Store, tmp_path: Path) -> None:
    owner = sign_in(store, name="Olivia Owens", pin="1234")
    clinic = _clinic(store)
    out = tmp_path / "export"
    manifest = export_data(store, actor=owner, clinic=clinic, out=out)

    data, resources = check_export(out)  # checksums, sizes, counts, and every resource validates (R4B)
    live = "deleted = 0"
    expected = {
        "Organization": 1,
        "Location": _count(store, f"SELECT count(*) FROM location WHERE {live}")
        + _count(store, f"SELECT count(*) FROM room WHERE {live}"),
        "Device": _count(store, f"SELECT count(*) FROM device WHERE {live}"),
        "Practitioner": _count(store, f"SELECT count(*) FROM staff WHERE {live}"),
        "PractitionerRole": _count(store, f"SELECT count(*) FROM staff WHERE {live}"),
        "HealthcareService": _count(store, f"SELECT count(*) FROM service WHERE {live}"),
        # live clients, and the one merged into another (it points at the survivor)
        "Patient": _count(store, "SELECT count(*) FROM patient WHERE deleted = 0 OR merged_into IS NOT NULL"),
        "AllergyIntolerance": _count(store, f"SELECT count(*) FROM patient WHERE {live} AND allergies <> ''"),
        "Flag": _count(store, f"SELECT count(*) FROM patient WHERE {live} AND medical_alerts <> ''"),
        "Basic": _count(store, f"SELECT count(*) FROM lead WHERE {live}"),
        "Appointment": _count(store, f"SELECT count(*) FROM appointment WHERE {live}"),
        "Communication": _count(store, f"SELECT count(*) FROM message WHERE {live}"),
        "Provenance": _count(store, f"SELECT count(*) FROM activity WHERE {live}"),
        # the whole trail, the export's own entry included
        "AuditEvent": _count(store, "SELECT count(*) FROM audit_log"),
    }
    assert data["counts"] == {k: v for k, v in expected.items() if v} and manifest.counts == data["counts"]
    assert min(expected["Patient"], expected["Appointment"], expected["Communication"], expected["Provenance"]) > 0
    assert data["source"] == "desktop" and data["clinic"]["slug"] == clinic.slug
    assert data["exported_by"]["staff_id"] == owner.staff_id
    csv_rows = {e["name"]: e["rows"] for e in data["csv"]}
    assert csv_rows["patients"] == expected["Patient"] and csv_rows["timeline"] == expected["Provenance"]
    assert csv_rows["audit"] == expected["AuditEvent"]

    merged = next(p for p in resources["Patient"] if p.get("link"))
    assert merged["active"] is False and merged["link"][0]["type"] == "replaced-by"
    patients_csv = {row["id"]: row for row in read_csv(out / "csv" / "patients.csv")}
    person = next(p for p in resources["Patient"] if p["active"] and p.get("telecom"))
    assert patients_csv[person["id"]]["phone"] == next(t["value"] for t in person["telecom"] if t["system"] == "phone")
    assert "pin_hash" not in (out / "csv" / "staff.csv").read_text()

    with store.session() as s:
        last = s.execute(sa.text("SELECT action, staff_id, entity_id, detail FROM audit_log ORDER BY seq DESC LIMIT 1")).one()
    assert (last.action, last.staff_id, last.entity_id) == ("clinic.export", owner.staff_id, clinic.id)
    assert str(out) in last.detail
    exported = next(e for e in resources["AuditEvent"] if e["subtype"][0]["code"] == "clinic.export")
    assert exported["agent"][0]["who"] == {"reference": f"Practitioner/{owner.staff_id}"}
    assert verify_chain(store).ok


@pytest.mark.parametrize("name,pin", [("Marcus Mendoza", "2468"), ("Felix Park", "5555"), ("Priya Raman", "1111")])
def test_no_one_but_an_owner_may_export(store: Store, tmp_path: Path, name: str, pin: str) -> None:
    actor = sign_in(store, name=name, pin=pin)
    trail = _count(store, "SELECT count(*) FROM audit_log")
    with pytest.raises(ExportNotAllowed, match="Only an owner"):
        export_data(store, actor=actor, clinic=_clinic(store), out=tmp_path / "out")
    with pytest.raises(ExportNotAllowed):
        export_data(store, actor=system_actor(store), clinic=_clinic(store), out=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert _count(store, "SELECT count(*) FROM audit_log") == trail


def test_the_export_reads_one_snapshot_while_the_store_changes(store: Store) -> None:
    clinic = _clinic(store)
    with unit_of_work(store, system_actor(store)) as ctx:
        export_reads.begin_snapshot(ctx)
        before = sum(1 for _ in export_reads.rows(ctx, "patient", clinic_id=clinic.id))

        def write() -> None:  # the app (another connection) writing while the export reads
            with store.session() as other:
                other.execute(sa.text("UPDATE patient SET first_name = 'Changed' WHERE id = (SELECT min(id) FROM patient)"))
                other.execute(
                    sa.text("INSERT INTO patient (id, clinic_id, first_name, last_name, address, consents, tags, vip, "
                            "first_touch, version, hlc, deleted, created_at, updated_at) SELECT :id, clinic_id, 'New', "
                            "'Client', '{}', '{}', '[]', 0, '{}', 1, hlc, 0, created_at, updated_at FROM patient LIMIT 1"),
                    {"id": new_id()})

        writer = threading.Thread(target=write)  # one connection per thread (SQLCipher's pool)
        writer.start()
        writer.join()
        after = list(export_reads.rows(ctx, "patient", clinic_id=clinic.id))
    assert len(after) == before
    assert "Changed" not in {r["first_name"] for r in after}
    assert _count(store, "SELECT count(*) FROM patient") == before + 1


# --- the command -------------------------------------------------------------------------------


def run(home: Path, *args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLOWDESK_")}
    env.update({"GLOWDESK_HOME": str(home / "home"), "GLOWDESK_KEY_FILE": str(home / "db.key"), "TMPDIR": str(tmp),
                "HOME": str(tmp)})
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_command_exports_for_an_owner_and_writes_nothing_outside_the_folder(home: Path, tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    before = {p.name for p in (home / "home").iterdir()}
    refused = run(home, "export", "--out", str(tmp_path / "a"), "--staff", "Marcus Mendoza", "--pin", "2468", tmp=tmp)
    assert refused.returncode == 1 and "Only an owner" in refused.stderr and not (tmp_path / "a").exists()

    done = run(home, "export", "--out", str(tmp_path / "b"), "--staff", "olivia owens", "--pin", "1234", tmp=tmp)
    assert done.returncode == 0, done.stderr
    assert "FHIR resources" in done.stdout and "manifest.json" in done.stdout
    check_export(tmp_path / "b", validate=False)
    again = run(home, "export", "--out", str(tmp_path / "b"), tmp=tmp)  # a demo home: its owner by default
    assert again.returncode == 1 and "not empty" in again.stderr
    # plaintext goes nowhere else: no temporary files, nothing new beside the encrypted store
    assert not any(tmp.rglob("*"))
    assert {p.name for p in (home / "home").iterdir()} <= before | {"glowdesk.db-wal", "glowdesk.db-shm"}
