"""A clinic with a team, routing rules and a frozen clock, for the lead routing and merge tests:
leads arrive through the real intake, the desk acts through the HTTP API, timers run as jobs on
a worker whose clock the test moves (no sleeps)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.clock import FixedClock, HybridLogicalClock
from core.permissions import Role
from sync_server import tenancy
from sync_server.app import create_app
from sync_server.db import Database
from sync_server.jobs.worker import Worker
from sync_server.leads import service as leads
from sync_server.leads import settings as lead_settings
from sync_server.patients.service import Person
from sync_server.records.service import ServerWrites
from sync_server.settings import Settings
from sync_server.sync.models import SyncRow

from .conftest import ClinicRef, DeviceRef, World
from .sync_helpers import Desk

#: Tuesday 3 March 2026, 10:30 in Los Angeles (the clinic is open, Monday to Saturday 9-19)
T0 = datetime(2026, 3, 3, 18, 30, tzinfo=UTC)

RULES = [
    {"kind": "service", "match": ["laser"], "staff": ["Elena Rossi"]},
    {"kind": "vip", "staff": ["Marcus Mendoza"]},
    {"kind": "round_robin", "roles": ["front_desk"]},
]


@dataclass
class Spa:
    db: Database
    clinic: ClinicRef
    clock: FixedClock
    worker: Worker
    client: TestClient
    device: DeviceRef
    staff: dict[str, str] = field(default_factory=dict)  # first name -> id

    # --- server-side ---------------------------------------------------------------------------

    def transaction(self) -> Any:
        return _Writes(self)

    def arrive(self, *, first: str = "Ava", last: str = "Stone", phone: str | None = "+14155550134",
               source: str = "web_form", interest: str | None = None, received: datetime | None = None,
               external_id: str | None = None) -> leads.IntakeResult:
        with self.transaction() as writes:
            return leads.intake(writes, lead=leads.LeadIntake(
                source=source, person=Person(first, last, phone=phone), received_at=received or self.clock.now(),
                service_interest=interest, external_id=external_id, acknowledge=False,
            ), region="US", timezone="America/Los_Angeles")

    def routing(self, **changes: Any) -> dict[str, Any]:
        with self.transaction() as writes:
            return lead_settings.set_routing(writes, changes=changes)

    def hours(self, name: str, text: str) -> None:
        with self.transaction() as writes:
            lead_settings.set_hours(writes, staff=name, hours_text=text)

    def row(self, entity: str, entity_id: str) -> SyncRow:
        with self.db.transaction(write=False, app_role=True) as session:
            tenancy.enter_clinic(session, self.clinic.id)
            row = session.execute(select(SyncRow).where(
                SyncRow.clinic_id == self.clinic.id, SyncRow.entity == entity, SyncRow.id == entity_id)).scalar_one()
            session.expunge(row)
            return row

    def lead(self, lead_id: str) -> dict[str, Any]:
        return dict(self.row("lead", lead_id).data)

    def entries(self, *, lead_id: str | None = None, patient_id: str | None = None) -> list[dict[str, Any]]:
        """Timeline entries of a lead or a client, oldest first."""
        with self.db.transaction(write=False, app_role=True) as session:
            tenancy.enter_clinic(session, self.clinic.id)
            rows = session.execute(select(SyncRow).where(
                SyncRow.clinic_id == self.clinic.id, SyncRow.entity == "activity").order_by(SyncRow.server_seq)
            ).scalars()
            return [dict(r.data, id=r.id) for r in rows
                    if (lead_id is None or r.data.get("lead_id") == lead_id)
                    and (patient_id is None or r.data.get("patient_id") == patient_id)]

    def types(self, lead_id: str) -> list[str]:
        return [e["type"] for e in self.entries(lead_id=lead_id)]

    def later(self, **delta: float) -> int:
        """Time passes; the worker runs whatever fell due."""
        self.clock.advance(timedelta(**delta))
        return self.worker.drain()

    # --- the desk ------------------------------------------------------------------------------

    def post(self, path: str, staff: str, json: dict[str, Any] | None = None) -> httpx.Response:
        return self.client.post(f"/api/v1{path}", json=json, headers=self.device.headers(self.staff[staff]))

    def desk(self, staff: str) -> Desk:
        """A workstation where ``staff`` is signed in, its clock the clinic's frozen one."""
        desk = Desk(self.client, self.device, self.staff[staff])
        desk.hlc = HybridLogicalClock(desk.node, self.clock)
        return desk

    def claim(self, lead_id: str, staff: str) -> httpx.Response:
        return self.post(f"/leads/{lead_id}/claim", staff)

    def release(self, lead_id: str, staff: str) -> httpx.Response:
        return self.post(f"/leads/{lead_id}/release", staff)


class _Writes:
    def __init__(self, spa: Spa) -> None:
        self.spa = spa

    def __enter__(self) -> ServerWrites:
        self._tx = self.spa.db.transaction(app_role=True)
        session = self._tx.__enter__()
        tenancy.enter_clinic(session, self.spa.clinic.id)
        return ServerWrites(session, clinic_id=self.spa.clinic.id, now=self.spa.clock.now(), hlc=self.spa.worker.hlc)

    def __exit__(self, *exc: Any) -> Any:
        return self._tx.__exit__(*exc)


TEAM = (("Olivia", "Olivia Owens", Role.OWNER), ("Marcus", "Marcus Mendoza", Role.MANAGER),
        ("Felix", "Felix Park", Role.FRONT_DESK), ("Daisy", "Daisy Alvarez", Role.FRONT_DESK),
        ("Elena", "Elena Rossi", Role.PROVIDER), ("Pat", "Pat Provider", Role.PROVIDER))


@pytest.fixture
def spa(settings: Settings, db: Database, world: World) -> Iterator[Spa]:
    clinic = world.clinic("glow", "Glow Med Spa")
    staff = {first: world.staff(clinic, role, name) for first, name, role in TEAM}
    clock = FixedClock(T0)
    worker = Worker(db, clock=clock, poll_interval=0.05)
    app = create_app(settings, clock=clock)
    app.state.hlc = worker.hlc  # one server clock for the requests, the jobs and the test's own writes
    with TestClient(app) as client:
        found = Spa(db, clinic, clock, worker, client, world.device(clinic), staff)
        found.routing(rules=RULES, fallback="Marcus Mendoza")
        yield found
