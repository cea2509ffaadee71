"""The background runner against a real server process: live channel, server down and back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.sync import SyncRunner, SyncState
from tests.integration.conftest import ServerProcess, make_clinic, server_rows, token_of


@pytest.fixture
def own_server(tmp_path: Path) -> Any:
    process = ServerProcess(tmp_path / "server-home").start()
    yield process
    process.stop()


def test_runner_follows_the_live_channel_and_survives_the_server_going_away(
    own_server: ServerProcess, desks: Any
) -> None:
    setup = make_clinic(own_server, codes=2)
    a, b = desks(own_server, setup, "a", "b")
    states: list[SyncState] = []
    runner = SyncRunner(
        a.store, engine=a.engine(), on_state=states.append, interval=60.0, debounce=0.05,
        backoff_base=0.2, backoff_cap=1.0,
    )
    runner.start()
    try:
        runner.wait_for(lambda s: s.online is True and s.live_connected and not s.syncing)

        # a change on another desktop arrives through the live channel (the interval is 60 s)
        pid = b.add_patient("Live", "Arrival")
        b.sync()
        runner.wait_for(lambda s: pid in a.rows("patient"), timeout=10)

        # a local change is pushed soon after the notification
        mine = a.add_patient("Local", "Push")
        done = runner.syncs
        runner.notify_local_change()
        runner.wait_for(lambda s: runner.syncs > done and s.pending_changes == 0 and not s.syncing, timeout=10)
        assert mine in server_rows(own_server.url, token_of(b), "patient")

        # the server goes away: offline since, the change waits, retries back off
        own_server.stop()
        offline = a.add_patient("Made", "Offline")
        runner.notify_local_change()
        down = runner.wait_for(lambda s: s.online is False and not s.syncing, timeout=15)
        assert down.offline_since is not None and down.pending_changes == 1
        assert down.last_error and "cannot be reached" in down.last_error
        assert not down.live_connected

        # it comes back on the same address: the live channel reconnects and syncs at once
        done = runner.syncs
        own_server.start()
        back = runner.wait_for(
            lambda s: runner.syncs > done and s.online is True and s.pending_changes == 0 and not s.syncing,
            timeout=20,
        )
        assert back.offline_since is None and back.last_sync_at is not None
        assert offline in server_rows(own_server.url, token_of(b), "patient")
    finally:
        runner.stop()
    assert not runner.running
    labels = [s.label for s in states]
    assert any(label.startswith("Offline since") for label in labels)
    assert labels[-1].startswith("Online")
