"""What the screens ask of the clinic's data, as operations on the DB worker (Anki's aqt.operations).

A screen calls ``desk.search_patients(text, on_success=...)``; the work runs on the DB worker
thread through the app services, and the answer comes back on the UI thread. Screens never see
the store, the workspace's session or a stored object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from app.services.patients import PatientService
from app.services.status import collect_status
from app.services.workspace import ClinicInfo, Workspace
from app.ui.operations import Op, Operations
from app.ui.patient_record import PatientRecord

#: change subjects broadcast by ``changes_did_happen``
PATIENT = "patient"
AUDIT = "audit"

SEARCH_LIMIT = 50


@dataclass(frozen=True)
class StoreSummary:
    patients: int
    encrypted: bool
    pending_changes: int


class Desk:
    """One workstation session: the clinic, who is acting, and the operations they can run."""

    def __init__(self, ops: Operations, workspace: Workspace, *, actor: Any) -> None:
        self.ops = ops
        self.workspace = workspace
        self.clinic: ClinicInfo = workspace.require_clinic()
        self.actor = actor
        self._patients = PatientService(workspace.store, clinic_id=self.clinic.id, region=self.clinic.region)

    @property
    def region(self) -> str:
        return self.clinic.region

    @property
    def is_demo(self) -> bool:
        return self.workspace.is_demo

    @property
    def actor_name(self) -> str:
        return str(getattr(self.actor, "name", None) or "Glowdesk")

    @property
    def actor_role(self) -> str | None:
        return getattr(self.actor, "role", None)

    def today(self) -> date:
        """The clinic's date (its time zone), for ages and schedules."""
        now = self.workspace.store.clock.now()
        try:
            return now.astimezone(ZoneInfo(self.clinic.timezone)).date()
        except (KeyError, ValueError):
            return now.date()

    # --- patients -----------------------------------------------------------------------------

    def search_patients(self, text: str, *, on_success: Callable[[list[Any]], None],
                        limit: int = SEARCH_LIMIT) -> Op:
        actor, service = self.actor, self._patients
        return self.ops.run_db(lambda: service.search(actor=actor, text=text, limit=limit),
                               on_success=on_success, label="patient search")

    def open_patient(self, patient_id: str, *, on_success: Callable[[PatientRecord], None],
                     on_failure: Callable[[BaseException], None] | None = None,
                     initiator: Any = None) -> Op:
        """Read one client's record (an audited read: it appends to the audit trail)."""
        actor, service = self.actor, self._patients

        def work() -> PatientRecord:
            patient = service.get(actor=actor, patient_id=patient_id)
            return PatientRecord.from_patient(patient, region=self.region, today=self.today())

        return self.ops.run_db(work, on_success=on_success, on_failure=on_failure, writes={AUDIT},
                               initiator=initiator, label="open client record")

    # --- the store ----------------------------------------------------------------------------

    def summarize_store(self, *, on_success: Callable[[StoreSummary], None]) -> Op:
        workspace = self.workspace

        def work() -> StoreSummary:
            status = collect_status(workspace)
            return StoreSummary(int(status["patients"]), bool(status["encrypted"]),
                                int(status["pending_changes"]))

        return self.ops.run_db(work, on_success=on_success, label="store summary")
