"""A small demo-like clinic in a real encrypted store, built the way the app writes data.

Tests may use repositories to set the stage; the UI under test reaches the data only through
services on the DB worker.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from app.db.models import Clinic, Patient, Staff
from app.db.store import open_store
from app.repositories import clinic as clinic_repo
from app.repositories import patients as patient_repo
from app.repositories import settings
from app.repositories.context import Actor
from app.repositories.uow import system_actor, unit_of_work
from core.email import email_match_key
from core.ids import new_id

FIRST = ["Olivia", "Emma", "Ava", "Sophia", "Isabella", "Mia", "Amelia", "Harper", "Evelyn", "Abigail",
         "Camila", "Luna", "Sofia", "Aaliyah", "Priya", "Mei", "Yuki", "Fatima", "Noah", "Liam",
         "Mateo", "Elena", "Valentina", "Chloe", "Grace", "Nora", "Zoe", "Layla", "Hana", "Ingrid"]
LAST = ["Garcia", "Nguyen", "Smith", "Johnson", "Patel", "Kim", "Martinez", "Brown", "Davis", "Lopez",
        "Chen", "Wilson", "Anderson", "Thomas", "Moore", "Jackson", "Martin", "Thompson", "White",
        "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott"]
TAGS = ["botox regular", "filler", "laser", "membership", "referral", "new client", "hydrafacial"]


@dataclass(frozen=True)
class Known:
    """The patients tests look for."""

    kate_id: str
    kate_phone_digits: str  # national digits: 415 555 0123
    omar_id: str


@dataclass(frozen=True)
class ClinicHome:
    home: Path
    key_file: Path
    clinic_name: str
    patients: int
    known: Known


def _consents(granted: bool) -> dict[str, dict[str, object]]:
    at = "2024-11-02T17:30:00Z"
    return {
        "transactional_sms": {"granted": True, "at": at, "source": "intake form"},
        "marketing_sms": {"granted": granted, "at": at, "source": "intake form"},
        "email": {"granted": granted, "at": at, "source": "intake form"},
        "photo_clinical": {"granted": True, "at": at, "source": "consent form"},
    }


def build_clinic(home: Path, key_file: Path, *, patients: int = 150, seed: int = 7) -> ClinicHome:
    """Create the store, the clinic, its owner and ``patients`` clients (two of them known)."""
    store = open_store(home)
    clinic_id, owner_id = new_id(), new_id()
    name = "Lumière Aesthetics"
    rng = random.Random(seed)
    try:
        with unit_of_work(store, system_actor(store)) as ctx:
            clinic_repo.create_clinic(ctx, Clinic(id=clinic_id, name=name, slug="lumiere",
                                                  timezone="America/Los_Angeles", region="US",
                                                  currency="USD", settings={}))
            clinic_repo.create_staff(ctx, Staff(id=owner_id, clinic_id=clinic_id, display_name="Olivia Park",
                                                role="owner", active=True))
            settings.put(ctx, settings.CLINIC_ID, clinic_id)
            settings.put(ctx, settings.IS_DEMO, True)
            settings.put(ctx, settings.DEMO_STAFF_ID, owner_id)
        actor = Actor(staff_id=owner_id, device_id=store.device_id, role="owner", name="Olivia Park")
        kate = _patient(clinic_id, "Katherine", "Lee", preferred_name="Kate", phone="+14155550123",
                        email="kate.lee@example.com", instagram_handle="katelee.glow", vip=True,
                        date_of_birth=date(1988, 3, 4), pronouns="she/her",
                        allergies="Lidocaine, latex", medical_alerts="Pregnant \u2014 no neurotoxin",
                        tags=["botox regular", "membership"], consents=_consents(False),
                        first_touch={"source": "instagram", "utm_campaign": "spring_glow"})
        omar = _patient(clinic_id, "Omar", "Haddad", phone="+13105550188", email="omar.h@example.com",
                        consents={}, tags=[])
        others = []
        used = {"4155550123", "3105550188"}
        for _ in range(patients - 2):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            digits = f"{rng.choice(['213', '310', '323', '424', '626', '818'])}{rng.randint(200, 999)}{rng.randint(1000, 9999)}"
            while digits in used:
                digits = f"{digits[:-4]}{rng.randint(1000, 9999)}"
            used.add(digits)
            others.append(_patient(
                clinic_id, first, last,
                phone=f"+1{digits}",
                email=f"{first}.{last}{rng.randint(1, 99)}@example.com".lower(),
                instagram_handle=f"{first}{last}".lower() if rng.random() < 0.4 else None,
                vip=rng.random() < 0.08,
                allergies="Hyaluronidase" if rng.random() < 0.05 else None,
                tags=rng.sample(TAGS, rng.randint(0, 2)),
                consents=_consents(rng.random() < 0.6),
            ))
        with unit_of_work(store, actor) as ctx:
            patient_repo.create_many(ctx, [kate, omar, *others], reason="test clinic")
    finally:
        store.close()
    return ClinicHome(home, key_file, name, patients, Known(kate.id, "4155550123", omar.id))


def _patient(clinic_id: str, first: str, last: str, **fields: object) -> Patient:
    email = fields.get("email")
    fields.setdefault("address", {})
    fields.setdefault("first_touch", {})
    return Patient(id=new_id(), clinic_id=clinic_id, first_name=first, last_name=last,
                   email_key=email_match_key(str(email)) if email else None, **fields)
