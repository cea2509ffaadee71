"""Syncing while the app is open: the background runner wired into the desk.

For an enrolled store, :class:`SyncController` runs :class:`app.sync.SyncRunner` with an engine
whose store work goes through ``Operations.call_db`` (the one DB worker, in order with every
screen's operations) while its network calls stay on the runner's own threads; the UI thread
never waits for either.

- Local writes nudge it: every ``changes_did_happen`` that is not only an audit entry calls
  ``notify_local_change`` (the runner debounces a burst into one push).
- What sync changed in the store is broadcast as one ``changes_did_happen`` with the screens'
  subjects (:data:`ENTITY_SUBJECTS`) and, as :attr:`SyncedChanges.patient_ids`, the clients whose
  record shows a changed row, so Today, Clients, Leads and an open record refresh by themselves.
- :attr:`state_changed` carries every new :class:`app.sync.SyncState` on the UI thread (online,
  offline since, pending, last sync, to review, stopped with its sentence).
- A store that is not enrolled (the demo clinic) never starts a runner: its state says so.
- :meth:`stop` (the window closing) stops both runner threads; a download in progress stops
  between two pages. Nothing is lost: unsent changes wait in the outbox for the next start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from app.services.workspace import Workspace
from app.sync.state import SyncState, load_state
from app.ui.desk import AUDIT, LEAD, PATIENT, SETTINGS, STAFF
from app.ui.operations import Operations

if TYPE_CHECKING:  # the engine loads when a store is enrolled (app.sync)
    from app.sync import SyncEngine, SyncRunner
    from app.sync.engine import SyncChanges

log = logging.getLogger(__name__)

APPOINTMENT = "appointment"
ACTIVITY = "activity"

#: the screens' change subjects for each synced entity (others are broadcast under their name)
ENTITY_SUBJECTS: dict[str, frozenset[str]] = {
    "patient": frozenset({PATIENT}),
    "appointment": frozenset({APPOINTMENT}),
    "activity": frozenset({ACTIVITY}),
    "lead": frozenset({LEAD}),
    "staff": frozenset({STAFF, SETTINGS}),
    "service": frozenset({SETTINGS}),
    "room": frozenset({SETTINGS}),
    "device": frozenset({SETTINGS}),
    "location": frozenset({SETTINGS}),
    "clinic": frozenset({SETTINGS}),
}
#: writes that are never sent to the server (opening a record only appends to the audit log)
LOCAL_ONLY = frozenset({AUDIT})


class SyncedChanges(set[str]):
    """The subjects of a ``changes_did_happen`` sent by sync, with the clients concerned."""

    def __init__(self, subjects: Iterable[str], patient_ids: Iterable[str] = ()) -> None:
        super().__init__(subjects)
        self.patient_ids: frozenset[str] = frozenset(patient_ids)


def subjects_for(entities: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for entity in entities:
        out |= ENTITY_SUBJECTS.get(entity, frozenset({entity}))
    return out


@dataclass(frozen=True)
class RunnerOptions:
    """How the runner paces itself (tests make it quick)."""

    interval: float = 60.0
    debounce: float = 0.3
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    live: bool = True


#: builds the engine (on the DB worker) for the workspace's store, with the store access it must use
EngineFactory = Callable[[Any, Callable[[Callable[[], Any]], Any]], "SyncEngine"]


def _engine_for(store: Any, run_db: Callable[[Callable[[], Any]], Any]) -> SyncEngine:
    from app.sync import SyncEngine

    return SyncEngine.for_store(store, run_db=run_db)


class SyncController(QObject):
    #: a new SyncState, on the UI thread
    state_changed = Signal(object)

    _runner_state = Signal(object)
    _runner_synced = Signal(object)

    def __init__(self, ops: Operations, workspace: Workspace, *, options: RunnerOptions | None = None,
                 background: bool = True, engine_factory: EngineFactory | None = None,
                 parent: QObject | None = None) -> None:
        """``background=False`` shows the stored state but never syncs (the self-test);
        ``engine_factory`` replaces the HTTP engine (tests give it an in-memory hub)."""
        super().__init__(parent)
        self.ops = ops
        self.workspace = workspace
        self.options = options or RunnerOptions()
        self.background = background
        self._engine_factory = engine_factory or _engine_for
        self.runner: SyncRunner | None = None
        self._state = SyncState(enrolled=False)
        #: the stored state has been read (until then the state above is only a placeholder)
        self.loaded = False
        self._started = False
        self._stopped = False
        self._runner_state.connect(self._set_state)
        self._runner_synced.connect(self._broadcast)
        ops.changes_did_happen.connect(self._changes_did_happen)

    # --- what the screens read ------------------------------------------------------------

    @property
    def state(self) -> SyncState:
        return self._state

    @property
    def is_demo(self) -> bool:
        return self.workspace.is_demo

    @property
    def can_sync(self) -> bool:
        return self.runner is not None and self.runner.running and not self._state.stopped

    # --- life -----------------------------------------------------------------------------

    def start(self) -> None:
        """Read the stored state; for an enrolled store, start the runner (once)."""
        if self._started:
            return
        self._started = True
        store, ops, factory, background = self.workspace.store, self.ops, self._engine_factory, self.background

        def build() -> tuple[SyncState, SyncEngine | None]:
            state = load_state(store)
            if not state.enrolled or not background:
                return state, None
            return state, factory(store, ops.call_db)

        ops.run_db(build, on_success=self._built, on_failure=self._failed_to_start, label="start syncing")

    def _built(self, result: tuple[SyncState, SyncEngine | None]) -> None:
        state, engine = result
        self._set_state(state)
        if engine is None:
            return
        if self._stopped:
            engine.close()
            return

        def on_state(new: SyncState) -> None:  # on a runner thread
            if not self._stopped:
                self._runner_state.emit(new)

        def on_synced(changes: SyncChanges) -> None:  # on a runner thread
            if not self._stopped:
                self._runner_synced.emit(changes)

        from app.sync import SyncRunner

        self.runner = SyncRunner(self.workspace.store, engine=engine, on_state=on_state, on_synced=on_synced,
                                 **asdict(self.options))
        self.runner.start()
        log.info("syncing with the clinic server in the background")

    def _failed_to_start(self, exc: BaseException) -> None:
        message = getattr(exc, "user_message", None) or "Syncing could not start; see the log file."
        self._set_state(self._state.with_(stopped_reason=message))

    def stop(self, timeout: float = 5.0) -> None:
        """Stop syncing (the app is closing). A download in progress stops between two pages."""
        self._stopped = True
        runner, self.runner = self.runner, None
        if runner is not None:
            runner.stop(timeout)
            if runner.running:
                log.warning("the sync runner did not stop within %.0f s; leaving it to end", timeout)

    def sync_now(self) -> None:
        if self.runner is not None:
            self.runner.sync_now()

    def refresh_state(self) -> None:
        """Read the stored counts again (after staff dismissed items to review)."""
        store = self.workspace.store

        def merged(stored: SyncState) -> None:
            current = self._state
            self._set_state(current.with_(
                pending_changes=stored.pending_changes, conflicts_to_review=stored.conflicts_to_review,
                rejected_changes=stored.rejected_changes,
            ) if current.enrolled else stored)

        self.ops.run_db(lambda: load_state(store), on_success=merged, on_failure=lambda _exc: None,
                        label="sync state")

    def remember_signed_in(self, staff_id: str | None) -> None:
        """Whoever signs in is the acting staff member of changes the system made here."""
        if not staff_id or not self._state.enrolled:
            return
        from app.sync import remember_staff

        store = self.workspace.store
        self.ops.run_db(lambda: remember_staff(store, staff_id), on_success=None,
                        on_failure=lambda _exc: None, label="remember who signed in")

    # --- plumbing -------------------------------------------------------------------------

    def _set_state(self, state: SyncState) -> None:
        if state == self._state and self.loaded:
            return
        self.loaded = True
        self._state = state
        self.state_changed.emit(state)

    def _broadcast(self, changes: SyncChanges) -> None:
        subjects = subjects_for(changes.entities)
        if subjects:
            self.ops.broadcast(SyncedChanges(subjects, changes.patient_ids), self)

    def _changes_did_happen(self, changes: set[str], initiator: Any) -> None:
        if initiator is self or self.runner is None:
            return
        if set(changes) - LOCAL_ONLY:
            self.runner.notify_local_change()


__all__ = ["ENTITY_SUBJECTS", "RunnerOptions", "SyncController", "SyncedChanges", "subjects_for"]
