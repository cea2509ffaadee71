"""The server's data export, on SQLite and PostgreSQL: owners only, audited, valid FHIR, one
clinic only, counts that match the database."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.clock import HybridLogicalClock
from core.sync import SERVER_NODE
from sync_server import security
from sync_server.audit import service as audit
from sync_server.audit.models import AuditEntry
from sync_server.clinics import service as clinics
from sync_server.db import Database
from sync_server.demo import service as demo
from sync_server.errors import Unauthenticated
from sync_server.export.service import ExportNotAllowed, export_clinic
from sync_server.records.service import ServerWrites
from sync_server.settings import Settings
from sync_server.sync import service as sync_service
from sync_server.sync.models import SyncRow
from tests.fhir_check import check_export

from .test_serve import REPO

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
_hash_pin = functools.cache(security.hash_pin)


@pytest.fixture(autouse=True)
def _one_hash_per_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeding hashes ten PINs with argon2 (its cost is the point); hash each PIN once per run."""
    monkeypatch.setattr(security, "hash_pin", _hash_pin)


@pytest.fixture
def seeded(db: Database) -> dict[str, str]:
    """The demo clinic (80 clients, one merged into another) and a second clinic with one client."""
    with db.transaction() as session:
        demo.seed_demo(session, patients=80, slug="lumiere", seed=3, now=NOW)
    with db.transaction() as session:
        clinic = clinics.open_clinic(session, slug="lumiere")
        writes = ServerWrites(session, clinic_id=clinic.id, now=NOW, hlc=HybridLogicalClock(SERVER_NODE))
        ids = session.execute(select(SyncRow.id).where(SyncRow.clinic_id == clinic.id, SyncRow.entity == "patient")
                              .order_by(SyncRow.id).limit(2)).scalars().all()
        writes.update("patient", ids[1], {"merged_into": ids[0]})
        writes.delete("patient", ids[1])
    with db.transaction() as session:
        other = clinics.create_clinic(session, name="Other Spa", slug="other", now=NOW, actor=audit.Actor.cli())
        writes = ServerWrites(session, clinic_id=other.id, now=NOW, hlc=HybridLogicalClock(SERVER_NODE))
        stranger = writes.insert("patient", {"first_name": "Stranger", "last_name": "Elsewhere"})
    return {"clinic_id": clinic.id, "merged": ids[1], "survivor": ids[0], "other_patient": stranger}


def _live(db: Database, clinic_id: str, entity: str, where: str = "") -> int:
    with db.transaction(write=False) as session:
        rows = session.execute(select(SyncRow.deleted, SyncRow.data).where(
            SyncRow.clinic_id == clinic_id, SyncRow.entity == entity)).all()
    if where == "patient":
        return sum(1 for deleted, data in rows if not deleted or data.get("merged_into"))
    if where:
        return sum(1 for deleted, data in rows if not deleted and data.get(where))
    return sum(1 for deleted, _ in rows if not deleted)


def _trail(db: Database, clinic_id: str) -> int:
    with db.transaction(write=False) as session:
        return int(session.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.clinic_id == clinic_id)).scalar_one())


def test_the_owner_exports_the_clinic_as_valid_fhir_with_counts_that_match_the_database(
        db: Database, seeded: dict[str, str], tmp_path: Path) -> None:
    clinic_id = seeded["clinic_id"]
    out = tmp_path / "export"
    manifest = export_clinic(db, slug="lumiere", staff_name="Olivia Owens", pin="1234", out=out, now=NOW)

    data, resources = check_export(out)  # checksums, sizes, counts, and every resource validates (R4B)
    expected = {
        "Organization": 1,
        "Location": _live(db, clinic_id, "location") + _live(db, clinic_id, "room"),
        "Device": _live(db, clinic_id, "device"),
        "Practitioner": _live(db, clinic_id, "staff"),
        "PractitionerRole": _live(db, clinic_id, "staff"),
        "HealthcareService": _live(db, clinic_id, "service"),
        "Patient": _live(db, clinic_id, "patient", "patient"),
        "AllergyIntolerance": _live(db, clinic_id, "patient", "allergies"),
        "Flag": _live(db, clinic_id, "patient", "medical_alerts"),
        "Basic": _live(db, clinic_id, "lead"),
        "Appointment": _live(db, clinic_id, "appointment"),
        "Communication": _live(db, clinic_id, "message"),
        "Provenance": _live(db, clinic_id, "activity"),
        "AuditEvent": _trail(db, clinic_id),  # the export's own entry included
    }
    assert data["counts"] == {k: v for k, v in expected.items() if v} and manifest.counts == data["counts"]
    assert min(expected["Patient"], expected["Appointment"], expected["Provenance"], expected["Basic"]) > 0
    assert data["source"] == "server" and data["clinic"] == {"id": clinic_id, "slug": "lumiere",
                                                              "name": "Lumière Aesthetics"}
    assert {e["name"]: e["rows"] for e in data["csv"]}["appointments"] == expected["Appointment"]

    merged = next(p for p in resources["Patient"] if p["id"] == seeded["merged"])
    assert merged["active"] is False
    assert merged["link"] == [{"other": {"reference": f"Patient/{seeded['survivor']}"}, "type": "replaced-by"}]
    everything = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert seeded["other_patient"].encode() not in everything and b"Stranger" not in everything

    with db.transaction(write=False) as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.clinic_id == clinic_id)
                                .order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
        owner = clinics.authenticate_staff(session, clinic_id=clinic_id, display_name="Olivia Owens", pin="1234")
        assert audit.verify(session, clinic_id=clinic_id).ok
    assert (entry.action, entry.staff_id, entry.entity_id) == ("clinic.export", owner.id, clinic_id)
    assert entry.detail["folder"] == str(out)
    exported = next(e for e in resources["AuditEvent"] if e["subtype"][0]["code"] == "clinic.export")
    assert exported["id"] == f"{clinic_id}.{entry.seq}"
    assert exported["agent"][0]["who"] == {"reference": f"Practitioner/{owner.id}"}


