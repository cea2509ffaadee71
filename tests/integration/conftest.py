"""Desktops and a real clinic server process talking HTTP on 127.0.0.1.

- :class:`ServerProcess`: ``python -m sync_server serve --port <free>`` in a temporary
  ``GLOWDESK_SERVER_HOME`` (embedded SQLite), administered through its own CLI
  (``create-clinic``, ``create-staff``, ``enrollment-code``, ``revoke-device``).
- :class:`Desk`: one desktop: a real SQLCipher store in its own home with its own
  ``GLOWDESK_KEY_FILE``, enrolled with :func:`app.sync.enroll` over HTTP.

One server process serves the whole module; every test makes its own clinic, so tests never see
each other's rows.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import SYNCABLE_MODELS, OutboxEntry, Patient
from app.db.store import Store, open_store
from app.repositories import patients, rows, sync_state
from app.repositories.context import Actor
from app.repositories.uow import system_actor, unit_of_work
from app.sync import SyncEngine, enroll
from app.sync.client import SyncClient

REPO = Path(__file__).resolve().parents[2]
PIN = "2468"
SERVER_ENV_PREFIX = "GLOWDESK_"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SERVER_ENV_PREFIX)}
    env["GLOWDESK_SERVER_HOME"] = str(home)
    env.update(extra or {})
    return env


class ServerProcess:
    """A real server process and its admin CLI, on one data folder (``extra_env``: more
    GLOWDESK_ settings, e.g. a stand-in's URL; ``serve_args``: e.g. ``--with-worker``)."""

    def __init__(self, home: Path, port: int | None = None, *, extra_env: dict[str, str] | None = None,
                 serve_args: tuple[str, ...] = ()) -> None:
        self.home = home
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None
        self.log = home / "server.log"
        self.extra_env = dict(extra_env or {})
        self.serve_args = serve_args

    def start(self) -> ServerProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        out = self.log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sync_server", "serve", "--port", str(self.port), *self.serve_args],
            cwd=REPO, env=_env(self.home, self.extra_env), stdout=out, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start within 30 s"
            time.sleep(0.05)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def cli_start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "sync_server", *args], cwd=REPO, env=_env(self.home, self.extra_env),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    @staticmethod
    def cli_result(process: subprocess.Popen[str]) -> dict[str, Any]:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        result: dict[str, Any] = json.loads(out)
        return result

    def cli(self, *args: str) -> dict[str, Any]:
        return self.cli_result(self.cli_start(*args))


@dataclass
class ClinicSetup:
    slug: str
    clinic_id: str
    owner_id: str
    provider_id: str
    codes: list[str]


def make_clinic(server: ServerProcess, *, codes: int) -> ClinicSetup:
    """A clinic with an owner and a provider, and ``codes`` enrollment codes (CLI, in parallel)."""
    slug = "c-" + secrets.token_hex(4)
    clinic = server.cli("create-clinic", "--name", f"Clinic {slug}", "--slug", slug)
    started = [
        server.cli_start("create-staff", "--clinic", slug, "--name", "Olivia Owner", "--role", "owner", "--pin", PIN),
        server.cli_start("create-staff", "--clinic", slug, "--name", "Nora Kim", "--role", "provider", "--pin", PIN),
        *(server.cli_start("enrollment-code", "--clinic", slug) for _ in range(codes)),
    ]
    results = [server.cli_result(p) for p in started]
    return ClinicSetup(
        slug=slug, clinic_id=clinic["clinic_id"], owner_id=results[0]["staff_id"],
        provider_id=results[1]["staff_id"], codes=[r["code"] for r in results[2:]],
    )


