"""Random interleavings of edits, deletes, pushes, pulls, crashes and restarts on 3 desktops.

The server runs in-process (the FastAPI app behind starlette's TestClient, which is an httpx
client, so the desktops' real SyncClient talks to it); every desktop is a real SQLCipher store.
After any sequence, a full sync of every desktop must leave all of them holding exactly the
server's rows, and every write the server acknowledged must be there, or be superseded by a
later write of the same field or by a tombstone.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore", message=".*starlette.testclient.*")

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import (  # noqa: E402
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select  # noqa: E402

from app.db.models import OutboxEntry, Patient  # noqa: E402
from app.db.store import Store, open_store  # noqa: E402
from app.repositories import patients, rows, sync_state  # noqa: E402
from app.repositories.context import Actor  # noqa: E402
from app.repositories.uow import system_actor, unit_of_work  # noqa: E402
from app.sync import SyncEngine, enroll  # noqa: E402
from app.sync.client import SyncClient  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.ids import new_id  # noqa: E402
from core.permissions import Role  # noqa: E402
from sync_server import security  # noqa: E402
from sync_server.app import create_app  # noqa: E402
from sync_server.audit.service import Actor as ServerActor  # noqa: E402
from sync_server.clinics import service as clinics  # noqa: E402
from sync_server.clinics.models import Staff as ServerStaff  # noqa: E402
from sync_server.db import Database  # noqa: E402
from sync_server.settings import SQLITE_FILENAME, Settings  # noqa: E402

SECRET = "state-machine-secret-not-for-production"
NAMES = ("Ada", "Grace", "Marie", "Rosalind", "Hedy")
FIELDS = ("first_name", "notes", "phone")
VALUES = {
    "first_name": ("Ann", "Bea", "Cleo", "Dot"),
    "notes": ("likes mornings", "prefers texts", None, "allergic to lidocaine"),
    "phone": ("+14155550101", "+14155550102", None, "+14155550103"),
}


class Crash(Exception):
    """The desktop process died at this point."""


class CrashAfterPushes:
    """Lets ``ok`` pushes through; with the next one the desktop dies, after the server applied
    it or (``before``) while sending it."""

    def __init__(self, inner: Any, ok: int, before: bool = False) -> None:
        self.inner, self.ok, self.before = inner, ok, before

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def hello(self, request: Any, *, staff_id: Any = None) -> Any:
        answer = self.inner.hello(request, staff_id=staff_id)
        return answer.model_copy(update={"max_push_mutations": 2})  # small batches: more crash points

    def push(self, request: Any, *, staff_id: Any) -> Any:
        if self.ok == 0 and self.before:
            raise Crash("died while sending")
        answer = self.inner.push(request, staff_id=staff_id)
        if self.ok == 0:
            raise Crash("died before acknowledging")
        self.ok -= 1
        return answer


class CrashOnPage:
    def __init__(self, inner: Any, page: int) -> None:
        self.inner, self.page, self.pages = inner, page, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def pull(self, *, cursor: int, limit: int) -> Any:
        self.pages += 1
        if self.pages == self.page:
            raise Crash("died between pages")
        return self.inner.pull(cursor=cursor, limit=limit)


class World:
    """The in-process server, its clinic and the enrolled desktops of one example."""

    def __init__(self, template: Path, pin_hash: str, key_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="glowdesk-sm-"))
        home = self.root / "server"
        home.mkdir()
        shutil.copyfile(template, home / SQLITE_FILENAME)
        self.settings = Settings(server_home=home, secret_key=SECRET)
        self.client = TestClient(create_app(self.settings))
        self.client.__enter__()
        db = Database(self.settings)
        now = SystemClock().now()
        try:
            with db.transaction() as session:
                clinic = clinics.create_clinic(session, name="Glow", slug="glow", now=now, actor=ServerActor.cli())
                self.clinic_id = clinic.id
                self.owner_id = new_id()
                session.add(ServerStaff(
                    id=self.owner_id, clinic_id=clinic.id, display_name="Olivia Owner", role=Role.OWNER.value,
                    pin_hash=pin_hash, active=True, created_at=now, updated_at=now,
                ))
            codes = []
            for _ in range(3):
                with db.transaction() as session:
                    clinics.open_clinic(session, slug="glow")
                    codes.append(clinics.issue_enrollment_code(
                        session, clinic_id=self.clinic_id, ttl=timedelta(hours=1), secret_key=SECRET, now=now,
                        actor=ServerActor.cli(),
                    ).code)
        finally:
            db.dispose()
        self.monkeypatch = monkeypatch
        self.key_dir = key_dir
        self.homes = [self.root / f"desk{i}" for i in range(3)]
        self.stores: list[Store] = []
        for i in range(len(self.homes)):
            store = self.open(i)
            enroll(store, "http://testserver", codes[i], f"Desk {i}", http=self.client)
            self.stores.append(store)

    def open(self, i: int) -> Store:
        self.monkeypatch.setenv("GLOWDESK_KEY_FILE", str(self.root / f"desk{i}.key"))
        return open_store(self.homes[i])

    def engine(self, i: int, *, pull_limit: int = 1000) -> SyncEngine:
        return SyncEngine.for_store(self.stores[i], http=self.client, pull_limit=pull_limit)

    def close(self) -> None:
        for store in self.stores:
            store.close()
        self.client.__exit__(None, None, None)
        shutil.rmtree(self.root, ignore_errors=True)


def make_machine(template: Path, pin_hash: str, key_dir: Path, monkeypatch: pytest.MonkeyPatch) -> type:
    class SyncMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.world = World(template, pin_hash, key_dir, monkeypatch)
            self.ids: list[str] = []

        @initialize()
        def shared_clients(self) -> None:
            """Two clients every desktop already has, so that edits meet early."""
            self.create(0, "Shared")
            self.create(0, "Common")
            for i in range(3):
                self.sync(i)

        # --- local work ---------------------------------------------------------------------

        def actor(self, i: int) -> Actor:
            store = self.world.stores[i]
            return Actor(staff_id=self.world.owner_id, device_id=store.device_id, role="owner")

        def live_patient(self, i: int, pick: int) -> str | None:
            if not self.ids:
                return None
            pid = self.ids[pick % len(self.ids)]
            with self.world.stores[i].session() as s:
                row = s.get(Patient, pid)
                return pid if row is not None and not row.deleted else None

        @rule(i=st.integers(0, 2), name=st.sampled_from(NAMES))
        def create(self, i: int, name: str) -> None:
            with unit_of_work(self.world.stores[i], self.actor(i)) as ctx:
                patient = Patient(clinic_id=self.world.clinic_id, first_name=name, last_name=f"Desk{i}")
                self.ids.append(patients.create(ctx, patient).id)

        @precondition(lambda self: bool(self.ids))
        @rule(i=st.integers(0, 2), pick=st.integers(0, 50), field=st.sampled_from(FIELDS), value=st.integers(0, 3))
        def edit(self, i: int, pick: int, field: str, value: int) -> None:
            pid = self.live_patient(i, pick)
            if pid is None:
                return
            with unit_of_work(self.world.stores[i], self.actor(i)) as ctx:
                row = patients.get_for_write(ctx, pid)
                assert row is not None
                patients.update(ctx, row, {field: VALUES[field][value]})

        @precondition(lambda self: bool(self.ids))
        @rule(i=st.integers(0, 2), pick=st.integers(0, 50))
        def delete(self, i: int, pick: int) -> None:
            pid = self.live_patient(i, pick)
            if pid is None:
                return
            with unit_of_work(self.world.stores[i], self.actor(i)) as ctx:
                row = patients.get_for_write(ctx, pid)
                assert row is not None
                patients.delete(ctx, row)

        # --- sync, whole or in parts -------------------------------------------------------

        @rule(i=st.integers(0, 2))
        def sync(self, i: int) -> None:
            engine = self.world.engine(i)
            engine.sync_once()

        @rule(i=st.integers(0, 2), crash=st.none() | st.tuples(st.integers(0, 2), st.booleans()))
        def push(self, i: int, crash: tuple[int, bool] | None) -> None:
            """Push the outbox; ``crash=(ok, before)``: after ``ok`` acknowledged batches of two,
            the desktop dies with the next one sent (``before``: before the server got it)."""
            engine = self.world.engine(i)
            if crash is not None:
                engine.transport = CrashAfterPushes(engine.transport, *crash)
            engine.hello()
            try:
                engine.push()
            except Crash:
                self.restart(i)

        @rule(i=st.integers(0, 2), pages=st.integers(1, 3), crash=st.none() | st.integers(1, 3))
        def pull(self, i: int, pages: int, crash: int | None) -> None:
            """Pull up to ``pages`` pages of two rows; ``crash``: die when asking for that page."""
            engine = self.world.engine(i, pull_limit=2)
            if crash is not None:
                engine.transport = CrashOnPage(engine.transport, crash)
            engine.hello()
            try:
                engine.pull(max_pages=pages)
            except Crash:
                self.restart(i)

        @rule(i=st.integers(0, 2))
        def restart(self, i: int) -> None:
            self.world.stores[i].close()
            self.world.stores[i] = self.world.open(i)

        # --- invariants -------------------------------------------------------------------

        def server_rows(self) -> dict[str, Any]:
            world = self.world
            first = world.stores[0]
            with unit_of_work(first, system_actor(first)) as ctx:
                enrolled = sync_state.enrollment(ctx)
            assert enrolled is not None
            found: dict[str, Any] = {}
            with SyncClient("http://testserver", enrolled["device_token"], http=world.client) as client:
                cursor = 0
                while True:
                    page = client.pull(cursor=cursor, limit=1000)
                    for change in page.changes:
                        if change.entity == "patient":
                            found[change.entity_id] = change
                    cursor = page.next_cursor
                    if not page.has_more:
                        return found

        @invariant()
        def unpushed_edits_stay_visible(self) -> None:
            """A pull never erases a pending local edit: the desktop shows its own latest value of
            each field it changed, unless the server holds a later write of that field."""
            server: dict[str, Any] | None = None
            for i, store in enumerate(self.world.stores):
                with store.session() as s:
                    pending = s.execute(
                        select(OutboxEntry).where(OutboxEntry.acked_at.is_(None)).order_by(OutboxEntry.seq)
                    ).scalars().all()
                    latest: dict[tuple[str, str], tuple[Any, str]] = {}
                    for e in pending:
                        for name, value in e.fields.items():
                            if name in FIELDS:
                                latest[(e.entity_id, name)] = (value, e.hlc)
                    local = {p.id: p for p in s.execute(select(Patient)).scalars()}
                    for (pid, name), (value, hlc) in latest.items():
                        row = local[pid]
                        if row.deleted or rows.wire_value(getattr(row, name)) == value:
                            continue
                        server = server if server is not None else self.server_rows()
                        change = server.get(pid)
                        assert change is not None, f"desktop {i} lost its pending edit of {name}"
                        stamp = change.field_hlc.get(name, change.created_hlc or change.hlc)
                        assert stamp > hlc, f"desktop {i} shows a pulled {name} over its own later edit"

        # --- the end ------------------------------------------------------------------------

        def teardown(self) -> None:
            try:
                self.check_after_full_sync()
            finally:
                self.world.close()

        def check_after_full_sync(self) -> None:
            world = self.world
            for _ in range(2):
                for i in range(3):
                    world.engine(i).sync_once()
            server = self.server_rows()
            assert set(server) == set(self.ids)
            expected = {pid: (c.deleted, c.data) for pid, c in server.items()}
            for i, store in enumerate(world.stores):
                with store.session() as s:
                    local = {p.id: (p.deleted, rows.row_fields(p)) for p in s.execute(select(Patient)).scalars()}
                    outbox = list(s.execute(select(OutboxEntry).order_by(OutboxEntry.seq)).scalars())
                assert local == expected, f"desktop {i} differs from the server"
                with unit_of_work(store, system_actor(store)) as ctx:
                    assert sync_state.rejection_count(ctx) == 0
                for entry in outbox:
                    assert entry.acked_at is not None
                    change = server[entry.entity_id]
                    if entry.op == "insert":
                        continue  # the row exists (checked above)
                    if entry.op == "delete":
                        assert change.deleted
                        continue
                    if change.deleted:
                        continue  # superseded by a tombstone
                    for name, value in entry.fields.items():
                        stamp = change.field_hlc.get(name, change.created_hlc or change.hlc)
                        assert change.data[name] == value or stamp > entry.hlc, (
                            f"desktop {i}'s acknowledged write of {name} is lost"
                        )

    return SyncMachine


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("sm-template")
    db = Database(Settings(server_home=home, secret_key=SECRET))
    db.upgrade()
    db.dispose()
    yield home / SQLITE_FILENAME


def test_random_interleavings_converge_and_lose_no_acknowledged_write(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin_hash = security.hash_pin("2468")
    machine = make_machine(template, pin_hash, tmp_path, monkeypatch)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=15, stateful_step_count=25, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )

