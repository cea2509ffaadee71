"""The server-side demo clinic: catalogue-valid rows, consistent staff, a believable calendar."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from core.ids import new_id
from core.sync import Op, check_field_value, entity_spec
from sync_server.clinics.models import Staff
from sync_server.db import Database
from sync_server.demo import generator
from sync_server.demo import service as demo
from sync_server.settings import Settings
from sync_server.sync import booking
from sync_server.sync.models import AppointmentSlot, SyncRow

from .conftest import ClinicRef, World
from .sync_helpers import Desk
from .test_serve import REPO

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
PINS = {"Olivia Owens": ("owner", "1234"), "Marcus Mendoza": ("manager", "2468"),
        "Dr. Diane Moreau": ("medical_director", "1357"), "Priya Raman": ("provider", "1111"),
        "Nora Kim": ("provider", "2222"), "Jasmine Okafor": ("provider", "3333"), "Elena Rossi": ("provider", "4444"),
        "Felix Park": ("front_desk", "5555"), "Daisy Alvarez": ("front_desk", "6666"), "Sam Taylor": ("front_desk", "7777")}


def test_every_generated_row_fits_the_sync_catalogue() -> None:
    clinic = generator.generate(patients=150, seed=7, now=NOW, clinic_id=new_id())
    assert {m.name: (m.role.value, m.pin) for m in clinic.staff} == PINS
    for entity, rows in clinic.rows.items():
        spec = entity_spec(entity)
        for row in rows:
            fields = {k: v for k, v in row.items() if k != "id"}
            assert set(fields) == set(spec.fields), entity
            for name, value in fields.items():
                if entity == "staff" and name == "pin_hash":
                    continue  # filled in by the seeder
                check_field_value(spec, name, value, op=Op.INSERT)
            if "clinic_id" in fields:
                assert fields["clinic_id"] == clinic.clinic_id
    assert clinic.count("patient") == 150 and clinic.count("lead") > 0 and clinic.count("activity") > clinic.count("lead")
    # Reserved numbers and domains only: a demo can never text or email a real person.
    for p in clinic.rows["patient"]:
        assert p["phone"] is None or p["phone"][5:8] == "555"
        assert p["email"] is None or p["email"].split("@")[1] in {"example.com", "example.net", "example.org"}


def test_the_calendar_never_double_books_and_is_deterministic() -> None:
    one = generator.generate(patients=400, seed=3, now=NOW, clinic_id="c")
    two = generator.generate(patients=400, seed=3, now=NOW, clinic_id="c")
    strip = lambda rows: [{k: v for k, v in r.items() if not k.endswith(("id", "_by"))} for r in rows]  # noqa: E731
    assert strip(one.rows["appointment"]) == strip(two.rows["appointment"])
    services = {s["id"]: s for s in one.rows["service"]}
    holds: dict[str, list[tuple[datetime, datetime]]] = {}
    for appt in one.rows["appointment"]:
        hold = booking.hold_of(appt, deleted=False, service=services[appt["service_id"]])
        if hold is None:
            continue
        for resource in (hold.provider_id, hold.room_id, hold.device_id):
            if resource:
                holds.setdefault(resource, []).append((hold.held_from, hold.held_until))
    for spans in holds.values():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert end <= start
    statuses = Counter(a["status"] for a in one.rows["appointment"])
    assert statuses["completed"] > statuses["no_show"] > 0 and statuses["booked"] + statuses["confirmed"] > 0


def test_seeding_writes_sync_rows_in_order_and_a_desktop_downloads_them(
    db: Database, client: TestClient, admin_sql: Engine, world: World
) -> None:
    with db.transaction() as session:
        summary = demo.seed_demo(session, patients=120, slug="lumiere", now=NOW)
    with db.transaction() as session:
        demo.refresh_statistics(session)
    assert summary.rows == sum(summary.counts.values()) == summary.high_water_seq
    with admin_sql.connect() as conn:
        staff = {r.display_name: r for r in conn.execute(select(Staff).where(Staff.clinic_id == summary.clinic_id))}
        seqs = conn.execute(select(SyncRow.entity, SyncRow.server_seq).where(SyncRow.clinic_id == summary.clinic_id)
                            .order_by(SyncRow.server_seq)).all()
        slots = conn.execute(select(func.count()).select_from(AppointmentSlot)
                             .where(AppointmentSlot.clinic_id == summary.clinic_id)).scalar_one()
    assert [s for _, s in seqs] == list(range(1, summary.rows + 1))
    order = [e for e, _ in seqs]
    assert order[0] == "clinic" and order.index("patient") < order.index("appointment") < order.index("activity")
    assert {name: (s.role, s.active) for name, s in staff.items()} == {n: (r, True) for n, (r, _) in PINS.items()}
    assert PasswordHasher().verify(staff["Nora Kim"].pin_hash, "2222")
    assert slots > 0

    # A workstation enrolled to the demo clinic downloads everything, staff with the same ids.
    device = world.device(ClinicRef(summary.clinic_id, "lumiere"), "Front desk")
    desk = Desk(client, device, staff["Felix Park"].id)
    changes, cursor = desk.pull_all(limit=500)
    assert cursor == summary.high_water_seq and len(changes) == summary.rows
    staff_rows = {c["data"]["display_name"]: c for c in changes if c["entity"] == "staff"}
    assert {n: c["entity_id"] for n, c in staff_rows.items()} == {n: s.id for n, s in staff.items()}
    assert staff_rows["Nora Kim"]["data"]["pin_hash"] == staff["Nora Kim"].pin_hash
    # The seeded calendar is the server's: a push into a taken slot is refused.
    appt = next(c for c in changes if c["entity"] == "appointment" and c["data"]["status"] == "booked")
    clash = desk.m("appointment", "insert", **{**appt["data"], "clinic_id": summary.clinic_id, "notes": None,
                                               "patient_id": appt["data"]["patient_id"]})
    [result] = desk.push(clash)
    assert result["status"] == "rejected" and result["code"] == "double_booking"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_demo_command_prints_its_summary(settings: Settings) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GLOWDESK_SERVER_HOME": str(settings.server_home),
           "GLOWDESK_SECRET_KEY": settings.ensure_secret_key()}
    run = subprocess.run([sys.executable, "-m", "sync_server", "demo", "--patients", "40", "--slug", "glow-demo"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["slug"] == "glow-demo" and out["patients"] == 40 and out["rows"] > 40 and out["clinic_id"]
    again = subprocess.run([sys.executable, "-m", "sync_server", "demo", "--slug", "glow-demo"],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and again.stderr.startswith("error: A clinic with the slug 'glow-demo' already exists")
    kept = subprocess.run([sys.executable, "-m", "sync_server", "demo", "--slug", "glow-demo", "--keep-existing"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert kept.returncode == 0 and json.loads(kept.stdout)["clinic_id"] == out["clinic_id"]