def test_the_export_reads_one_snapshot_while_the_clinic_changes(db: Database, seeded: dict[str, str], tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    clinic_id = seeded["clinic_id"]
    before = _live(db, clinic_id, "patient", "patient")
    original = sync_service.export_rows

    def export_rows(session: Any, *, clinic_id: str, entity: str) -> Iterator[dict[str, Any]]:
        if entity == "patient":  # a workstation's push lands while the export is reading

            def push() -> None:
                with db.transaction() as other:
                    clinics.open_clinic(other, slug="lumiere")
                    ServerWrites(other, clinic_id=clinic_id, now=NOW, hlc=HybridLogicalClock(SERVER_NODE)).insert(
                        "patient", {"first_name": "Late", "last_name": "Arrival"})

            writer = threading.Thread(target=push)
            writer.start()
            writer.join()
        return original(session, clinic_id=clinic_id, entity=entity)

    monkeypatch.setattr(sync_service, "export_rows", export_rows)
    manifest = export_clinic(db, slug="lumiere", staff_name="Olivia Owens", pin="1234", out=tmp_path / "e", now=NOW)
    assert manifest.counts["Patient"] == before
    assert _live(db, clinic_id, "patient", "patient") == before + 1
    # the push's own audit entry came after the snapshot, too
    assert manifest.counts["AuditEvent"] == _trail(db, clinic_id) - 1


REFUSED: list[tuple[str, str, type[Exception]]] = [
    ("Marcus Mendoza", "2468", ExportNotAllowed),  # a manager
    ("Felix Park", "5555", ExportNotAllowed),  # front desk
    ("Olivia Owens", "9999", Unauthenticated),  # the owner's name with a wrong PIN
    ("Nobody", "1234", Unauthenticated),
]


def test_no_one_but_an_owner_with_their_pin_may_export(db: Database, seeded: dict[str, str], tmp_path: Path) -> None:
    trail = _trail(db, seeded["clinic_id"])
    for name, pin, refusal in REFUSED:
        with pytest.raises(refusal):
            export_clinic(db, slug="lumiere", staff_name=name, pin=pin, out=tmp_path / "out", now=NOW)
        assert not (tmp_path / "out").exists(), name
    assert _trail(db, seeded["clinic_id"]) == trail


def _run(settings: Settings, *args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GLOWDESK_SERVER_HOME": str(settings.server_home),
           "GLOWDESK_DATABASE_URL": settings.database_url, "GLOWDESK_SECRET_KEY": settings.ensure_secret_key(),
           **(extra or {})}
    return subprocess.run([sys.executable, "-m", "sync_server", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_command_names_the_owner_and_reports_the_counts(settings: Settings, seeded: dict[str, str],
                                                            tmp_path: Path) -> None:
    nameless = _run(settings, "export", "--clinic", "lumiere", "--out", str(tmp_path / "a"))
    assert nameless.returncode == 1 and "--staff NAME --pin PIN" in nameless.stderr
    assert not (tmp_path / "a").exists()
    done = _run(settings, "export", "--clinic", "lumiere", "--out", str(tmp_path / "b"),
                extra={"GLOWDESK_STAFF": "Olivia Owens", "GLOWDESK_PIN": "1234"})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert report["counts"] == manifest["counts"] and report["resources"] == manifest["resources"] > 0
    unknown = _run(settings, "export", "--clinic", "nope", "--out", str(tmp_path / "c"), "--staff", "Olivia Owens",
                   "--pin", "1234")
    assert unknown.returncode == 1 and "no clinic" in unknown.stderr and not (tmp_path / "c").exists()
