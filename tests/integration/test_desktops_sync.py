"""Two and three desktops syncing through a real server process over HTTP on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.db.models import Appointment, Staff
from app.repositories import appointments, sync_state
from app.repositories.uow import unit_of_work
from app.services.staff import verify_pin
from app.sync import DeviceRevokedError, SyncRunner
from core.ids import new_id
from core.sync import ProtocolMismatch
from tests.integration.conftest import PIN, Desk, ServerProcess, make_clinic, server_rows, token_of, utc


class Crash(Exception):
    """The process 'died' here: the engine never got to use the answer."""


def converge(*desks: Desk) -> None:
    for _ in range(2):
        for desk in desks:
            desk.sync()


def assert_same_everywhere(server: ServerProcess, *desks: Desk) -> dict[str, Any]:
    on_server = server_rows(server.url, token_of(desks[0]), "patient")
    for desk in desks:
        assert desk.rows("patient") == on_server, desk.name
        assert desk.pending() == 0
    return on_server


def test_offline_edits_on_three_desktops_converge(server: ServerProcess, desks: Any) -> None:
    setup = make_clinic(server, codes=3)
    a, b, c = desks(server, setup, "a", "b", "c")
    # enrolment brought the clinic's staff, who can sign in offline
    with c.store.session() as s:
        owner = s.get(Staff, setup.owner_id)
        assert owner is not None and verify_pin(owner.pin_hash, PIN)
    shared = a.add_patient("Shared", "Client", phone="+14155550100")
    converge(a, b, c)

    # offline: each desktop works on its own
    mine = {d.name: [d.add_patient(f"{d.name.upper()}{i}", "Offline") for i in range(3)] for d in (a, b, c)}
    a.edit(shared, first_name="Renamed on A")
    b.edit(shared, phone="+14155550111")
    c.delete(mine["c"][0])
    b.edit(mine["b"][1], notes="note on b")

    converge(a, b, c)

    rows = assert_same_everywhere(server, a, b, c)
    assert len(rows) == 10
    deleted, data = rows[shared]
    assert not deleted and data["first_name"] == "Renamed on A" and data["phone"] == "+14155550111"
    assert rows[mine["c"][0]][0] is True
    assert rows[mine["b"][1]][1]["notes"] == "note on b"
    # the pulled rows are in each desktop's search index
    from app.repositories import patients

    for desk in (a, b, c):
        found = desk.read(lambda ctx: [h.id for h in patients.search(ctx, "Offline")])
        assert sorted(found) == sorted(mine["a"] + mine["b"] + mine["c"][1:])


def test_one_field_edited_on_two_offline_desktops(server: ServerProcess, desks: Any) -> None:
    setup = make_clinic(server, codes=2)
    a, b = desks(server, setup, "a", "b")
    pid = a.add_patient("Same", "Field")
    converge(a, b)
    a.edit(pid, notes="written on A")
    b.edit(pid, notes="written on B")  # the later stamp
    a_hlc, b_hlc = a.patient(pid).hlc, b.patient(pid).hlc
    assert b_hlc > a_hlc

    b.sync()  # in either push order the later write wins
    a.sync()
    b.sync()

    assert a.patient(pid).notes == b.patient(pid).notes == "written on B"
    assert_same_everywhere(server, a, b)
    for desk in (a, b):
        conflicts = desk.read(sync_state.list_conflicts)
        assert len(conflicts) == 1
        conflict = conflicts[0]
        assert (conflict["field"], conflict["kind"]) == ("notes", "concurrent_edit")
        assert conflict["winning_value"] == "written on B" and conflict["losing_value"] == "written on A"
        assert conflict["loser_hlc"] == a_hlc and conflict["loser_staff_id"] == setup.owner_id


def test_kill_between_push_and_ack_gives_no_duplicate(server: ServerProcess, desks: Any) -> None:
    setup = make_clinic(server, codes=2)
    a, b = desks(server, setup, "a", "b")
    pid = a.add_patient("Kill", "Before Ack")
    a.edit(pid, notes="then edited")

    class DiesAfterPush:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def push(self, request: Any, *, staff_id: Any) -> Any:
            self.inner.push(request, staff_id=staff_id)  # the server applies and commits
            raise Crash("killed before the acknowledgement was written")

    a.transport_wrapper = DiesAfterPush
    with pytest.raises(Crash):
        a.sync()
    assert a.pending() == 2
    a.transport_wrapper = None
    a.reopen()

    summary = a.sync()

    assert summary.push.duplicates == 2 and summary.push.applied == 0
    assert a.pending() == 0
    b.sync()
    rows = assert_same_everywhere(server, a, b)
    assert list(rows) == [pid] and rows[pid][1]["notes"] == "then edited"
    assert a.patient(pid).version == 2  # one insert and one update, each applied once


def test_kill_mid_pull_resumes_without_a_gap(server: ServerProcess, desks: Any) -> None:
    setup = make_clinic(server, codes=2)
    a, b = desks(server, setup, "a", "b")
    ids = [a.add_patient(f"Paged{i}", "Pull") for i in range(12)]
    a.sync()

    class DiesOnSecondPage:
        def __init__(self, inner: Any) -> None:
            self.inner, self.pages = inner, 0

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def pull(self, *, cursor: int, limit: int) -> Any:
            self.pages += 1
            if self.pages == 2:
                raise Crash("killed between two pages")
            return self.inner.pull(cursor=cursor, limit=limit)

    b.pull_limit = 5
    b.transport_wrapper = DiesOnSecondPage
    with pytest.raises(Crash):
        b.sync()
    first_cursor = b.read(sync_state.cursor)
    assert len(b.rows("patient")) == 5
    b.transport_wrapper = None
    b.reopen()

    summary = b.sync()

    assert summary.pull.rows == 7 and summary.pull.pages == 2
    assert summary.pull.cursor > first_cursor
    assert set(b.rows("patient")) == set(ids)
    assert_same_everywhere(server, a, b)


def test_a_revoked_workstation_stops_with_the_message(server: ServerProcess, desks: Any) -> None:
    setup = make_clinic(server, codes=1)
    (a,) = desks(server, setup, "a")
    a.add_patient("Never", "Sent")
    server.cli("revoke-device", "--clinic", setup.slug, "--device", a.device_id)

    with pytest.raises(DeviceRevokedError) as caught:
        a.sync()
    assert "This workstation's access was revoked" in caught.value.user_message

    runner = SyncRunner(a.store, engine=a.engine(), live=False)
    runner.start()
    try:
        state = runner.wait_for(lambda s: s.stopped, timeout=15)
    finally:
        runner.stop()
    assert state.stopped_reason is not None
    assert state.stopped_reason.startswith("This workstation's access was revoked")
    assert not runner.running
    assert state.pending_changes == 1  # kept, not lost


def test_protocol_mismatch_is_a_clear_error(server: ServerProcess, desks: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    setup = make_clinic(server, codes=1)
    (a,) = desks(server, setup, "a")
    a.add_patient("Newer", "Catalogue")
    from app.sync import engine as engine_module

    monkeypatch.setattr(engine_module, "SCHEMA_VERSION", engine_module.SCHEMA_VERSION + 1)

    with pytest.raises(ProtocolMismatch) as caught:
        a.sync()

    assert caught.value.upgrade == "server"
    assert "clinic server is older than this workstation" in caught.value.user_message
    assert a.pending() == 1
    state = a.read(sync_state.outcome)
    assert state["stopped"] == caught.value.user_message


def test_double_booking_made_offline_on_two_desktops(server: ServerProcess, desks: Any) -> None:
    setup = make_clinic(server, codes=2)
    a, b = desks(server, setup, "a", "b")
    pid = a.add_patient("Booked", "Twice")
    converge(a, b)
    service_id = new_id()

    def book(desk: Desk, hour: int, minute: int) -> str:
        start = utc(2026, 12, 1, hour, minute)
        with unit_of_work(desk.store, desk.actor) as ctx:
            appointment = Appointment(
                clinic_id=setup.clinic_id, patient_id=pid, service_id=service_id,
                provider_id=setup.provider_id, start_at=start, end_at=start + timedelta(hours=1),
                status="booked", tentative=True, booked_by=setup.owner_id,
            )
            return appointments.create(ctx, appointment).id

    first = book(a, 18, 0)
    second = book(b, 18, 30)  # the same provider, overlapping

    a.sync()
    summary = b.sync()
    converge(a, b)

    assert summary.push.rejected == 1
    refused = b.read(sync_state.list_rejections)
    assert len(refused) == 1
    assert refused[0]["entity"] == "appointment" and refused[0]["entity_id"] == second
    assert "Nora Kim" in refused[0]["reason"]
    assert refused[0]["fields"]["start_at"].startswith("2026-12-01T18:30")
    for desk in (a, b):
        live = {k: v for k, v in desk.rows("appointment").items() if not v[0]}
        assert list(live) == [first]
        assert live[first][1]["tentative"] is False  # the server confirmed it
    assert b.read(lambda ctx: appointments.get(ctx, second)) is None