@dataclass
class Desk:
    """One desktop: its own home, key file and encrypted store, enrolled with the server."""

    name: str
    home: Path
    store: Store
    setup: ClinicSetup
    url: str
    monkeypatch: pytest.MonkeyPatch
    device_id: str = ""
    transport_wrapper: Any = None
    pull_limit: int = 1000
    closed: bool = field(default=False)

    @property
    def key_file(self) -> Path:
        return self.home.parent / f"{self.name}.key"

    @property
    def actor(self) -> Actor:
        return Actor(staff_id=self.setup.owner_id, device_id=self.store.device_id, role="owner", name="Olivia Owner")

    def engine(self) -> SyncEngine:
        engine = SyncEngine.for_store(self.store, pull_limit=self.pull_limit)
        if self.transport_wrapper is not None:
            engine.transport = self.transport_wrapper(engine.transport)
        return engine

    def sync(self) -> Any:
        engine = self.engine()
        try:
            return engine.sync_once()
        finally:
            engine.close()

    def reopen(self) -> None:
        """The app restarts (after a crash: whatever was committed is all there is)."""
        self.store.close()
        self.monkeypatch.setenv("GLOWDESK_KEY_FILE", str(self.key_file))
        self.store = open_store(self.home)

    # --- local work --------------------------------------------------------------------------

    def add_patient(self, first: str, last: str, **kw: Any) -> str:
        with unit_of_work(self.store, self.actor) as ctx:
            patient = Patient(clinic_id=self.setup.clinic_id, first_name=first, last_name=last, **kw)
            return patients.create(ctx, patient).id

    def edit(self, patient_id: str, **changes: Any) -> None:
        with unit_of_work(self.store, self.actor) as ctx:
            row = patients.get_for_write(ctx, patient_id)
            assert row is not None
            patients.update(ctx, row, changes)

    def delete(self, patient_id: str) -> None:
        with unit_of_work(self.store, self.actor) as ctx:
            row = patients.get_for_write(ctx, patient_id)
            assert row is not None
            patients.delete(ctx, row)

    def patient(self, patient_id: str) -> Patient:
        with self.store.session() as s:
            row = s.get(Patient, patient_id)
            assert row is not None
            return row

    def rows(self, entity: str) -> dict[str, tuple[bool, dict[str, Any]]]:
        return local_rows(self.store, entity)

    def pending(self) -> int:
        with self.store.session() as s:
            return len(list(s.execute(select(OutboxEntry.seq).where(OutboxEntry.acked_at.is_(None)))))

    def read(self, func: Any) -> Any:
        with unit_of_work(self.store, system_actor(self.store)) as ctx:
            return func(ctx)


def local_rows(store: Store, entity: str) -> dict[str, tuple[bool, dict[str, Any]]]:
    model = SYNCABLE_MODELS[entity]
    with store.session() as s:
        return {r.id: (bool(r.deleted), rows.row_fields(r)) for r in s.execute(select(model)).scalars()}


def server_rows(url: str, token: str, entity: str, *, http: Any = None) -> dict[str, tuple[bool, dict[str, Any]]]:
    """Every row of ``entity`` as the server holds it (a full pull from cursor 0)."""
    out: dict[str, tuple[bool, dict[str, Any]]] = {}
    with SyncClient(url, token, http=http) as client:
        cursor = 0
        while True:
            page = client.pull(cursor=cursor, limit=1000)
            for c in page.changes:
                if c.entity == entity:
                    out[c.entity_id] = (c.deleted, c.data)
            cursor = page.next_cursor
            if not page.has_more:
                return out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("server") / "home").start()
    yield process
    process.stop()


@pytest.fixture
def desks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``desks(server, setup, "a", "b")``: enrolled desktops (first sync done)."""
    made: list[Desk] = []

    def make(server_: ServerProcess, setup: ClinicSetup, *names: str, first_sync: bool = True) -> list[Desk]:
        out = []
        for name in names:
            home = tmp_path / name
            key_file = tmp_path / f"{name}.key"
            monkeypatch.setenv("GLOWDESK_KEY_FILE", str(key_file))
            store = open_store(home)
            desk = Desk(name, home, store, setup, server_.url, monkeypatch)
            made.append(desk)
            result = enroll(store, server_.url, setup.codes.pop(0), f"Desk {name}", first_sync=first_sync)
            assert result.first_sync_error is None, result.first_sync_error
            desk.device_id = result.device_id
            out.append(desk)
        return out

    yield make
    for desk in made:
        desk.store.close()


def token_of(desk: Desk) -> str:
    value = desk.read(sync_state.enrollment)
    assert value is not None
    return str(value["device_token"])


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
