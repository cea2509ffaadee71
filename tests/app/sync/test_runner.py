"""The runner's loop on a real store against the FakeHub: backoff, state, stopping."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.sync.runner import LocalPushThrottle, SyncRunner
from app.sync.state import SyncState
from core.clock import FixedClock
from tests.app.sync.conftest import Desktop
from tests.app.sync.fake_hub import FakeHub


def runner_for(desk: Desktop, states: list[SyncState], **kw: Any) -> SyncRunner:
    kw.setdefault("interval", 60.0)
    kw.setdefault("debounce", 0.01)
    kw.setdefault("backoff_base", 0.05)
    kw.setdefault("backoff_cap", 0.2)
    return SyncRunner(desk.store, engine=desk.engine, on_state=states.append, rng=random.Random(7), **kw)


def test_syncs_at_start_and_after_a_local_change(desktops: Any, hub: FakeHub) -> None:
    a = desktops("a")
    a.add_patient("First", "Start")
    states: list[SyncState] = []
    runner = runner_for(a, states)
    runner.start()
    try:
        runner.wait_for(lambda s: runner.syncs == 1 and s.pending_changes == 0 and not s.syncing)
        a.add_patient("Second", "Change")
        runner.notify_local_change()
        runner.wait_for(lambda s: runner.syncs == 2 and s.pending_changes == 0 and not s.syncing)
    finally:
        runner.stop()
    assert len(hub.rows) == 2
    assert states[-1].online is True and states[-1].last_sync_at is not None
    assert any(s.syncing for s in states)


def test_backs_off_while_the_server_is_down_then_recovers(desktops: Any, hub: FakeHub) -> None:
    a = desktops("a")
    hub.down = True
    states: list[SyncState] = []
    runner = runner_for(a, states)
    runner.start()
    try:
        down = runner.wait_for(lambda s: s.online is False and not s.syncing)
        assert down.offline_since is not None and down.next_attempt_at is not None
        a.add_patient("Waits", "Offline")
        for _ in range(5):
            runner.notify_local_change()  # does not hammer a dead server
        time.sleep(0.5)
        attempts = sum(1 for s in states if s.syncing)
        assert 2 <= attempts <= 12  # backoff of 0.05..0.2 s, not one attempt per notification
        hub.down = False
        up = runner.wait_for(lambda s: s.online is True and s.pending_changes == 0 and not s.syncing)
        assert up.offline_since is None and up.last_error is None
    finally:
        runner.stop()
    assert len(hub.rows) == 1


def test_stops_when_the_workstation_is_revoked(desktops: Any, hub: FakeHub) -> None:
    a = desktops("a")
    a.add_patient("Kept", "Locally")
    hub.revoked = True
    states: list[SyncState] = []
    runner = runner_for(a, states)
    runner.start()
    state = runner.wait_for(lambda s: s.stopped)
    deadline = time.monotonic() + 5
    while runner.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not runner.running
    assert state.stopped_reason is not None
    assert state.stopped_reason.startswith("This workstation's access was revoked")
    assert state.label.startswith("Sync stopped: This workstation's access was revoked")
    assert state.pending_changes == 1
    runner.stop()


def test_backoff_grows_with_jitter_up_to_the_cap(desktops: Any) -> None:
    a = desktops("a")
    runner = SyncRunner(a.store, engine=a.engine, backoff_base=1.0, backoff_cap=30.0, rng=random.Random(1))
    ceilings = [1, 2, 4, 8, 16, 30, 30]
    for failures, ceiling in enumerate(ceilings, start=1):
        delays = [runner.backoff(failures) for _ in range(50)]
        assert all(0.1 * ceiling <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > 0.3 * ceiling  # jittered, not in lockstep


def test_the_first_edit_after_a_quiet_spell_goes_at_once_and_a_burst_goes_as_one_push(
    desktops: Any, hub: FakeHub
) -> None:
    """Through the clock seam: the clock only moves when the test moves it, so the trailing
    window can only end when the test says so (no wall-clock waits)."""
    a = desktops("a")
    clock = FixedClock(datetime(2026, 11, 22, 17, 0, tzinfo=UTC))
    runner = runner_for(a, [], debounce=0.3, clock=clock)
    runner.start()
    try:
        runner.wait_for(lambda s: runner.syncs == 1 and not s.syncing)
        clock.advance(timedelta(minutes=5))  # a quiet spell
        a.add_patient("Leading", "Edge")
        runner.notify_local_change()
        # not a moment of the window has passed on the clock: only the leading edge can send it
        runner.wait_for(lambda s: runner.syncs == 2 and s.pending_changes == 0 and not s.syncing)
        assert [size for _, size in hub.pushes] == [1]

        for i in range(5):  # a burst right after it, inside the window
            a.add_patient(f"Burst{i}", "Typing")
            runner.notify_local_change()
        runner.wait_for(lambda s: s.pending_changes >= 1)  # the runner saw the burst and holds it
        assert a.pending() == 5
        assert runner.syncs == 2 and [size for _, size in hub.pushes] == [1]

        clock.advance(timedelta(seconds=0.3))
        runner.notify_local_change()  # any wake-up re-reads the clock
        runner.wait_for(lambda s: runner.syncs == 3 and s.pending_changes == 0 and not s.syncing)
        assert [size for _, size in hub.pushes] == [1, 5]  # the whole burst in one push

        clock.advance(timedelta(seconds=10))  # quiet again: the next edit goes at once
        a.add_patient("After", "Quiet")
        runner.notify_local_change()
        runner.wait_for(lambda s: runner.syncs == 4 and s.pending_changes == 0 and not s.syncing)
        assert [size for _, size in hub.pushes] == [1, 5, 1]
    finally:
        runner.stop()
    assert len(hub.rows) == 7


def test_local_push_throttle_on_a_fixed_clock() -> None:
    clock = FixedClock(datetime(2026, 11, 22, 17, 0, tzinfo=UTC))
    throttle = LocalPushThrottle(0.3, clock)
    assert throttle.delay() == 0.0  # nothing sent yet
    throttle.started()
    clock.advance(timedelta(seconds=0.1))
    assert throttle.delay() == pytest.approx(0.2)
    clock.advance(timedelta(seconds=0.25))
    assert throttle.delay() == 0.0
    assert LocalPushThrottle(0.0, clock).delay() == 0.0
