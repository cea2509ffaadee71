"""The engine's push/ack and pull/apply logic on real SQLCipher stores, against the FakeHub."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select, text

from app.db.models import AuditEntry, OutboxEntry, Patient, Staff
from app.repositories import patients, sync_state
from app.repositories.uow import system_actor, unit_of_work
from app.services.sync_status import sync_status
from app.sync.client import EnrolledStaff
from app.sync.engine import SyncEngine, remember_staff
from app.sync.errors import NotEnrolledError, SyncRefused, SyncUnavailable
from app.sync.state import load_state
from core.clock import HLCTimestamp
from core.sync import ProtocolMismatch
from tests.app.sync.conftest import CLINIC_ID, DESK_ID, OWNER_ID, Desktop, local_rows
from tests.app.sync.fake_hub import Crash, FakeHub


def read(store: Any, func: Any) -> Any:
    with unit_of_work(store, system_actor(store)) as ctx:
        return func(ctx)


def test_push_acks_and_pull_adopts_the_server_version(desktops: Any, hub: FakeHub) -> None:
    a: Desktop = desktops("a")
    pid = a.add_patient("Ada", "Lovelace", phone="+14155550100")
    a.edit(pid, first_name="Ada May")
    assert a.pending() == 2

    summary = a.sync()

    assert a.pending() == 0
    assert summary.push.acked == 2 and summary.push.applied == 2
    assert a.patient(pid).version == hub.rows[("patient", pid)][0].version == 2
    assert summary.pull.cursor == hub.seq
    # the next local edit is based on the server's version
    a.edit(pid, last_name="King")
    with a.store.session() as s:
        entry = s.execute(select(OutboxEntry).where(OutboxEntry.acked_at.is_(None))).scalar_one()
    assert entry.base_version == 2


def test_pulled_rows_are_searchable_audited_once_and_make_no_outbox_entries(desktops: Any, hub: FakeHub) -> None:
    a, b = desktops("a"), desktops("b")
    ids = [a.add_patient(f"Name{i}", "Pulled", phone=f"+1415555{i:04d}") for i in range(5)]
    a.sync()
    with b.store.session() as s:
        audits_before = s.execute(select(AuditEntry)).scalars().all()

    summary = b.sync()

    assert summary.pull.rows == 5
    assert b.pending() == 0
    assert set(b.search("Pulled")) == set(ids)
    assert b.search("5550003") == [ids[3]]
    with b.store.session() as s:
        new = s.execute(select(AuditEntry).where(AuditEntry.seq > len(audits_before))).scalars().all()
    assert [e.action for e in new] == ["sync.apply"]
    assert sorted(new[0].detail["patient_ids"]) == sorted(ids)
    assert new[0].staff_id is None and new[0].device_id == b.store.device_id


def test_a_pull_never_erases_an_unpushed_local_edit(desktops: Any, hub: FakeHub) -> None:
    a, b = desktops("a"), desktops("b")
    pid = a.add_patient("Grace", "Hopper")
    a.sync()
    b.sync()
    b.edit(pid, first_name="Amazing Grace")  # pending on b
    a.edit(pid, phone="+14155550199")  # other field, on a
    a.sync()

    b.engine.pull()  # pull only: b's edit is still pending

    row = b.patient(pid)
    assert row.first_name == "Amazing Grace"
    assert row.phone == "+14155550199"
    assert row.version == hub.rows[("patient", pid)][0].version
    assert b.search("Amazing") == [pid]
    assert b.pending() == 1
    b.sync()
    a.sync()
    assert local_rows(a.store, "patient") == local_rows(b.store, "patient")
    assert hub.data()[("patient", pid)][1]["first_name"] == "Amazing Grace"


def test_concurrent_edit_gives_one_winner_everywhere_and_a_conflict_record(desktops: Any, hub: FakeHub) -> None:
    a, b = desktops("a"), desktops("b")
    pid = a.add_patient("Marie", "Curie")
    a.sync()
    b.sync()
    a.edit(pid, notes="from a")
    b.edit(pid, notes="from b")  # later stamp: b wins
    a.sync()
    summary = b.sync()
    a.sync()

    assert a.patient(pid).notes == b.patient(pid).notes == "from b"
    assert summary.push.applied == 1
    for desk in (a, b):
        conflicts = read(desk.store, sync_state.list_conflicts)
        assert [(c["field"], c["losing_value"], c["winning_value"]) for c in conflicts] == [
            ("notes", "from a", "from b")
        ]
        assert load_state(desk.store).conflicts_to_review == 1


def test_losing_local_edit_is_replaced_by_the_servers_current_row(desktops: Any, hub: FakeHub) -> None:
    a, b = desktops("a"), desktops("b")
    pid = a.add_patient("Rosalind", "Franklin")
    a.sync()
    b.sync()
    b.edit(pid, notes="older, from b")
    a.edit(pid, notes="newer, from a")
    a.sync()

    summary = b.engine.push()  # b's edit loses on the server: conflict_resolved with current

    assert summary.resolved == 1
    assert b.patient(pid).notes == "newer, from a"
    assert b.patient(pid).version == hub.rows[("patient", pid)][0].version
    assert read(b.store, sync_state.conflict_count) == 1


def test_a_refused_booking_is_acked_withdrawn_and_kept_with_its_reason(desktops: Any, hub: FakeHub) -> None:
    a = desktops("a")
    pid = a.add_patient("Double", "Booked")
    hub.refuse[pid] = "Nora Kim is already booked at 10:00."

    summary = a.sync()

    assert summary.push.rejected == 1
    assert a.pending() == 0
    rejections = read(a.store, sync_state.list_rejections)
    assert len(rejections) == 1
    assert rejections[0]["reason"] == "Nora Kim is already booked at 10:00."
    assert rejections[0]["entity_id"] == pid and rejections[0]["fields"]["last_name"] == "Booked"
    assert a.patient(pid).deleted is True
    assert a.search("Booked") == []
    assert load_state(a.store).rejected_changes == 1
    assert read(a.store, lambda ctx: sync_state.dismiss_rejection(ctx, rejections[0]["mutation_id"]))
    assert load_state(a.store).rejected_changes == 0


def test_crash_between_push_and_ack_gives_no_duplicate(desktops: Any, hub: FakeHub) -> None:
    a, b = desktops("a"), desktops("b")
    pid = a.add_patient("Kill", "Before Ack")
    a.edit(pid, notes="edited")
    hub.crash_after_push = 1
    with pytest.raises(Crash):
        a.sync()
    assert a.pending() == 2  # nothing acked: the answer never arrived
    a.reopen()  # the app restarts

    summary = a.sync()

    assert summary.push.duplicates == 2 and summary.push.applied == 0
    assert a.pending() == 0
    assert hub.rows[("patient", pid)][0].version == 2
    assert hub.seq == 2
    b.sync()
    assert local_rows(a.store, "patient") == local_rows(b.store, "patient")


def test_crash_mid_pull_resumes_after_the_last_applied_page(desktops: Any, hub: FakeHub) -> None:
    a, b = desktops("a"), desktops("b")
    ids = [a.add_patient(f"P{i}", "Paged") for i in range(7)]
    a.sync()
    b.pull_limit = 3
    hub.pulls = 0
    hub.crash_on_pull = 2
    with pytest.raises(Crash):
        b.sync()
    assert read(b.store, sync_state.cursor) == 3  # page one applied with its cursor
    assert len(local_rows(b.store, "patient")) == 3
    b.reopen()
    hub.crash_on_pull = None

    summary = b.sync()

    assert summary.pull.rows == 4 and summary.pull.pages == 2
    assert set(local_rows(b.store, "patient")) == set(ids)
    assert read(b.store, sync_state.cursor) == hub.seq


def test_a_kill_between_apply_and_cursor_while_the_next_page_is_in_flight_loses_and_duplicates_nothing(
    desktops: Any, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-page pipeline: page 3 is fetched while page 2 is applied; the process dies after
    page 2's rows were written but before its cursor was (same transaction): page 2 is not in
    the store, page 3 is dropped, and the next sync brings both exactly once."""
    a, b = desktops("a"), desktops("b")
    ids = [a.add_patient(f"Piped{i}", "Pull", phone=f"+1415555{i:04d}") for i in range(7)]
    a.sync()
    b.pull_limit = 3
    hub.pulls = 0
    third_requested = threading.Event()
    pull = hub.pull

    def counting_pull(*, cursor: int, limit: int) -> Any:
        page = pull(cursor=cursor, limit=limit)
        if hub.pulls == 3:
            third_requested.set()
        return page

    monkeypatch.setattr(hub, "pull", counting_pull)
    set_cursor = sync_state.set_cursor
    calls: list[int] = []

    def dies_on_the_second_cursor(ctx: Any, value: int) -> None:
        calls.append(value)
        if len(calls) == 2:
            assert third_requested.wait(10), "page 3 was not fetched while page 2 was applied"
            raise Crash("killed between the page's rows and its cursor")
        set_cursor(ctx, value)

    monkeypatch.setattr(sync_state, "set_cursor", dies_on_the_second_cursor)
    with pytest.raises(Crash):
        b.sync()
    assert read(b.store, sync_state.cursor) == 3
    assert len(local_rows(b.store, "patient")) == 3  # page 2's rows went with the lost transaction
    monkeypatch.setattr(sync_state, "set_cursor", set_cursor)
    b.reopen()

    summary = b.sync()

    assert summary.pull.rows == 4 and summary.pull.pages == 2
    assert set(local_rows(b.store, "patient")) == set(ids)
    assert local_rows(b.store, "patient") == local_rows(a.store, "patient")
    with b.store.session() as s:  # one search entry per client: nothing indexed twice
        indexed = [r[0] for r in s.execute(text("SELECT patient_id FROM patient_search"))]
    assert sorted(indexed) == sorted(ids)
    assert all(b.search(f"Piped{i}") == [ids[i]] for i in range(7))
    assert read(b.store, sync_state.cursor) == hub.seq


