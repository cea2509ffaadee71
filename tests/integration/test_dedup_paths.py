"""One rule for duplicates (core.dedup): the server's lead intake, the desktop's CSV import and the
desktop's duplicate warning, given the same people against the same clients, agree on who is
surely someone already known, who is only possibly them (a merge review / a note / a "same name"
warning), and who is new."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.db.store import Store, open_store
from app.repositories.context import Actor
from app.services import csv_import
from app.services.patients import PatientService
from core.clock import FixedClock, HybridLogicalClock
from core.sync import SERVER_NODE
from sync_server.audit.service import Actor as ServerActor
from sync_server.clinics import service as clinics
from sync_server.db import Database
from sync_server.leads import service as leads
from sync_server.patients.models import MergeReview
from sync_server.patients.service import Person
from sync_server.records.service import ServerWrites
from sync_server.settings import Settings

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
REGION = "US"

#: the clients both sides already hold (the same people, typed as each side stores them)
KNOWN = {
    "maria": {"first_name": "Maria", "last_name": "Lopez", "phone": "415-555-0101", "email": "maria@example.com",
              "date_of_birth": "1990-01-02"},
    "jane": {"first_name": "Jane", "last_name": "Doe", "phone": "415-555-0102", "email": "jane.doe@gmail.com"},
    "ana": {"first_name": "Ana", "last_name": "Lee", "instagram_handle": "ana.lee", "date_of_birth": "1985-05-05"},
    "bo": {"first_name": "Bo", "last_name": "Li", "phone": "415-555-0104", "date_of_birth": "1970-07-07"},
}


@dataclass(frozen=True)
class Arrival:
    first_name: str
    last_name: str
    phone: str | None = None
    email: str | None = None
    instagram_handle: str | None = None
    date_of_birth: str | None = None


#: (who arrives, what every path must conclude: ("same" | "review", known person) or ("new", None))
CASES: list[tuple[Arrival, tuple[str, str | None]]] = [
    (Arrival("Mary", "L", phone="(415) 555-0101"), ("same", "maria")),  # phone, whatever the name
    (Arrival("J", "Doe", email="Jane.Doe+spa@googlemail.com"), ("same", "jane")),  # the email's match key
    (Arrival("Ana", "Lee", instagram_handle="@Ana.Lee"), ("same", "ana")),  # the Instagram account
    (Arrival("maria", "LOPEZ ", date_of_birth="1990-01-02"), ("same", "maria")),  # name and birthday
    (Arrival("Bo", "Li", date_of_birth="1970-07-07"), ("same", "bo")),
    (Arrival("Bo", "Li", phone="415-555-0199", date_of_birth="1970-07-07"), ("review", "bo")),  # another phone
    (Arrival("Jane", "Doe"), ("review", "jane")),  # same name, no birthday to tell
    (Arrival("Maria", "Lopez", date_of_birth="1991-01-01"), ("new", None)),  # another birthday: two people
    (Arrival("Zed", "Newcomer", phone="415-555-0177"), ("new", None)),
]


# --- the server: lead intake -----------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Database, str, dict[str, str]]]:
    db = Database(Settings(server_home=tmp_path / "server", secret_key="test-secret-key-not-for-production"))
    db.upgrade()
    with db.transaction() as session:
        clinic = clinics.create_clinic(session, name="Glow", slug="glow", now=NOW, actor=ServerActor.cli())
        writes = _writes(session, clinic.id)
        ids = {}
        for key, typed in KNOWN.items():
            person = Person(first_name=typed["first_name"], last_name=typed["last_name"], phone=typed.get("phone"),
                            email=typed.get("email"), instagram_handle=typed.get("instagram_handle"),
                            date_of_birth=typed.get("date_of_birth"))
            ids[key] = leads.intake(writes, lead=leads.LeadIntake(
                source=leads.WEB_FORM, person=person, received_at=NOW, acknowledge=False),
                region=REGION, timezone="America/Los_Angeles").patient_id or ""
    yield db, clinic.id, ids
    db.dispose()


def _writes(session: Any, clinic_id: str) -> ServerWrites:
    return ServerWrites(session, clinic_id=clinic_id, now=NOW, hlc=HybridLogicalClock(SERVER_NODE, FixedClock(NOW)),
                        actor=ServerActor.cli())


class _Undo(Exception):
    pass


def server_verdict(server: tuple[Database, str, dict[str, str]], who: Arrival) -> tuple[str, str | None]:
    db, clinic_id, ids = server
    names = {v: k for k, v in ids.items()}
    verdict: tuple[str, str | None] = ("new", None)
    try:
        with db.transaction() as session:  # rolled back: every arrival meets the same clients
            result = leads.intake(_writes(session, clinic_id), lead=leads.LeadIntake(
                source=leads.WEB_FORM, received_at=NOW, acknowledge=False,
                person=Person(first_name=who.first_name, last_name=who.last_name, phone=who.phone, email=who.email,
                              instagram_handle=who.instagram_handle, date_of_birth=who.date_of_birth)),
                region=REGION, timezone="America/Los_Angeles")
            if not result.created_patient:
                verdict = ("same", names[result.patient_id or ""])
            elif result.review_id:
                review = session.get(MergeReview, result.review_id)
                assert review is not None
                verdict = ("review", names[review.candidate_id])
            raise _Undo
    except _Undo:
        pass
    return verdict


# --- the desktop: duplicate warning and CSV import -------------------------------------------


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[Store, Actor, dict[str, str]]]:
    store = open_store(tmp_path / "desk", clock=FixedClock(NOW))
    owner = Actor(staff_id="staff-owner", device_id=store.device_id, role="owner", name="Owner")
    service = PatientService(store, clinic_id="clinic-1", region=REGION)
    ids = {key: service.create(actor=owner, data=dict(typed)).id for key, typed in KNOWN.items()}
    yield store, owner, ids
    store.close()


def warning_verdict(desk: tuple[Store, Actor, dict[str, str]], who: Arrival) -> tuple[str, str | None]:
    store, owner, ids = desk
    names = {v: k for k, v in ids.items()}
    found = PatientService(store, clinic_id="clinic-1", region=REGION).duplicates(actor=owner, data={
        k: v for k, v in vars(who).items() if v is not None})
    if not found:
        return ("new", None)
    return ("same" if found[0].sure else "review", names[found[0].patient_id])


def import_verdict(desk: tuple[Store, Actor, dict[str, str]], who: Arrival, tmp_path: Path) -> tuple[str, str | None]:
    store, _owner, ids = desk
    names = {v: k for k, v in ids.items()}
    text = io.StringIO()
    out = csv.writer(text)
    out.writerow(["First Name", "Last Name", "Mobile", "Email", "Instagram", "DOB"])
    out.writerow([who.first_name, who.last_name, who.phone or "", who.email or "", who.instagram_handle or "",
                  who.date_of_birth or ""])
    path = tmp_path / "arrival.csv"
    path.write_text(text.getvalue(), encoding="utf-8")
    report = csv_import.plan_import(store, path, clinic_id="clinic-1", region=REGION).report
    assert report.errors == 0, [i.message for i in report.issues]
    for issue in report.issues:
        if issue.kind == "duplicate" and issue.matches_patient_id:
            return ("same", names[issue.matches_patient_id])
        if issue.kind == "warning" and issue.matches_patient_id:
            return ("review", names[issue.matches_patient_id])
    return ("new", None)


def test_the_three_paths_agree_on_every_person(server: Any, desk: Any, tmp_path: Path) -> None:
    seen = []
    for who, expected in CASES:
        got = {"intake": server_verdict(server, who), "csv import": import_verdict(desk, who, tmp_path),
               "warning": warning_verdict(desk, who)}
        seen.append((who, got))
        assert set(got.values()) == {expected}, (who, got)
    assert {v for _, got in seen for v in got.values()} >= {("same", "maria"), ("review", "bo"), ("new", None)}
