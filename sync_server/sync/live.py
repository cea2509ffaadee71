"""The live channel: "the clinic has changes up to N" as server-sent events.

One :class:`LiveHub` per API process (built by ``create_app``, started and stopped by its
lifespan). Every open ``/api/v1/sync/live`` stream subscribes to its clinic's watch. A watch's
high water advances in two ways:

- in-process: the push endpoint calls :meth:`LiveHub.notify` right after its transaction
  commits, which wakes the streams of that clinic at once;
- across processes, on PostgreSQL: one connection per process LISTENs on ``glowdesk_sync``;
  triggers (server revision 0010) NOTIFY ``seq:<clinic>:<n>`` when a clinic's sequence
  advances and ``revoked:<clinic>`` when a device is revoked, delivered by PostgreSQL only
  when the writing transaction commits. Nothing is queried while nothing happens; after the
  listening connection is (re)made, the watched clinics are read once, so a notification
  missed while it was down is caught up;
- across processes, on SQLite (one process in practice): while a clinic has subscribers, the
  hub polls ``clinic_sync_state`` (and the subscribers' devices, for revocation) every
  ``poll_interval`` seconds in a short read-only transaction of its own, one query per clinic
  for all of its streams.

No stream holds a database session while it waits. A stream ends when its device is revoked
(after an ``event: revoked``), when the client goes away, and when the server shuts down
(:meth:`LiveHub.close`, also hooked to SIGINT/SIGTERM so that uvicorn's graceful shutdown is not
held up by open streams).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from core.clock import Clock
from core.sync import LiveEvent
from sync_server import tenancy
from sync_server.clinics.models import Device
from sync_server.db import Database
from sync_server.sync import repository

log = logging.getLogger(__name__)

#: How often a process re-reads the high water of the clinics it streams to (SQLite).
POLL_INTERVAL = 0.25
#: The PostgreSQL channel of the sequence and revocation triggers (server revision 0010).
CHANNEL = "glowdesk_sync"
#: How long the listening thread waits for a notification before checking whether to stop.
LISTEN_TICK = 1.0
#: How often an idle stream says it is alive.
PING_INTERVAL = 15.0
#: What a browser-style EventSource waits before reconnecting (milliseconds).
RETRY_MS = 2000


@dataclass
class _Watch:
    """One clinic's state as this process knows it, and the streams waiting on it."""

    high: int = 0
    revoked: set[str] = field(default_factory=set)
    devices: dict[str, int] = field(default_factory=dict)  # device id -> open streams
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        self.event.set()
        self.event = asyncio.Event()


def sse(event: str, data: dict[str, Any], *, event_id: int | None = None) -> str:
    """One server-sent event (``event:``, optional ``id:``, one ``data:`` line of JSON)."""
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


