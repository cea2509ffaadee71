"""What the screens ask of the clinic's data, as operations on the DB worker (Anki's aqt.operations).

A screen calls ``desk.search_patients(text, on_success=...)``; the work runs on the DB worker
thread through the app services, and the answer comes back on the UI thread. Screens never see
the store, the workspace's session or a stored object.

``actor`` is whoever is signed in (``None`` before anyone is): every call acts as the person
signed in when it is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.services.clinic_settings import ClinicSettings, ClinicSettingsService
from app.services.leads import LeadBoard, LeadFilter, LeadService
from app.services.merge_reviews import MergeReviewService, ReviewCase
from app.services.patients import DuplicateCandidate, PatientService
from app.services.records import RecordService, Timeline
from app.services.staff import SignInChoice, sign_in, sign_in_choices
from app.services.status import collect_status
from app.services.workspace import ClinicInfo, Workspace
from app.ui.operations import Op, Operations
from app.ui.patient_record import PatientRecord
from app.ui.server_actions import ServerActions
from core.permissions import Permission, has_permission

#: change subjects broadcast by ``changes_did_happen``
PATIENT = "patient"
AUDIT = "audit"
LEAD = "lead"
SETTINGS = "settings"  # services, rooms, devices, staff, clinic settings
STAFF = "staff"
MERGE_REVIEW = "merge_review"

SEARCH_LIMIT = 50

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None] | None


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
        store, clinic_id = workspace.store, self.clinic.id
        self._patients = PatientService(store, clinic_id=clinic_id, region=self.clinic.region)
        self._records = RecordService(store, clinic_id=clinic_id)
        self._leads = LeadService(store, clinic_id=clinic_id)
        self._settings = ClinicSettingsService(store, clinic_id=clinic_id)
        self._reviews = MergeReviewService(store, clinic_id=clinic_id)
        #: requests the clinic server decides (claims, merges): they need it online
        self.server = ServerActions(ops, store, lambda: self.actor_id)

    @property
    def region(self) -> str:
        return self.clinic.region

    @property
    def currency(self) -> str:
        return self.clinic.currency

    @property
    def is_demo(self) -> bool:
        return self.workspace.is_demo

    @property
    def signed_in(self) -> bool:
        return self.actor is not None

    @property
    def actor_name(self) -> str:
        return str(getattr(self.actor, "name", None) or "Glowdesk")

    @property
    def actor_role(self) -> str | None:
        return getattr(self.actor, "role", None)

    @property
    def actor_id(self) -> str | None:
        return getattr(self.actor, "staff_id", None)

    def can(self, permission: Permission) -> bool:
        """Whether the person signed in may do this (the system may do everything)."""
        if self.actor is None:
            return False
        role = self.actor_role
        return role is None or has_permission(role, permission)

    def now(self) -> datetime:
        return self.workspace.store.clock.now()

    def tz(self) -> ZoneInfo | None:
        try:
            return ZoneInfo(self.clinic.timezone)
        except (KeyError, ValueError):
            return None

    def today(self) -> date:
        """The clinic's date (its time zone), for ages and schedules."""
        now = self.now()
        tz = self.tz()
        return now.astimezone(tz).date() if tz else now.date()

    def _read(self, work: Callable[[], Any], on_success: Done, label: str, on_failure: Failed = None) -> Op:
        return self.ops.run_db(work, on_success=on_success, on_failure=on_failure, label=label)

    def _write(self, work: Callable[[], Any], on_success: Done, writes: set[str], label: str,
               on_failure: Failed = None, initiator: Any = None) -> Op:
        return self.ops.run_db(work, on_success=on_success, on_failure=on_failure, writes=writes,
                               initiator=initiator, label=label)

    # --- signing in ---------------------------------------------------------------------------

    def sign_in_choices(self, *, on_success: Callable[[list[SignInChoice]], None]) -> Op:
        store, clinic_id = self.workspace.store, self.clinic.id
        return self._read(lambda: sign_in_choices(store, clinic_id=clinic_id), on_success, "sign-in list")

    def sign_in(self, staff_id: str, pin: str, *, on_success: Done, on_failure: Failed) -> Op:
        """Check the PIN on the worker; the caller makes the returned actor the desk's actor."""
        store = self.workspace.store
        return self._read(lambda: sign_in(store, pin=pin, staff_id=staff_id), on_success, "sign in", on_failure)

    # --- patients -----------------------------------------------------------------------------

    def search_patients(self, text: str, *, on_success: Callable[[list[Any]], None],
                        on_failure: Failed = None, limit: int = SEARCH_LIMIT) -> Op:
        actor, service = self.actor, self._patients
        return self._read(lambda: service.search(actor=actor, text=text, limit=limit), on_success,
                          "patient search", on_failure)

    def open_patient(self, patient_id: str, *, on_success: Callable[[Any], None],
                     on_failure: Failed = None, initiator: Any = None) -> Op:
        """Read one client's whole record (an audited read: it appends to the audit trail).

        ``on_success`` receives a :class:`app.ui.record.client_record.ClientRecord`.
        """
        from app.ui.record.client_record import ClientRecord

        actor, service, region, today, tz, now = (self.actor, self._records, self.region, self.today(),
                                                  self.tz(), self.now())

        def work() -> ClientRecord:
            return ClientRecord.build(service.client_file(actor=actor, patient_id=patient_id),
                                      region=region, today=today, tz=tz, now=now)

        return self._write(work, on_success, {AUDIT}, "open client record", on_failure, initiator)

    def read_timeline(self, patient_id: str, *, kind: str | None, before: datetime | None = None,
                      on_success: Callable[[Timeline], None], on_failure: Failed = None) -> Op:
        actor, service = self.actor, self._records
        return self._write(lambda: service.timeline(actor=actor, patient_id=patient_id, kind=kind, before=before),
                           on_success, {AUDIT}, "client timeline", on_failure)

    def find_duplicates(self, data: dict[str, Any], *, exclude_id: str | None,
                        on_success: Callable[[list[DuplicateCandidate]], None]) -> Op:
        actor, service = self.actor, self._patients
        return self._read(lambda: service.duplicates(actor=actor, data=data, exclude_id=exclude_id),
                          on_success, "duplicate check", lambda _exc: on_success([]))

    def create_patient(self, data: dict[str, Any], *, on_success: Callable[[str], None],
                       on_failure: Failed) -> Op:
        actor, service = self.actor, self._patients
        return self._write(lambda: service.create(actor=actor, data=data).id, on_success, {PATIENT},
                           "create client", on_failure)

    def update_patient(self, patient_id: str, changes: dict[str, Any], *, on_success: Done,
                       on_failure: Failed) -> Op:
        actor, service = self.actor, self._patients
        return self._write(lambda: service.update(actor=actor, patient_id=patient_id, changes=changes),
                           on_success, {PATIENT}, "edit client", on_failure)

    def patient_for_edit(self, patient_id: str, *, on_success: Callable[[PatientRecord], None],
                         on_failure: Failed = None) -> Op:
        """The client's current values for the edit form (an audited read)."""
        actor, service, region, today = self.actor, self._patients, self.region, self.today()
        return self._write(
            lambda: PatientRecord.from_patient(service.get(actor=actor, patient_id=patient_id), region=region,
                                               today=today),
            on_success, {AUDIT}, "client for editing", on_failure)

    # --- leads --------------------------------------------------------------------------------

    def lead_board(self, lead_filter: LeadFilter, *, on_success: Callable[[LeadBoard], None],
                   on_failure: Failed = None) -> Op:
        actor, service = self.actor, self._leads
        return self._read(lambda: service.board(actor=actor, filter=lead_filter), on_success, "leads", on_failure)

    def log_call(self, lead_id: str, *, on_success: Done, on_failure: Failed) -> Op:
        actor, service = self.actor, self._leads
        return self._write(lambda: service.log_call(actor=actor, lead_id=lead_id), on_success, {LEAD}, "log call",
                           on_failure)

    # --- possible duplicates ------------------------------------------------------------------

    def merge_reviews(self, *, on_success: Callable[[list[ReviewCase]], None], on_failure: Failed = None) -> Op:
        """Open reviews with both records (audited reads of both)."""
        actor, service = self.actor, self._reviews
        return self._write(lambda: service.open_cases(actor=actor), on_success, {AUDIT}, "possible duplicates",
                           on_failure)

    # --- settings -----------------------------------------------------------------------------

    def clinic_settings(self, *, on_success: Callable[[ClinicSettings], None], on_failure: Failed = None) -> Op:
        actor, service = self.actor, self._settings
        return self._read(lambda: service.snapshot(actor=actor), on_success, "settings", on_failure)

    def idle_lock_minutes(self, *, on_success: Callable[[int], None]) -> Op:
        actor, service = self.actor, self._settings
        return self._read(lambda: service.idle_lock_minutes(actor=actor), on_success, "idle lock time",
                          lambda _exc: None)

    def save_setting(self, kind: str, item_id: str | None, data: dict[str, Any], *, on_success: Done,
                     on_failure: Failed) -> Op:
        """Create (``item_id`` None) or edit a ``service``, ``room``, ``device`` or ``staff`` member;
        ``idle_lock`` takes ``data["minutes"]``."""
        actor, service = self.actor, self._settings
        work: Callable[[], Any]
        if kind == "service":
            def work() -> Any: return service.save_service(actor=actor, service_id=item_id, data=data)
        elif kind == "room":
            def work() -> Any: return service.save_room(actor=actor, room_id=item_id, data=data)
        elif kind == "device":
            def work() -> Any: return service.save_device(actor=actor, device_id=item_id, data=data)
        elif kind == "staff":
            def work() -> Any: return service.save_staff(actor=actor, staff_id=item_id, data=data)
        elif kind == "idle_lock":
            def work() -> Any: return service.set_idle_lock_minutes(actor=actor, minutes=data["minutes"])
        else:
            raise ValueError(f"unknown setting {kind!r}")
        writes = {SETTINGS, STAFF} if kind == "staff" else {SETTINGS}
        return self._write(work, on_success, writes, f"save {kind}", on_failure)

    # --- the store ----------------------------------------------------------------------------

    def summarize_store(self, *, on_success: Callable[[StoreSummary], None]) -> Op:
        workspace = self.workspace

        def work() -> StoreSummary:
            status = collect_status(workspace)
            return StoreSummary(int(status["patients"]), bool(status["encrypted"]),
                                int(status["pending_changes"]))

        return self._read(work, on_success, "store summary")
