"""Background work for the UI: one DB worker thread, a network pool, one "changes happened" signal.

The UI never touches the store and never blocks on it (DESIGN.md "The desktop client"). A screen
asks for work and gets the answer back on the UI thread::

    ops.run_db(
        lambda: patients.search(actor=actor, text=text),   # runs on the DB worker thread
        on_success=self._show_hits,                          # runs on the UI thread
        label="patient search",
    )
    ops.run_db(
        lambda: patients.update(actor=actor, patient_id=pid, changes=changes),
        on_success=self._saved,
        writes={"patient"},          # after success: changes_did_happen({"patient"}, self)
        initiator=self,
    )

- Every ``run_db`` function runs on the same single thread, in the order submitted: the SQLCipher
  file is serialised there, so no two operations ever use the store at once.
- ``on_failure(exc)`` runs on the UI thread if given. Without it the failure is logged (without
  patient data) and ``operation_did_fail(label, message)`` is emitted, where the message is a
  Glowdesk error's own sentence or a generic one; the main window shows it.
- ``on_progress``: the function is then called with a ``report(*args)`` callable; the reports
  reach ``on_progress(*args)`` on the UI thread (rate-limited).
- ``Op.cancel()`` drops the callbacks of an operation (a stale search), and skips it entirely if
  it has not started. A write that already ran still broadcasts its changes.
- ``run_network`` is the same contract on a separate thread pool, for calls to the sync server;
  it must never touch the store.
- ``call_db(func)`` is for background threads that are not the UI (the sync engine on its
  runner thread or the network pool): it runs ``func`` on the DB worker, in order with every
  other operation, and *waits* for its result. It refuses to run on the UI thread, and raises
  :class:`OperationsClosed` rather than wait forever once the worker has stopped.
- ``broadcast(changes, initiator)`` emits ``changes_did_happen`` for writes that did not come
  from an operation (what sync pulled in).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThread, QThreadPool, Signal, Slot

from app.ui.errors import log_failure, user_message

log = logging.getLogger(__name__)

#: seconds between two progress reports delivered to the UI thread
PROGRESS_INTERVAL = 0.04

Callback = Callable[[Any], None]


class Op:
    """A handle on one submitted operation."""

    __slots__ = ("label", "_cancelled", "_done")

    def __init__(self, label: str) -> None:
        self.label = label
        self._cancelled = False
        self._done = False

    def cancel(self) -> None:
        """Its callbacks will not run; if it has not started yet, it will not run at all."""
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @property
    def done(self) -> bool:
        return self._done

    def __repr__(self) -> str:
        state = "done" if self._done else "cancelled" if self._cancelled else "pending"
        return f"<Op {self.label!r} {state}>"


@dataclass(eq=False)
class _Job:
    op: Op
    func: Callable[..., Any]
    on_success: Callback | None
    on_failure: Callable[[BaseException], None] | None
    on_progress: Callable[..., None] | None = None
    writes: frozenset[str] = frozenset()
    initiator: Any = None
    last_progress: float = field(default=0.0)


_SKIPPED = object()


class OperationsClosed(RuntimeError):
    """The DB worker has stopped (the app is closing): the work was not run."""


@dataclass(eq=False)
class _Call:
    """``call_db``'s work: run on the DB worker, its outcome handed to the waiting thread."""

    func: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)

    def run(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            result = self.func()
        except BaseException as exc:  # handed to the caller's thread
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)


def _execute(job: _Job, finished: Any, progressed: Any) -> None:
    """Run one job on the current (worker) thread and post its outcome to the UI thread."""
    if job.op.cancelled:
        finished.emit((job, _SKIPPED, None))
        return
    try:
        if job.on_progress is not None:

            def report(*args: Any) -> None:
                now = time.monotonic()
                if now - job.last_progress >= PROGRESS_INTERVAL:
                    job.last_progress = now
                    progressed.emit(job, args)

            result = job.func(report)
        else:
            result = job.func()
    except Exception as exc:  # delivered to on_failure on the UI thread
        finished.emit((job, False, exc))
    else:
        finished.emit((job, True, result))


class _DbThread(QThread):
    """The one thread that talks to the store: a FIFO of jobs, run one at a time."""

    def __init__(self, finished: Any, progressed: Any) -> None:
        super().__init__()
        self.setObjectName("glowdesk-db")
        self._queue: queue.SimpleQueue[_Job | _Call | Callable[[], Any] | None] = queue.SimpleQueue()
        self._finished = finished
        self._progressed = progressed
        self.thread_id: int | None = None

    def submit(self, job: _Job | _Call) -> None:
        self._queue.put(job)

    def stop(self, final: Callable[[], Any] | None) -> None:
        if final is not None:
            self._queue.put(final)
        self._queue.put(None)

    def run(self) -> None:
        self.thread_id = threading.get_ident()
        threading.current_thread().name = "glowdesk-db"  # in log lines
        while True:
            item = self._queue.get()
            if item is None:
                self.thread_id = None  # a later thread may get the same ident
                return
            if isinstance(item, _Job):
                _execute(item, self._finished, self._progressed)
                continue
            if isinstance(item, _Call):
                item.run()
                continue
            try:  # the final step at shutdown (closing the store)
                item()
            except Exception as exc:
                log_failure("shutdown", exc)


class _NetworkTask(QRunnable):
    def __init__(self, job: _Job, finished: Any, progressed: Any) -> None:
        super().__init__()
        self._job, self._finished, self._progressed = job, finished, progressed

    def run(self) -> None:
        _execute(self._job, self._finished, self._progressed)