class LiveHub:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        poll_interval: float = POLL_INTERVAL,
        ping_interval: float = PING_INTERVAL,
    ) -> None:
        self._db = db
        self._clock = clock
        self.poll_interval = poll_interval
        self.ping_interval = ping_interval
        self._watches: dict[str, _Watch] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._poller: asyncio.Task[None] | None = None
        self._closing = False
        self._poll_failures = 0
        #: PostgreSQL: changes are pushed to a listening connection instead of polled
        self.listens = db.dialect == "postgresql"
        self._listener: threading.Thread | None = None
        self._listen_stop = threading.Event()
        self.listening = threading.Event()  # set while the LISTEN connection is up (tests)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._closing = False
        self._hook_exit_signals()
        if self.listens:
            self._listen_stop.clear()
            self._listener = threading.Thread(target=self._listen_main, name="glowdesk-live-listen", daemon=True)
            self._listener.start()

    async def stop(self) -> None:
        self.close()
        self._listen_stop.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            await run_in_threadpool(listener.join, LISTEN_TICK * 3)
        if self._poller is not None:
            self._poller.cancel()
            try:
                await self._poller
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - stopping anyway
                pass
            self._poller = None

    def close(self) -> None:
        """End every stream (server shutdown). Call on the hub's event loop."""
        self._closing = True
        for watch in self._watches.values():
            watch.wake()

    def close_threadsafe(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.close)

    @property
    def closing(self) -> bool:
        return self._closing

    def _hook_exit_signals(self) -> None:
        """Let SIGINT/SIGTERM end the streams before uvicorn waits for open connections.

        uvicorn installs its own handlers before the lifespan starts; ours runs first, then
        hands over. Nothing is done outside the main thread (TestClient) or when the current
        handler is not a Python callable (no server managing signals).
        """
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue

            def handler(signum: int, frame: Any, previous: Callable[[int, Any], Any] = previous) -> None:
                self.close_threadsafe()
                previous(signum, frame)

            signal.signal(sig, handler)

    # --- notifications ---------------------------------------------------------------------

    def notify_after_commit(self, session: Any) -> None:
        """Notify once ``session``'s transaction commits, if it wrote synced rows (the
        ``glowdesk.high_water`` that :class:`sync_server.records.service.ServerWrites` leaves);
        for endpoints whose changes should reach the desktops at once, not at the next poll."""
        from sqlalchemy import event

        def committed(_session: Any) -> None:
            high = _session.info.get("glowdesk.high_water")
            if high is not None:
                self.notify(*high)

        event.listen(session, "after_commit", committed, once=True)

    def notify(self, clinic_id: str, seq: int) -> None:
        """A push of ``clinic_id`` committed up to ``seq`` (any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._advance, clinic_id, seq, None)

    def _advance(self, clinic_id: str, seq: int, revoked: set[str] | None) -> None:
        watch = self._watches.get(clinic_id)
        if watch is None:
            return
        woke = False
        if seq > watch.high:
            watch.high = seq
            woke = True
        if revoked is not None and revoked != watch.revoked:
            watch.revoked = revoked
            woke = True
        if woke:
            watch.wake()

    # --- listening (PostgreSQL) --------------------------------------------------------------

    def _listen_main(self) -> None:
        """One LISTEN connection for the process, made again (with backoff) when it drops."""
        import psycopg

        conninfo = self._db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        failures = 0
        while not self._listen_stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    failures = 0
                    self._catch_up()
                    while not self._listen_stop.is_set():
                        for note in conn.notifies(timeout=LISTEN_TICK):
                            self._heard(note.payload)
            except Exception as exc:  # noqa: BLE001 - the database may be briefly away
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:
                    log.warning("live channel: cannot listen for changes (%s)", type(exc).__name__)
            finally:
                self.listening.clear()
            self._listen_stop.wait(min(30.0, 0.5 * 2 ** min(failures, 6)))

    def _heard(self, payload: str) -> None:
        kind, _, rest = payload.partition(":")
        if kind == "seq":
            clinic_id, _, seq = rest.rpartition(":")
            if clinic_id and seq.isdigit():
                self.notify(clinic_id, int(seq))
        elif kind == "revoked" and rest:
            self._refresh_threadsafe([rest])

    def _catch_up(self) -> None:
        """Read every watched clinic once (after the LISTEN connection is made)."""
        self._refresh_threadsafe(None)

    def _refresh_threadsafe(self, clinic_ids: list[str] | None) -> None:
        """Have the loop read these clinics (None: every watched one) now; from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            asyncio.run_coroutine_threadsafe(self._refresh(clinic_ids), loop)

    async def _refresh(self, clinic_ids: list[str] | None) -> None:
        for clinic_id in list(self._watches) if clinic_ids is None else clinic_ids:
            watch = self._watches.get(clinic_id)
            if watch is None:
                continue
            try:
                seq, revoked = await run_in_threadpool(self._read, clinic_id, sorted(watch.devices))
            except Exception as exc:  # noqa: BLE001 - the database may be briefly away
                log.warning("live channel: cannot read the sync state (%s)", type(exc).__name__)
                continue
            self._advance(clinic_id, seq, revoked)

    # --- polling (SQLite) ---------------------------------------------------------------------

    def _read(self, clinic_id: str, device_ids: list[str]) -> tuple[int, set[str]]:
        with self._db.transaction(write=False, app_role=True) as session:
            tenancy.enter_clinic(session, clinic_id)
            seq = repository.last_seq(session, clinic_id=clinic_id)
            revoked = set(session.execute(
                select(Device.id).where(
                    Device.clinic_id == clinic_id, Device.id.in_(device_ids), Device.revoked_at.is_not(None)
                )
            ).scalars())
        return seq, revoked

    async def _poll(self) -> None:
        while self._watches and not self._closing:
            for clinic_id, watch in list(self._watches.items()):
                try:
                    seq, revoked = await run_in_threadpool(self._read, clinic_id, sorted(watch.devices))
                except Exception as exc:  # noqa: BLE001 - the database may be briefly away
                    self._poll_failures += 1
                    if self._poll_failures in (1, 10) or self._poll_failures % 1000 == 0:
                        log.warning("live channel: cannot read the sync state (%s)", type(exc).__name__)
                    continue
                self._poll_failures = 0
                self._advance(clinic_id, seq, revoked)
            await asyncio.sleep(self.poll_interval)
        self._poller = None

    def _subscribe(self, clinic_id: str, device_id: str, seq: int) -> _Watch:
        if self.listens and clinic_id not in self._watches:
            # a commit between the endpoint's read of ``seq`` and now found no watch to
            # advance: read the new watch once
            asyncio.get_running_loop().create_task(self._refresh([clinic_id]))
        watch = self._watches.setdefault(clinic_id, _Watch())
        watch.devices[device_id] = watch.devices.get(device_id, 0) + 1
        watch.high = max(watch.high, seq)
        if not self.listens and (self._poller is None or self._poller.done()):
            self._poller = asyncio.get_running_loop().create_task(self._poll())
        return watch

    def _unsubscribe(self, clinic_id: str, device_id: str) -> None:
        watch = self._watches.get(clinic_id)
        if watch is None:
            return
        left = watch.devices.get(device_id, 0) - 1
        if left > 0:
            watch.devices[device_id] = left
        else:
            watch.devices.pop(device_id, None)
        if not watch.devices:
            del self._watches[clinic_id]

    def subscribers(self, clinic_id: str) -> int:
        watch = self._watches.get(clinic_id)
        return sum(watch.devices.values()) if watch else 0

    # --- one stream ------------------------------------------------------------------------

    async def stream(self, *, clinic_id: str, device_id: str, seq: int) -> AsyncIterator[str]:
        """The event stream of one device: ``changes`` now and whenever the high water moves,
        ``ping`` when idle for ``ping_interval``; ends on revocation or shutdown."""
        watch = self._subscribe(clinic_id, device_id, seq)
        try:
            yield f"retry: {RETRY_MS}\n\n"
            sent = -1
            last = time.monotonic()
            while not self._closing:
                if device_id in watch.revoked:
                    yield sse("revoked", {
                        "code": "device_revoked",
                        "message": "This workstation's access was revoked. Ask an administrator for a new "
                                   "enrollment code to enrol it again.",
                    })
                    return
                if watch.high > sent:
                    sent = watch.high
                    yield sse("changes", self._event("changes", sent), event_id=sent)
                    last = time.monotonic()
                    continue
                wait = self.ping_interval - (time.monotonic() - last)
                if wait <= 0:
                    yield sse("ping", self._event("ping", sent))
                    last = time.monotonic()
                    continue
                try:
                    await asyncio.wait_for(watch.event.wait(), timeout=wait)
                except TimeoutError:
                    pass
        finally:
            self._unsubscribe(clinic_id, device_id)

    def _event(self, kind: str, seq: int) -> dict[str, Any]:
        event = LiveEvent(type=kind, up_to_seq=seq, server_time=self._clock.now())  # type: ignore[arg-type]
        return event.model_dump(mode="json")
