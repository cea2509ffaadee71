"""The background sync runner: plain threads, no Qt (the UI wraps the state callback in a signal).

A :class:`SyncRunner` syncs (``SyncEngine.sync_once``)

- at start;
- after a local change (:meth:`SyncRunner.notify_local_change`): the first change after a quiet
  spell at once (leading edge), and the changes that follow within ``debounce`` seconds of that
  push together in one push when the window has passed (trailing edge), so a person typing in
  a form does not send one push per field while a single edit reaches the other desks at once
  (:class:`LocalPushThrottle`);
- when the live channel says the clinic has changes beyond this workstation's cursor;
- every ``interval`` seconds otherwise (a safety net for a live channel that silently died);
- on :meth:`SyncRunner.sync_now`.

Failures back off exponentially with full jitter (``backoff_base * 2**n``, capped): server down,
network dropped mid-page, 5xx. During a backoff local changes do not hammer a dead server; the
live channel coming back (the server is up again) or ``sync_now`` end the backoff at once. A
failure that retrying cannot fix (revoked workstation, protocol mismatch) stops the runner with
:attr:`SyncState.stopped_reason`. A runner killed at any point loses nothing: outbox entries are
acknowledged only after the server answered, a repeated push is a duplicate on the server, and
a pulled page is applied together with its cursor.

The live channel (server-sent events) has a thread of its own that reconnects with the same
backoff. ``on_state(state)`` is called (from a runner thread) whenever the state changes;
``on_synced(changes)`` after every round (failed ones too) that changed what the store shows
(:class:`app.sync.engine.SyncChanges`), so that a UI can refresh exactly that.

:meth:`SyncRunner.stop` also tells the engine to stop between two requests
(:class:`app.sync.errors.SyncCancelled`), so a long download does not hold the app open.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from app.db.store import Store
from app.sync.client import SyncClient
from app.sync.engine import SyncChanges, SyncEngine, classify
from app.sync.errors import SyncError, SyncStopped
from app.sync.state import SyncState, load_state
from core.clock import Clock, SystemClock
from core.sync import ProtocolMismatch

log = logging.getLogger(__name__)

StateCallback = Callable[[SyncState], None]
SyncedCallback = Callable[[SyncChanges], None]

#: wake reasons
LOCAL = "local"
LIVE = "live"
NOW = "now"
RECONNECTED = "reconnected"


class LocalPushThrottle:
    """When a round for local changes may start: at once after a quiet spell, otherwise
    ``window`` seconds after the previous local round started (one push for the whole burst).

    Pure bookkeeping on a :class:`core.clock.Clock`, so tests drive it without waiting.
    """

    def __init__(self, window: float, clock: Clock) -> None:
        self.window = window
        self.clock = clock
        self._last: datetime | None = None

    def delay(self) -> float:
        """Seconds to wait before pushing the local changes waiting now (0: push at once)."""
        if self._last is None or self.window <= 0:
            return 0.0
        since = (self.clock.now() - self._last).total_seconds()
        return max(0.0, self.window - since)

    def started(self) -> None:
        """A round carrying local changes started now."""
        self._last = self.clock.now()


class SyncRunner:
    def __init__(
        self,
        store: Store,
        *,
        engine: SyncEngine | None = None,
        on_state: StateCallback | None = None,
        on_synced: SyncedCallback | None = None,
        interval: float = 60.0,
        debounce: float = 0.3,
        backoff_base: float = 1.0,
        backoff_cap: float = 300.0,
        live: bool = True,
        rng: random.Random | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self._engine = engine
        self._on_state = on_state
        self._on_synced = on_synced
        self.interval = interval
        self.debounce = debounce
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._use_live = live
        self._rng = rng or random.Random()
        self._clock: Clock = clock or SystemClock()
        self._throttle = LocalPushThrottle(debounce, self._clock)
        self._cond = threading.Condition()
        self._reasons: set[str] = set()
        self._stopping = False
        self._failures = 0
        self._live_seq = -1
        self._state = SyncState(enrolled=False)
        self._state_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._live_thread: threading.Thread | None = None
        self._live_client: SyncClient | None = None
        self._stopping_live = False
        self.syncs = 0  # completed sync rounds (tests and diagnostics)

    # --- public ------------------------------------------------------------------------------

    @property
    def state(self) -> SyncState:
        with self._state_lock:
            return self._state

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("this runner was already started")
        self._thread = threading.Thread(target=self._main, name="glowdesk-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop both threads; a sync in flight finishes its current request first."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        client = self._live_client
        if client is not None:
            client.close_live()
        for thread in (self._thread, self._live_thread):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)

    def notify_local_change(self) -> None:
        """Something was written locally: push it soon."""
        self._wake(LOCAL)

    def sync_now(self) -> None:
        """Sync at once, even during a backoff."""
        self._wake(NOW)

    def wait_for(self, predicate: Callable[[SyncState], bool], timeout: float = 10.0) -> SyncState:
        """Block until ``predicate(state)`` holds (tests, the CLI); raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"sync state did not get there in {timeout} s: {state}")
            time.sleep(0.02)

    # --- internals ---------------------------------------------------------------------------

    def _wake(self, reason: str) -> None:
        with self._cond:
            self._reasons.add(reason)
            self._cond.notify_all()

    def _publish(self, **changes: Any) -> None:
        with self._state_lock:
            before = self._state
            after = before.with_(**changes) if changes else before
            self._state = after
        if after != before and self._on_state is not None:
            try:
                self._on_state(after)
            except Exception:  # noqa: BLE001 - a UI callback must not kill the runner
                log.exception("the sync state callback raised")

    def _reload(self, **changes: Any) -> None:
        """Re-read the stored state (counts, outcome) and overlay the live-only parts."""
        try:
            stored = self._engine.state() if self._engine is not None else load_state(self.store)
        except Exception:  # noqa: BLE001 - keep the last known counts
            log.warning("could not read the sync state from the store", exc_info=True)
            self._publish(**changes)
            return
        with self._state_lock:
            current = self._state
        self._publish(
            **{
                **stored.__dict__,
                "syncing": current.syncing,
                "live_connected": current.live_connected,
                "next_attempt_at": current.next_attempt_at,
                **changes,
            }
        )

    def backoff(self, failures: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**(failures-1))], at least 10% of it."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** max(0, failures - 1))
        return float(ceiling * (0.1 + 0.9 * self._rng.random()))

    def _remaining(self, deadline: datetime) -> float:
        return (deadline - self._clock.now()).total_seconds()

    def _wait(self, delay: float) -> set[str]:
        """Sleep up to ``delay`` s or until woken; during a backoff only strong reasons wake."""
        deadline = self._clock.now() + timedelta(seconds=delay)
        with self._cond:
            while not self._stopping:
                strong = self._reasons & {NOW, RECONNECTED, LIVE}
                if self._reasons and (self._failures == 0 or strong):
                    break
                remaining = self._remaining(deadline)
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            reasons, self._reasons = self._reasons, set()
        return reasons

    def _hold_local(self) -> None:
        """Trailing edge: local changes within the window of the previous local push wait for
        the window's end (every change of a burst goes in that one push). Any wake-up
        re-reads the clock; ``sync_now`` and live changes end the wait early."""
        hold = self._throttle.delay()
        if hold > 0:
            self._reload()  # show the new pending count at once
            deadline = self._clock.now() + timedelta(seconds=hold)
            with self._cond:
                while not self._stopping and not (self._reasons & {NOW, LIVE}):
                    remaining = self._remaining(deadline)
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                self._reasons.discard(LOCAL)
        self._throttle.started()

    def _main(self) -> None:
        try:
            if self._engine is None:
                self._engine = SyncEngine.for_store(self.store)
        except SyncStopped as exc:
            self._reload(stopped_reason=exc.user_message)
            return
        except Exception as exc:  # noqa: BLE001
            log.exception("could not start syncing")
            self._reload(last_error=str(exc))
            return
        if self._engine.should_stop is None:
            self._engine.should_stop = lambda: self._stopping
        self._reload(stopped_reason=None)
        if self._use_live and isinstance(self._engine.transport, SyncClient):
            self._live_thread = threading.Thread(target=self._live_main, name="glowdesk-sync-live", daemon=True)
            self._live_thread.start()
        delay = 0.0
        while True:
            reasons = self._wait(delay) if delay > 0 else set()
            if self._stopping:
                break
            if reasons == {LIVE} and self._live_seq <= self.state.cursor and self._failures == 0:
                delay = self.interval
                continue  # our own change echoed back, already pulled
            if LOCAL in reasons:
                self._hold_local()
                if self._stopping:
                    break
            next_delay = self._round()
            if next_delay is None:
                break
            delay = next_delay
        self._publish(syncing=False)
        engine = self._engine
        if engine is not None:
            engine.close()

    def _round(self) -> float | None:
        """One sync; the delay until the next one, or None to stop."""
        engine = self._engine
        assert engine is not None
        self._publish(syncing=True, next_attempt_at=None)
        try:
            engine.sync_once()
        except BaseException as exc:
            self._tell_synced()
            kind = classify(exc)
            if kind is None:
                raise
            if kind == "cancelled":
                self._publish(syncing=False)
                return None
            if kind == "stopped":
                message = getattr(exc, "user_message", str(exc))
                log.warning("sync stopped: %s", getattr(exc, "code", type(exc).__name__))
                self._reload(syncing=False, stopped_reason=message)
                self._stop_live()
                return None
            self._failures += 1
            delay = self.backoff(self._failures)
            if not isinstance(exc, SyncError | ProtocolMismatch):
                log.error("sync failed unexpectedly", exc_info=True)
            else:
                log.info("sync failed (%s); retry in %.1f s", getattr(exc, "code", "?"), delay)
            self._reload(syncing=False, next_attempt_at=self._clock.now() + timedelta(seconds=delay))
            return delay
        self._failures = 0
        self.syncs += 1
        self._tell_synced()
        self._reload(syncing=False, next_attempt_at=None)
        return self.interval

    def _tell_synced(self) -> None:
        engine = self._engine
        if engine is None or self._on_synced is None:
            return
        changes = engine.take_changes()
        if not changes:
            return
        try:
            self._on_synced(changes)
        except Exception:  # noqa: BLE001 - a UI callback must not kill the runner
            log.exception("the synced callback raised")

    # --- live channel ------------------------------------------------------------------------

    def _stop_live(self) -> None:
        with self._cond:
            self._stopping_live = True
        client = self._live_client
        if client is not None:
            client.close_live()

    def _live_main(self) -> None:
        engine = self._engine
        assert engine is not None and isinstance(engine.transport, SyncClient)
        client = SyncClient(engine.transport.base_url, engine.transport.token)
        self._live_client = client
        failures = 0

        def opened() -> None:
            nonlocal failures
            failures = 0
            self._publish(live_connected=True)
            if self._failures:
                self._wake(RECONNECTED)

        try:
            while not self._stopping and not self._stopping_live:
                try:
                    for event in client.live(on_open=opened):
                        if self._stopping or self._stopping_live:
                            break
                        if event.type == "changes":
                            self._live_seq = max(self._live_seq, event.up_to_seq)
                            if event.up_to_seq > self.state.cursor:
                                self._wake(LIVE)
                    failures = 0
                except (SyncStopped, ProtocolMismatch):
                    self._wake(NOW)  # the main loop finds out and stops with the reason
                    return
                except Exception as exc:  # noqa: BLE001 - any drop: reconnect later
                    failures += 1
                    log.debug("live channel: %s", type(exc).__name__)
                self._publish(live_connected=False)
                delay = self.backoff(failures) if failures else 0.2
                with self._cond:
                    self._cond.wait_for(lambda: self._stopping, delay)
        finally:
            self._publish(live_connected=False)
            client.close()
