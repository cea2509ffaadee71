"""The live channel (server-sent events) against a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sync_server.app import create_app
from sync_server.settings import Settings

from .conftest import DeviceRef, Personas, World
from .sync_helpers import VERSION_HEADERS, Desk, patient_fields
from .test_serve import REPO, free_port


class LiveServer:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.app.state.live.close_threadsafe()
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    app = create_app(settings)
    app.state.live.ping_interval = 0.5
    with LiveServer(app) as server:
        yield server


def events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """Parse a text/event-stream into {"event", "id", "data"} dicts (comments and retry skipped)."""
    event: dict[str, Any] = {}
    for line in response.iter_lines():
        if line == "":
            if "event" in event:
                yield event
            event = {}
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            event[name] = json.loads(value) if name == "data" else value


def next_changes(received: Iterator[dict[str, Any]]) -> dict[str, Any]:
    """The next ``changes`` event (pings may come first when the machine is slow)."""
    for event in received:
        if event["event"] != "ping":
            return event
    raise AssertionError("the stream ended")


def _stream(server_url: str, device: DeviceRef) -> Any:
    client = httpx.Client(base_url=server_url, timeout=httpx.Timeout(5.0))
    return client, client.stream("GET", "/api/v1/sync/live", headers={**device.headers(), **VERSION_HEADERS})


def test_a_push_reaches_another_desktops_stream_at_once(
    live_server: LiveServer, personas: Personas, world: World
) -> None:
    laptop = world.device(personas.a, "Owner laptop")
    http, stream = _stream(live_server.url, laptop)
    with http, stream as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        received = events(response)
        first = next(received)
        assert first["event"] == "changes"
        assert first["data"]["type"] == "changes" and first["data"]["up_to_seq"] == 0

        with httpx.Client(base_url=live_server.url, timeout=5) as pusher:
            desk = Desk(pusher, personas.device_a, personas.owner)
            sent = time.monotonic()
            desk.push(desk.m("patient", "insert", **patient_fields()), desk.m("patient", "insert", **patient_fields()))
            pushed = time.monotonic()
        event = next_changes(received)
        latency = time.monotonic() - pushed
        assert time.monotonic() - sent < 5
        assert event["event"] == "changes"
        assert event["data"]["up_to_seq"] == 2 and event["id"] == "2"
        assert latency < 1.0

        # Idle: a ping every ping_interval, carrying the high water.
        ping = next(received)
        assert ping["event"] == "ping" and ping["data"] == {**ping["data"], "type": "ping", "up_to_seq": 2}


def test_a_push_through_another_process_arrives_through_the_poll(
    live_server: LiveServer, settings: Settings, personas: Personas
) -> None:
    """SQLite: the 250 ms poll; PostgreSQL: NOTIFY from the sequence trigger, no polling."""
    hub = live_server.app.state.live
    if settings.is_postgresql:
        assert hub.listening.wait(10), "the LISTEN connection did not come up"
    http, stream = _stream(live_server.url, personas.device_b)
    with http, stream as response, TestClient(create_app(settings)) as other_process:
        received = events(response)
        assert next(received)["data"]["up_to_seq"] == 0
        desk = Desk(other_process, personas.device_b, personas.b_owner)
        desk.push(desk.m("patient", "insert", **patient_fields()))
        pushed = time.monotonic()
        event = next_changes(received)
        assert event["event"] == "changes" and event["data"]["up_to_seq"] == 1
        assert time.monotonic() - pushed < 1.5  # the 250 ms poll or NOTIFY, not the in-process notifier
        assert (hub._poller is None) == settings.is_postgresql  # PostgreSQL never polls
        # Clinic A's changes are never announced on B's stream.
        Desk(other_process, personas.device_a, personas.owner).push(
            Desk(other_process, personas.device_a, personas.owner).m("patient", "insert", **patient_fields()))
        assert next(received)["event"] == "ping"


def test_a_revoked_device_stream_ends(live_server: LiveServer, personas: Personas, world: World) -> None:
    laptop = world.device(personas.a, "Owner laptop")
    http, stream = _stream(live_server.url, laptop)
    with http, stream as response:
        received = events(response)
        assert next(received)["event"] == "changes"
        revoked = httpx.post(f"{live_server.url}/api/v1/devices/{laptop.id}/revoke",
                             headers=personas.device_a.headers(personas.owner), timeout=5)
        assert revoked.status_code == 200
        event = next_changes(received)
        assert event["event"] == "revoked" and event["data"]["code"] == "device_revoked"
        assert list(received) == []  # the stream ended
    again = httpx.get(f"{live_server.url}/api/v1/sync/live", headers=laptop.headers(), timeout=5)
    assert again.status_code == 401


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_open_streams_end_when_the_server_shuts_down(settings: Settings, personas: Personas) -> None:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GLOWDESK_SERVER_HOME": str(settings.server_home),
        "GLOWDESK_DATABASE_URL": settings.database_url,
        "GLOWDESK_SECRET_KEY": settings.ensure_secret_key(),
    }
    server = subprocess.Popen([sys.executable, "-m", "sync_server", "serve", "--port", str(port)],
                              cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                httpx.get(f"{url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        http, stream = _stream(url, personas.device_a)
        with http, stream as response:
            received = events(response)
            assert next(received)["event"] == "changes"
            stopped = time.monotonic()
            server.send_signal(signal.SIGTERM)
            assert list(received) == []  # ended cleanly, not by a timeout
        # uvicorn re-raises the signal after its graceful shutdown, hence -SIGTERM
        assert server.wait(timeout=10) in (0, -signal.SIGTERM)
        assert time.monotonic() - stopped < 5
        output = server.stdout.read() if server.stdout else ""
        assert "Application shutdown complete" in output
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