def test_a_pulled_tombstone_deletes_and_unindexes(desktops: Any, hub: FakeHub) -> None:
    a, b = desktops("a"), desktops("b")
    pid = a.add_patient("Gone", "Soon")
    a.sync()
    b.sync()
    assert b.search("Gone") == [pid]
    a.delete(pid)
    a.sync()
    b.sync()
    assert b.patient(pid).deleted is True
    assert b.search("Gone") == []


def test_protocol_mismatch_stops_before_anything_is_sent(desktops: Any, hub: FakeHub) -> None:
    a = desktops("a")
    a.add_patient("Not", "Sent")
    hub.schema = 0  # an older server
    with pytest.raises(ProtocolMismatch) as caught:
        a.sync()
    assert "clinic server is older" in caught.value.user_message
    assert hub.pushes == [] and a.pending() == 1
    state = load_state(a.store)
    assert state.stopped_reason and "older" in state.stopped_reason


def test_pulled_stamps_move_the_local_clock(desktops: Any, hub: FakeHub) -> None:
    a, b = desktops("a"), desktops("b")
    pid = a.add_patient("Clock", "Ahead")
    a.sync()
    remote = HLCTimestamp.parse(hub.rows[("patient", pid)][0].hlc)
    # a's clock runs ahead by an hour: b must stamp later edits after it
    a.store.hlc.observe(HLCTimestamp(remote.wall_ms + 3_600_000, 0, "zz"))
    a.edit(pid, notes="from the future")
    a.sync()
    b.sync()
    b.edit(pid, notes="later on b")
    assert b.patient(pid).hlc > a.patient(pid).hlc
    b.sync()
    a.sync()
    assert a.patient(pid).notes == "later on b"


