"""A clinic with a team and lead routing on a real server process, server-side writes into its
database (as its webhook jobs would make them), and enrolled desktops with the app's desk."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.clock import HybridLogicalClock
from sync_server import tenancy
from sync_server.db import Database
from sync_server.leads import service as leads
from sync_server.patients.service import Person
from sync_server.records.service import ServerWrites
from sync_server.settings import Settings
from tests.integration.conftest import PIN, ServerProcess

ALWAYS = "Mon-Sun 0:00-24:00"
TEAM = (("owner", "Olivia Owner", "owner"), ("manager", "Marcus Mendoza", "manager"),
        ("felix", "Felix Park", "front_desk"), ("daisy", "Daisy Alvarez", "front_desk"),
        ("nora", "Nora Kim", "provider"))


@dataclass
class RoutedClinic:
    server: ServerProcess
    slug: str
    clinic_id: str
    staff: dict[str, str]
    codes: list[str] = field(default_factory=list)

    @contextmanager
    def writes(self) -> Iterator[ServerWrites]:
        """A transaction in the server's own database, writing as the server does."""
        db = Database(Settings(server_home=self.server.home))
        try:
            with db.transaction(app_role=True) as session:
                tenancy.enter_clinic(session, self.clinic_id)
                yield ServerWrites(session, clinic_id=self.clinic_id, now=datetime.now(UTC),
                                   hlc=HybridLogicalClock("server"))
        finally:
            db.dispose()

    def lead_arrives(self, *, first: str, last: str, phone: str, received: datetime | None = None,
                     interest: str | None = "Botox") -> leads.IntakeResult:
        with self.writes() as writes:
            return leads.intake(writes, lead=leads.LeadIntake(
                source="web_form", person=Person(first, last, phone=phone), received_at=received or writes.now,
                service_interest=interest, acknowledge=False), region="US", timezone="America/Los_Angeles")


def routed_clinic(server: ServerProcess, tmp: Path, *, codes: int, desk_hours: str = ALWAYS) -> RoutedClinic:
    slug = "r-" + secrets.token_hex(4)
    clinic = server.cli("create-clinic", "--name", f"Clinic {slug}", "--slug", slug)
    started = [server.cli_start("create-staff", "--clinic", slug, "--name", name, "--role", role, "--pin", PIN)
               for _key, name, role in TEAM]
    made = [server.cli_result(p) for p in started]
    staff = {key: m["staff_id"] for (key, _n, _r), m in zip(TEAM, made, strict=True)}
    rules = tmp / f"{slug}-rules.json"
    # the reply clock runs around the clock, so that tests do not depend on the hour they run at
    rules.write_text(json.dumps({"rules": [{"kind": "round_robin", "roles": ["front_desk"]}],
                                 "fallback": "Marcus Mendoza", "after_hours": "clock"}))
    server.cli("lead-routing", "set", "--clinic", slug, "--file", str(rules))
    for name in ("Felix Park", "Daisy Alvarez"):
        server.cli("lead-routing", "hours", "--clinic", slug, "--staff", name, "--hours", desk_hours)
    issued = [server.cli("enrollment-code", "--clinic", slug)["code"] for _ in range(codes)]
    return RoutedClinic(server, slug, clinic["clinic_id"], staff, issued)
