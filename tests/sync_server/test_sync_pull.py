"""Pull: pages in sequence order, cursors, versions, and no gap behind a late commit."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from core.clock import SystemClock
from core.ids import new_id
from core.permissions import Role
from core.sync import PushRequest
from sync_server import tenancy
from sync_server.clinics.service import DeviceIdentity, StaffIdentity
from sync_server.db import Database
from sync_server.sync import service

from .conftest import Personas
from .sync_helpers import VERSION_HEADERS, Desk, patient_fields


@pytest.fixture
def owner(client: TestClient, personas: Personas) -> Desk:
    return Desk(client, personas.device_a, personas.owner)


def test_pages_follow_the_sequence_and_the_cursor(owner: Desk) -> None:
    ids = [new_id() for _ in range(25)]
    owner.push(*(owner.m("patient", "insert", pid, **patient_fields(first_name=f"P{i}")) for i, pid in enumerate(ids)))
    owner.push(owner.m("patient", "update", ids[0], base_version=1, notes="edited"))  # moves to seq 26

    pages = []
    cursor = 0
    while True:
        page = owner.pull(cursor, limit=10)
        pages.append(page)
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert [len(p["changes"]) for p in pages] == [10, 10, 5]
    seqs = [c["seq"] for p in pages for c in p["changes"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert seqs == list(range(2, 27))  # seq 1 was superseded by the edit: the row is delivered once, as it is now
    assert [p["next_cursor"] for p in pages] == [11, 21, 26]
    last = pages[-1]["changes"][-1]
    assert last["entity_id"] == ids[0] and last["version"] == 2 and last["data"]["notes"] == "edited"
    assert last["created_hlc"] and last["field_hlc"]["notes"] != last["created_hlc"]

    # A cursor at or beyond the high water gives an empty page and keeps the cursor.
    for beyond in (26, 1000):
        page = owner.pull(beyond)
        assert page == {**page, "changes": [], "next_cursor": beyond, "has_more": False}


def test_deletes_are_delivered_as_tombstones(owner: Desk) -> None:
    pid = new_id()
    owner.push(owner.m("patient", "insert", pid, **patient_fields()))
    owner.push(owner.m("patient", "delete", pid, base_version=1))
    [change] = owner.pull(0)["changes"]
    assert change["deleted"] is True and change["version"] == 2


@pytest.mark.parametrize(("params", "headers", "status", "code"), [
    ({}, {}, 422, "malformed"),
    ({}, {"X-Glowdesk-Protocol": "1"}, 422, "malformed"),
    ({}, {"X-Glowdesk-Protocol": "one", "X-Glowdesk-Schema": "1"}, 422, "malformed"),
    ({}, {"X-Glowdesk-Protocol": "0", "X-Glowdesk-Schema": "1"}, 426, "protocol_mismatch"),
    ({}, {"X-Glowdesk-Protocol": "1", "X-Glowdesk-Schema": "99"}, 409, "protocol_mismatch"),
    ({"cursor": "-1"}, VERSION_HEADERS, 422, "malformed"),
    ({"limit": "0"}, VERSION_HEADERS, 422, "malformed"),
    ({"limit": "100000"}, VERSION_HEADERS, 422, "malformed"),
    ({"cursor": "abc"}, VERSION_HEADERS, 422, "malformed"),
])
def test_pull_checks_versions_and_paging(
    client: TestClient, personas: Personas, params: dict[str, str], headers: dict[str, str], status: int, code: str
) -> None:
    response = client.get("/api/v1/sync/pull", params=params, headers={**personas.device_a.headers(), **headers})
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["message"]


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_reader_never_sees_a_later_seq_before_a_late_committing_earlier_one(
    db: Database, client: TestClient, personas: Personas
) -> None:
    """Two concurrent pushes of one clinic: the first takes seq 1 and commits *last*.

    The second push cannot get a number (or commit) while the first is open: it waits on the
    clinic's sequence row. A reader polling meanwhile never sees seq 2 without seq 1, so its
    cursor never passes a change that is still to come.
    """
    desk = Desk(client, personas.device_a, personas.owner)
    device = DeviceIdentity(personas.device_a.id, personas.a.id, "A front desk")
    staff = StaffIdentity(personas.owner, personas.a.id, "Olivia Owner", Role.OWNER)

    def push(session: Session, name: str) -> int | None:
        request = PushRequest.model_validate(desk.body([desk.m("patient", "insert", **patient_fields(first_name=name))]))
        result = service.push(session, device=device, header_staff=staff, request=request,
                              now=SystemClock().now(), hlc=desk.hlc)
        return result.results[0].server_seq

    first = db.session(write=True, app_role=True)
    tenancy.enter_clinic(first, personas.a.id)
    assert push(first, "First") == 1  # numbered, not committed

    second_done = threading.Event()
    second_seq: list[int | None] = []

    def second_push() -> None:
        with db.transaction(write=True, app_role=True) as session:
            tenancy.enter_clinic(session, personas.a.id)
            second_seq.append(push(session, "Second"))
        second_done.set()

    worker = threading.Thread(target=second_push)
    worker.start()
    try:
        cursor = 0
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:  # a reader polling while both pushes are in flight
            page = desk.pull(cursor)
            assert page["changes"] == [], "a change became visible before the push holding seq 1 committed"
            cursor = page["next_cursor"]
            time.sleep(0.05)
        assert not second_done.is_set(), "the second push must wait for the first"
    finally:
        first.commit()
        first.close()
    worker.join(timeout=10)
    assert second_seq == [2]
    page = desk.pull(cursor)
    assert [(c["seq"], c["data"]["first_name"]) for c in page["changes"]] == [(1, "First"), (2, "Second")]


def test_the_fast_page_writer_matches_the_merge_rows_own_form(
    owner: Desk, client: TestClient, personas: Personas, db: Database
) -> None:
    """Pull splices stored JSON for plain rows; it must say exactly what RowState.to_change says."""
    import json

    from sync_server.sync import repository

    a, b, c = new_id(), new_id(), new_id()
    owner.push(owner.m("patient", "insert", a, **patient_fields(address={"city": "Oakland"}, tags=["vip", "ü"])),
               owner.m("patient", "insert", b, **patient_fields()),
               owner.m("patient", "insert", c, **patient_fields()),
               owner.m("activity", "append", patient_id=a, type="note", occurred_at="2026-03-01T10:00:00+02:00",
                       payload={"text": "ça va"}))
    owner.push(owner.m("patient", "update", a, base_version=1, notes="edited", phone=None))
    other = Desk(client, personas.device_a, personas.front_desk)
    early = other.m("patient", "update", b, base_version=1, first_name="Early")
    time.sleep(0.005)
    owner.push(owner.m("patient", "update", b, base_version=1, first_name="Late"))
    other.push(early)  # b now carries an open conflict
    owner.push(owner.m("patient", "delete", c, base_version=1))

    with db.transaction(write=False, app_role=True) as session:
        tenancy.enter_clinic(session, personas.a.id)
        raw = repository.page_raw(session, clinic_id=personas.a.id, cursor=0, limit=100)
        fast = json.loads(service.pull_json(session, clinic_id=personas.a.id, cursor=0, limit=100,
                                            now=SystemClock().now()))["changes"]
    slow = [service.slow_change(r, json.loads(r[7]) if r[7] else None).model_dump(mode="json") for r in raw]
    assert fast == slow
    assert {ch["entity_id"]: bool(ch["conflicts"]) for ch in fast if ch["entity"] == "patient"} == {a: False, b: True, c: False}