def test_each_push_names_its_acting_staff_member(desktops: Any, hub: FakeHub) -> None:
    a = desktops("a")
    a.add_patient("By", "Owner", staff_id=OWNER_ID)
    a.add_patient("By", "Desk", staff_id=DESK_ID)
    a.add_patient("Owner", "Again", staff_id=OWNER_ID)
    a.sync()
    assert hub.pushes == [(OWNER_ID, 1), (DESK_ID, 1), (OWNER_ID, 1)]


def test_system_changes_go_under_the_last_signed_in_staff(desktops: Any, hub: FakeHub) -> None:
    a = desktops("a")
    with unit_of_work(a.store, system_actor(a.store)) as ctx:
        patients.create(ctx, Patient(clinic_id=CLINIC_ID, first_name="S", last_name="Y"))
    with pytest.raises(SyncRefused):
        a.sync()  # no staff member has ever acted here

    remember_staff(a.store, DESK_ID)
    a.sync()
    assert hub.pushes == [(DESK_ID, 1)]


def test_large_outboxes_go_in_protocol_sized_batches(desktops: Any, hub: FakeHub) -> None:
    a = desktops("a")
    with unit_of_work(a.store, a.actor()) as ctx:
        patients.create_many(
            ctx, (Patient(clinic_id=CLINIC_ID, first_name=f"B{i}", last_name="Bulk") for i in range(1203)),
            reason="import",
        )
    summary = a.sync()
    assert [n for _, n in hub.pushes] == [500, 500, 203]
    assert summary.push.acked == 1203 and summary.pull.rows == 1203
    assert a.pending() == 0


