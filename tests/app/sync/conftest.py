"""Desktops on real SQLCipher stores, synced through the in-memory FakeHub."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db.models import SYNCABLE_MODELS, OutboxEntry, Patient
from app.db.store import Store, open_store
from app.repositories import patients, rows, settings
from app.repositories.context import Actor
from app.repositories.uow import system_actor, unit_of_work
from app.sync.apply import upsert_directory
from app.sync.engine import SyncEngine
from tests.app.sync.fake_hub import FakeHub

CLINIC_ID = "01900000-0000-7000-8000-000000000001"
OWNER_ID = "01900000-0000-7000-8000-0000000000aa"
DESK_ID = "01900000-0000-7000-8000-0000000000bb"
CLINIC = {"id": CLINIC_ID, "name": "Glow", "slug": "glow"}
STAFF = [
    {"id": OWNER_ID, "display_name": "Olivia Owner", "role": "owner", "pin_hash": None, "active": True},
    {"id": DESK_ID, "display_name": "Fran Desk", "role": "front_desk", "pin_hash": None, "active": True},
]


def local_rows(store: Store, entity: str) -> dict[str, tuple[bool, dict[str, Any]]]:
    model = SYNCABLE_MODELS[entity]
    with store.session() as s:
        return {r.id: (bool(r.deleted), rows.row_fields(r)) for r in s.execute(select(model)).scalars()}


@dataclass
class Desktop:
    name: str
    home: Path
    store: Store
    hub: FakeHub

    @property
    def engine(self) -> SyncEngine:
        return SyncEngine(self.store, self.hub, device_id=f"device-{self.name}", pull_limit=self.pull_limit)

    pull_limit: int = 1000

    def actor(self, staff_id: str = OWNER_ID) -> Actor:
        return Actor(staff_id=staff_id, device_id=self.store.device_id, role="owner", name="Olivia Owner")

    def add_patient(self, first: str, last: str, *, staff_id: str = OWNER_ID, **kw: Any) -> str:
        with unit_of_work(self.store, self.actor(staff_id)) as ctx:
            return patients.create(ctx, Patient(clinic_id=CLINIC_ID, first_name=first, last_name=last, **kw)).id

    def edit(self, patient_id: str, *, staff_id: str = OWNER_ID, **changes: Any) -> None:
        with unit_of_work(self.store, self.actor(staff_id)) as ctx:
            row = patients.get_for_write(ctx, patient_id)
            assert row is not None
            patients.update(ctx, row, changes)

    def delete(self, patient_id: str) -> None:
        with unit_of_work(self.store, self.actor()) as ctx:
            row = ctx.session.get(Patient, patient_id)
            assert row is not None
            patients.delete(ctx, row)

    def patient(self, patient_id: str) -> Patient:
        with self.store.session() as s:
            row = s.get(Patient, patient_id)
            assert row is not None
            return row

    def search(self, text: str) -> list[str]:
        with unit_of_work(self.store, system_actor(self.store)) as ctx:
            return [h.id for h in patients.search(ctx, text)]

    def pending(self) -> int:
        with self.store.session() as s:
            return len(list(s.execute(select(OutboxEntry.seq).where(OutboxEntry.acked_at.is_(None)))))

    def sync(self) -> Any:
        engine = self.engine
        return engine.sync_once()

    def reopen(self) -> None:
        self.store.close()
        self.store = open_store(self.home)


@pytest.fixture
def hub() -> FakeHub:
    return FakeHub()


@pytest.fixture
def desktops(tmp_path: Path, hub: FakeHub) -> Iterator[Any]:
    made: list[Desktop] = []

    def make(name: str) -> Desktop:
        home = tmp_path / name
        store = open_store(home)
        with unit_of_work(store, system_actor(store)) as ctx:
            upsert_directory(ctx, clinic=CLINIC, staff=STAFF)
            settings.put(ctx, settings.CLINIC_ID, CLINIC_ID)
        desktop = Desktop(name, home, store, hub)
        made.append(desktop)
        return desktop

    yield make
    for d in made:
        d.store.close()
