"""Helpers for the store tests: patients with distinctive details, one-line writes and reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command

from app.db import schema
from app.db.keys import load_key
from app.db.models import Patient
from app.db.store import DB_NAME, Store, _make_engine
from app.repositories import patients
from app.repositories.context import Actor
from app.repositories.uow import unit_of_work
from core.email import email_match_key, normalize_email
from core.ids import new_id

CLINIC_ID = "01900000-0000-7000-8000-000000000001"
STAFF_ID = "01900000-0000-7000-8000-0000000000aa"


def owner(store: Store) -> Actor:
    return Actor(staff_id=STAFF_ID, device_id=store.device_id, role="owner", name="Olivia Owner")


def new_patient(
    first_name: str,
    last_name: str,
    *,
    phone: str | None = None,
    email: str | None = None,
    **extra: Any,
) -> Patient:
    extra.setdefault("id", new_id())
    return Patient(
        clinic_id=CLINIC_ID,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        email=normalize_email(email) if email else None,
        email_key=email_match_key(email) if email else None,
        **extra,
    )


def add_patient(store: Store, first_name: str, last_name: str, **kw: Any) -> str:
    """Create one patient in its own transaction; returns its id."""
    with unit_of_work(store, owner(store)) as ctx:
        return patients.create(ctx, new_patient(first_name, last_name, **kw)).id


def scalar(store: Store, sql: str, **params: Any) -> Any:
    with store.session() as s:
        return s.execute(sa.text(sql), params).scalar()


def keyed_engine(home: Path, *, create: bool) -> sa.Engine:
    """A SQLCipher engine on ``home``'s database with its real key, outside of open_store."""
    home.mkdir(parents=True, exist_ok=True)
    return _make_engine(home / DB_NAME, load_key(home, create=create))


def downgrade_to_0001(home: Path) -> None:
    """Take a store back to schema 0001 with Alembic (as an older Glowdesk left it)."""
    engine = keyed_engine(home, create=False)
    cfg = schema.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    engine.dispose()