def test_engine_for_store_needs_an_enrolment(desktops: Any) -> None:
    a = desktops("a")
    with pytest.raises(NotEnrolledError):
        SyncEngine.for_store(a.store)


def test_status_reports_the_sync_part(desktops: Any, hub: FakeHub) -> None:
    a = desktops("a")
    a.add_patient("Status", "Check")
    assert read(a.store, sync_status)["sync"] == "not enrolled"
    with unit_of_work(a.store, system_actor(a.store)) as ctx:
        sync_state.save_enrollment(ctx, server_url="http://127.0.0.1:9", device_id="d", device_token="gdd_x",
                                   device_name="A", enrolled_at="2026-11-22T17:00:00.000000Z")
    a.sync()
    status = read(a.store, sync_status)
    assert status["sync"] == "online" and status["cursor"] == 1 and status["conflicts"] == 0
    assert status["server_url"] == "http://127.0.0.1:9" and status["last_sync"]
    hub.down = True
    with pytest.raises(SyncUnavailable):
        a.sync()
    status = read(a.store, sync_status)
    assert status["sync"] == "offline" and status["offline_since"] and status["last_sync_error"]


def test_the_staff_list_refreshes_staff_the_pull_does_not_deliver(desktops: Any, hub: FakeHub) -> None:
    a = desktops("a")
    hub.staff_list = [EnrolledStaff(id=OWNER_ID, display_name="Olivia Owens", role="owner", pin_hash="$argon2id$new")]

    a.sync()

    with a.store.session() as s:
        owner, desk = s.get(Staff, OWNER_ID), s.get(Staff, DESK_ID)
        assert owner is not None and desk is not None
        assert (owner.display_name, owner.pin_hash, owner.active) == ("Olivia Owens", "$argon2id$new", True)
        assert desk.active is False  # no longer on the server's list of active staff


# --- progress, stopping between pages, what changed (the app's first run and live refresh) -----


def test_progress_reports_rows_so_far_and_the_cursor_towards_the_high_water(desktops: Any, hub: FakeHub) -> None:
    a, b = desktops("a"), desktops("b")
    for i in range(7):
        a.add_patient(f"P{i}", "Paged")
    a.sync()
    b.pull_limit = 3
    engine = b.engine
    seen: list[Any] = []
    engine.on_progress = seen.append
    summary = engine.sync_once()
    pulls = [p for p in seen if p.stage == "pull"]
    assert [p.rows for p in pulls] == [0, 3, 6, 7]
    assert pulls[-1].cursor == pulls[-1].high_water == hub.seq
    assert pulls[1].fraction is not None and 0 < pulls[1].fraction < 1
    assert summary.pull.rows == 7


def test_a_stop_request_ends_the_round_between_pages_and_the_next_round_carries_on(
    desktops: Any, hub: FakeHub
) -> None:
    from app.sync.errors import SyncCancelled

    a, b = desktops("a"), desktops("b")
    ids = [a.add_patient(f"P{i}", "Stop") for i in range(9)]
    a.sync()
    b.pull_limit = 3
    engine = b.engine
    stop = {"now": False}
    engine.should_stop = lambda: stop["now"]
    engine.on_progress = lambda p: stop.update(now=p.stage == "pull" and p.rows >= 3)
    with pytest.raises(SyncCancelled):
        engine.sync_once()
    assert len(local_rows(b.store, "patient")) == 3  # the applied page stays
    assert read(b.store, sync_state.outcome) == {}  # a cancel is not a failed attempt
    summary = b.sync()  # carries on from the stored cursor
    assert summary.pull.rows == 6
    assert set(local_rows(b.store, "patient")) == set(ids)


def test_take_changes_names_what_changed_and_not_this_desks_own_change_coming_back(
    desktops: Any, hub: FakeHub
) -> None:
    a, b = desktops("a"), desktops("b")
    pid = a.add_patient("Own", "Echo")
    engine = a.engine
    engine.sync_once()
    assert not engine.take_changes()  # its own insert came back as it already was
    other = b.add_patient("From", "Elsewhere")
    b.sync()
    b.edit(pid, phone="+14155550100")
    b.sync()
    engine.sync_once()
    changes = engine.take_changes()
    assert changes.entities == {"patient"}
    assert changes.patient_ids == {pid, other}
    engine.sync_once()
    assert not engine.take_changes()