class Operations(QObject):
    """The app's background helpers. Create one per app (or per test), ``shutdown()`` at exit."""

    #: ``changes_did_happen(changes: set[str], initiator)`` after every successful write
    changes_did_happen = Signal(object, object)
    #: ``operation_did_fail(label, message)`` for failures without their own ``on_failure``
    operation_did_fail = Signal(str, str)

    _finished = Signal(object)
    _progressed = Signal(object, object)

    def __init__(self, parent: QObject | None = None, *, network_threads: int = 4) -> None:
        super().__init__(parent)
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._progressed.connect(self._deliver_progress, Qt.ConnectionType.QueuedConnection)
        self._db = _DbThread(self._finished, self._progressed)
        self._db.start()
        self._network = QThreadPool(self)
        self._network.setMaxThreadCount(network_threads)
        self._running: set[_Job] = set()
        self._closed = False

    # --- submitting work --------------------------------------------------------------------

    def run_db(
        self,
        func: Callable[..., Any],
        *,
        on_success: Callback | None,
        on_failure: Callable[[BaseException], None] | None = None,
        on_progress: Callable[..., None] | None = None,
        writes: Iterable[str] = (),
        initiator: Any = None,
        label: str = "",
    ) -> Op:
        """Run ``func`` on the DB worker thread; callbacks come back on the UI thread."""
        job = self._job(func, on_success, on_failure, on_progress, writes, initiator, label)
        self._db.submit(job)
        return job.op

    def run_network(
        self,
        func: Callable[..., Any],
        *,
        on_success: Callback | None,
        on_failure: Callable[[BaseException], None] | None = None,
        on_progress: Callable[..., None] | None = None,
        label: str = "",
    ) -> Op:
        """Run ``func`` on the network pool (never the store); callbacks on the UI thread."""
        job = self._job(func, on_success, on_failure, on_progress, (), None, label)
        self._network.start(_NetworkTask(job, self._finished, self._progressed))
        return job.op

    def call_db(self, func: Callable[[], Any]) -> Any:
        """Run ``func`` on the DB worker and return its result (or raise its exception), from a
        background thread. Never call it on the UI thread."""
        if self.is_db_thread():
            return func()
        if QThread.currentThread() == self.thread():
            raise RuntimeError("call_db would block the UI thread; use run_db")
        if self._closed:
            raise OperationsClosed("the database worker has stopped")
        call = _Call(func)
        self._db.submit(call)
        while not call.future.done():
            wait([call.future], timeout=0.2)
            if not call.future.done() and self._db.isFinished() and call.future.cancel():
                raise OperationsClosed("the database worker has stopped")
        return call.future.result()

    def broadcast(self, changes: set[str], initiator: Any = None) -> None:
        """``changes_did_happen(changes, initiator)`` for writes made outside an operation."""
        if changes:
            self.changes_did_happen.emit(changes, initiator)

    def _job(
        self,
        func: Callable[..., Any],
        on_success: Callback | None,
        on_failure: Callable[[BaseException], None] | None,
        on_progress: Callable[..., None] | None,
        writes: Iterable[str],
        initiator: Any,
        label: str,
    ) -> _Job:
        if self._closed:
            raise RuntimeError("operations were shut down")
        job = _Job(Op(label or getattr(func, "__name__", "operation")), func, on_success, on_failure,
                   on_progress, frozenset(writes), initiator)
        self._running.add(job)
        return job

    # --- state ------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Operations submitted whose callbacks have not been delivered yet."""
        return len(self._running)

    def is_db_thread(self) -> bool:
        """True when called on the DB worker thread (for assertions in tests and services)."""
        return self._db.thread_id == threading.get_ident()

    def shutdown(self, *, final: Callable[[], Any] | None = None, timeout_ms: int = 10_000) -> bool:
        """Let queued DB work finish, run ``final`` on the DB thread (close the store), stop.

        Callbacks of work still queued are not delivered. Returns False on timeout.
        """
        if self._closed:
            return True
        self._closed = True
        self._db.stop(final)
        stopped = self._db.wait(timeout_ms)
        self._network.waitForDone(timeout_ms)
        if not stopped:
            log.error("the database thread did not stop within %d ms", timeout_ms)
        return bool(stopped)

    # --- delivery on the UI thread ----------------------------------------------------------

    @Slot(object)
    def _deliver(self, payload: tuple[_Job, Any, Any]) -> None:
        job, outcome, value = payload
        self._running.discard(job)
        job.op._done = True
        if outcome is _SKIPPED:
            return
        if outcome is False:
            if not job.op.cancelled:
                self._fail(job, value)
            return
        if not job.op.cancelled and job.on_success is not None:
            try:
                job.on_success(value)
            except Exception as exc:
                self._fail(job, exc)
        if job.writes:
            self.changes_did_happen.emit(set(job.writes), job.initiator)

    @Slot(object, object)
    def _deliver_progress(self, job: _Job, args: tuple[Any, ...]) -> None:
        if job.op.cancelled or job.op.done or job.on_progress is None:
            return
        try:
            job.on_progress(*args)
        except Exception as exc:
            log_failure(f"{job.op.label} (progress)", exc)

    def _fail(self, job: _Job, exc: BaseException) -> None:
        log_failure(job.op.label, exc)
        if job.on_failure is not None:
            try:
                job.on_failure(exc)
            except Exception as inner:
                log_failure(f"{job.op.label} (failure handler)", inner)
            return
        self.operation_did_fail.emit(job.op.label, user_message(exc))
