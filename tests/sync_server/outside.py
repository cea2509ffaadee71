"""Fixtures for tests of the outside world: stand-ins on free ports, a server whose provider URLs
point at them, and a job worker on the same database. Import the fixtures into a test module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sync_server import tenancy
from sync_server.app import create_app
from sync_server.db import Database
from sync_server.jobs.worker import Worker
from sync_server.settings import Settings
from sync_server.sync.models import SyncRow
from tests.standins.meta_graph import MetaGraphStandin
from tests.standins.server import StandinServer
from tests.standins.twilio_api import TwilioStandin

from .conftest import ClinicRef


@pytest.fixture
def graph() -> Iterator[MetaGraphStandin]:
    standin = MetaGraphStandin()
    with StandinServer(standin.app) as server:
        standin.url = server.url
        yield standin


@pytest.fixture
def twilio() -> Iterator[TwilioStandin]:
    standin = TwilioStandin()
    with StandinServer(standin.app) as server:
        standin.url = server.url
        yield standin


@pytest.fixture
def outside(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The test settings with every provider URL at its stand-in (those the test started)."""
    update: dict[str, Any] = {"public_url": "https://glowdesk.test"}
    if "graph" in request.fixturenames:
        update["meta_graph_url"] = request.getfixturevalue("graph").url
    if "twilio" in request.fixturenames:
        update["twilio_api_url"] = request.getfixturevalue("twilio").url
    return settings.model_copy(update=update)


@pytest.fixture
def server(outside: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(outside), base_url="https://glowdesk.test") as client:
        yield client


@pytest.fixture
def worker(outside: Settings) -> Iterator[Worker]:
    db = Database(outside)
    yield Worker(db, poll_interval=0.05)
    db.dispose()


def rows(db: Database, clinic: ClinicRef, entity: str) -> list[dict[str, Any]]:
    """The clinic's live sync rows of ``entity`` (data plus ``id`` and ``server_seq``), oldest first."""
    with db.transaction(write=False, app_role=True) as session:
        tenancy.enter_clinic(session, clinic.id)
        found = session.execute(
            select(SyncRow).where(SyncRow.clinic_id == clinic.id, SyncRow.entity == entity,
                                  SyncRow.deleted.is_(False)).order_by(SyncRow.server_seq)
        ).scalars()
        return [{**r.data, "id": r.id, "server_seq": r.server_seq} for r in found]


def table(db: Database, clinic: ClinicRef, model: Any) -> list[Any]:
    with db.transaction(write=False, app_role=True) as session:
        tenancy.enter_clinic(session, clinic.id)
        out = list(session.execute(select(model).where(model.clinic_id == clinic.id)).scalars())
        for item in out:
            session.expunge(item)
        return out


def make_patient(db: Database, clinic: ClinicRef, **fields: Any) -> str:
    """A client record written server-side (as a desktop's push would leave it)."""
    from datetime import UTC, datetime

    from core.clock import HybridLogicalClock
    from sync_server.records.service import ServerWrites

    with db.transaction(app_role=True) as session:
        tenancy.enter_clinic(session, clinic.id)
        writes = ServerWrites(session, clinic_id=clinic.id, now=datetime.now(UTC), hlc=HybridLogicalClock("server"))
        return writes.insert("patient", {"first_name": "Ava", "last_name": "Stone", **fields})


def consents(*granted: str, at: str = "2026-01-01T00:00:00.000000Z") -> dict[str, Any]:
    return {purpose: {"granted": True, "at": at, "source": "intake_form"} for purpose in granted}
