"""The desktop's data folder (GLOWDESK_HOME): open its store and tell which clinic it holds."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from app.db.models import Clinic, Staff
from app.db.store import Store, open_store
from app.repositories import settings
from app.repositories.context import Actor
from app.repositories.uow import system_actor, unit_of_work
from core.clock import Clock
from core.errors import GlowdeskError

HOME_ENV = "GLOWDESK_HOME"


def default_home() -> Path:
    """The platform's per-user data folder, unless GLOWDESK_HOME says otherwise."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "Glowdesk"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Glowdesk"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "glowdesk"


def default_demo_home() -> Path:
    env = os.environ.get(HOME_ENV)
    return Path(env).expanduser() if env else default_home().with_name(default_home().name + "-demo")


class NoClinicError(GlowdeskError):
    code = "no_clinic"

    def __init__(self) -> None:
        super().__init__(
            "This workstation is not set up for a clinic yet. Enrol it with a code from your "
            "clinic's administrator (python -m app enroll URL CODE), or try the demo clinic "
            "(python main.py --demo)."
        )


@dataclass(frozen=True)
class ClinicInfo:
    id: str
    name: str
    slug: str
    timezone: str
    region: str
    currency: str


@dataclass
class Workspace:
    home: Path
    store: Store
    clinic: ClinicInfo | None
    is_demo: bool
    demo_staff_id: str | None

    @property
    def system(self) -> Actor:
        return system_actor(self.store)

    def require_clinic(self) -> ClinicInfo:
        if self.clinic is None:
            raise NoClinicError()
        return self.clinic

    def actor_for(self, staff_id: str) -> Actor:
        with unit_of_work(self.store, self.system) as ctx:
            staff = ctx.session.get(Staff, staff_id)
            if staff is None or staff.deleted or not staff.active:
                raise GlowdeskError("That staff member is not active in this clinic.")
            return Actor(staff_id=staff.id, device_id=self.store.device_id, role=staff.role,
                         name=staff.display_name)

    def default_actor(self) -> Actor:
        """The demo owner in a demo home; the system otherwise."""
        if self.is_demo and self.demo_staff_id:
            return self.actor_for(self.demo_staff_id)
        return self.system

    def reload(self) -> None:
        self.clinic, self.is_demo, self.demo_staff_id = _read_clinic(self.store)

    def close(self) -> None:
        self.store.close()


def _read_clinic(store: Store) -> tuple[ClinicInfo | None, bool, str | None]:
    with unit_of_work(store, system_actor(store)) as ctx:
        clinic_id = settings.get(ctx, settings.CLINIC_ID)
        is_demo = bool(settings.get(ctx, settings.IS_DEMO, False))
        demo_staff = settings.get(ctx, settings.DEMO_STAFF_ID)
        row = ctx.session.get(Clinic, clinic_id) if clinic_id else None
        if row is None:
            row = ctx.session.execute(select(Clinic).where(Clinic.deleted.is_(False)).limit(1)).scalar()
        info = (
            ClinicInfo(row.id, row.name, row.slug, row.timezone, row.region, row.currency)
            if row is not None
            else None
        )
    return info, is_demo, demo_staff


def open_workspace(home: Path | None = None, *, clock: Clock | None = None) -> Workspace:
    home = Path(home) if home is not None else default_home()
    store = open_store(home, clock=clock)
    try:
        clinic, is_demo, demo_staff = _read_clinic(store)
    except Exception:
        store.close()
        raise
    return Workspace(home, store, clinic, is_demo, demo_staff)
