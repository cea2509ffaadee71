"""Sync protocol v1 on the server: hello, push (idempotent, merged, refused per mutation)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from core.ids import new_id
from core.sync import MAX_PUSH_BODY_BYTES, MAX_PUSH_MUTATIONS, PROTOCOL_VERSION, SCHEMA_VERSION, ErrorBody
from sync_server.audit.models import AuditEntry
from sync_server.sync.models import SyncConflict, SyncMutation, SyncRow

from .conftest import Personas, World
from .sync_helpers import Desk, appointment, patient_fields, seed_catalogue


@pytest.fixture
def owner(client: TestClient, personas: Personas) -> Desk:
    return Desk(client, personas.device_a, personas.owner)


def _count(admin_sql: Engine, model: Any, clinic_id: str) -> int:
    with admin_sql.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model).where(model.clinic_id == clinic_id)).scalar_one())


def _high_water(admin_sql: Engine, clinic_id: str) -> int:
    with admin_sql.connect() as conn:
        value = conn.execute(text("SELECT last_seq FROM clinic_sync_state WHERE clinic_id = :c"), {"c": clinic_id})
        return int(value.scalar_one())


# --- hello -----------------------------------------------------------------------------------


def test_hello_answers_versions_limits_and_high_water(client: TestClient, personas: Personas, owner: Desk) -> None:
    owner.push(owner.m("patient", "insert", **patient_fields()))
    response = client.post("/api/v1/sync/hello", headers=personas.device_a.headers(),
                           json={"protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] is True
    assert body["protocol_version"] == PROTOCOL_VERSION and body["schema_version"] == SCHEMA_VERSION
    assert body["high_water_seq"] == 1
    assert body["max_push_mutations"] == MAX_PUSH_MUTATIONS


@pytest.mark.parametrize(("protocol", "schema", "status", "upgrade"), [
    (0, SCHEMA_VERSION, 426, "client"),
    (PROTOCOL_VERSION + 1, SCHEMA_VERSION, 409, "server"),
    (PROTOCOL_VERSION, SCHEMA_VERSION + 1, 409, "server"),
])
def test_hello_mismatch_names_both_versions_and_who_updates(
    client: TestClient, personas: Personas, protocol: int, schema: int, status: int, upgrade: str
) -> None:
    response = client.post("/api/v1/sync/hello", headers=personas.device_a.headers(),
                           json={"protocol_version": protocol, "schema_version": schema})
    assert response.status_code == status
    body = ErrorBody.model_validate(response.json())
    assert body.code == "protocol_mismatch"
    assert body.details["upgrade"] == upgrade
    assert body.details["client_protocol_version"] == protocol
    assert body.details["server_schema_version"] == SCHEMA_VERSION
    assert response.json()["detail"] == body.message


def test_hello_needs_a_device(client: TestClient) -> None:
    response = client.post("/api/v1/sync/hello", json={"protocol_version": 1, "schema_version": 1})
    assert response.status_code == 401


# --- push: applied, duplicate, lost acknowledgement -------------------------------------------


def test_push_applies_and_a_repeat_is_a_duplicate(owner: Desk, admin_sql: Engine, personas: Personas) -> None:
    insert = owner.m("patient", "insert", **patient_fields())
    [first] = owner.push(insert)
    assert first["status"] == "applied"
    assert first["server_seq"] == 1
    assert first["current"]["version"] == 1
    assert first["current"]["data"]["first_name"] == "Ana"
    audit_before = _count(admin_sql, AuditEntry, personas.a.id)

    # The desktop was killed before it stored the acknowledgement: it sends the same entry again.
    [again] = owner.push(insert)
    assert again["status"] == "duplicate"
    assert again["server_seq"] == 1
    assert again["current"]["version"] == 1
    assert _high_water(admin_sql, personas.a.id) == 1
    assert _count(admin_sql, AuditEntry, personas.a.id) == audit_before
    assert _count(admin_sql, SyncMutation, personas.a.id) == 1


def test_a_whole_push_repeated_after_a_lost_ack_applies_nothing_twice(owner: Desk, admin_sql: Engine, personas: Personas) -> None:
    pid = new_id()
    batch = [
        owner.m("patient", "insert", pid, **patient_fields()),
        owner.m("patient", "update", pid, base_version=1, notes="Prefers mornings"),
        owner.m("activity", "append", patient_id=pid, type="note", occurred_at="2026-03-01T10:00:00Z",
                payload={"text": "hello"}),
    ]
    first = owner.push(*batch)
    assert [r["status"] for r in first] == ["applied", "applied", "applied"]
    high = _high_water(admin_sql, personas.a.id)
    second = owner.push(*batch)
    assert [r["status"] for r in second] == ["duplicate"] * 3
    assert [r["server_seq"] for r in second] == [r["server_seq"] for r in first]
    assert _high_water(admin_sql, personas.a.id) == high
    changes, _ = owner.pull_all()
    patient = next(c for c in changes if c["entity_id"] == pid)
    assert patient["version"] == 2 and patient["data"]["notes"] == "Prefers mornings"


def test_one_rejected_mutation_does_not_stop_the_others(owner: Desk, personas: Personas, client: TestClient) -> None:
    desk = Desk(client, personas.device_a, personas.front_desk)
    service = desk.m("service", "insert", name="Botox", category="neuromodulators", duration_min=30, price_minor=1500)
    results = desk.push(
        desk.m("patient", "insert", **patient_fields()),
        service,
        desk.m("patient", "insert", **patient_fields(first_name="Bea")),
    )
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["code"] == "forbidden"
    assert results[1]["reason"] == "Fran Desk (front desk) is not allowed to change a service, so this change was not saved."
    assert [r["server_seq"] for r in results] == [1, None, 2]
    # A repeat of a rejected entry is the same rejection (it is final), still not applied.
    [again] = desk.push(service)
    assert again["status"] == "rejected" and again["code"] == "forbidden"


def test_the_mutations_staff_member_is_checked_not_only_the_headers(owner: Desk, personas: Personas) -> None:
    results = owner.push(
        owner.m("patient", "insert", staff_id=personas.b_owner, **patient_fields()),
        owner.m("patient", "insert", staff_id="01a00000-0000-7000-8000-000000000000", **patient_fields()),
        owner.m("service", "insert", staff_id=personas.front_desk, name="Peel", category="skin",
                duration_min=30, price_minor=100),
        owner.m("service", "insert", staff_id=personas.manager, name="Peel", category="skin",
                duration_min=30, price_minor=100),
    )
    assert [r["code"] for r in results] == ["unknown_staff", "unknown_staff", "forbidden", None]
    assert results[3]["status"] == "applied"
    assert results[3]["current"]["data"]["name"] == "Peel"


def test_without_any_staff_member_a_mutation_is_refused(client: TestClient, personas: Personas) -> None:
    desk = Desk(client, personas.device_a, personas.owner)
    response = client.post("/api/v1/sync/push", json=desk.body([desk.m("patient", "insert", **patient_fields())]),
                           headers=personas.device_a.headers())
    assert response.status_code == 200
    assert response.json()["results"][0]["code"] == "staff_required"


def test_an_invalid_acting_staff_header_refuses_the_push(client: TestClient, personas: Personas) -> None:
    desk = Desk(client, personas.device_a, personas.b_owner)
    response = desk.push_raw(desk.m("patient", "insert", **patient_fields()))
    assert response.status_code == 403
    assert response.json()["code"] == "unknown_staff"


# --- merge: conflicts, server-owned and insert-only fields ------------------------------------


def test_concurrent_edits_of_one_field_give_one_winner_and_a_conflict_record(
    client: TestClient, personas: Personas, owner: Desk, admin_sql: Engine, world: World
) -> None:
    pid = new_id()
    owner.push(owner.m("patient", "insert", pid, **patient_fields()))
    front = Desk(client, personas.device_a, personas.front_desk)
    laptop_device = world.device(personas.a, "Owner laptop")
    laptop = Desk(client, laptop_device, personas.manager)
    # Both edit the phone having seen version 1; the laptop's stamp is later, so it wins.
    early = front.m("patient", "update", pid, base_version=1, phone="+14155550001")
    time.sleep(0.005)  # a later wall clock: HLC order is wall time first
    late = laptop.m("patient", "update", pid, base_version=1, phone="+14155550002")
    [late_result] = laptop.push(late)
    [early_result] = front.push(early)
    assert late_result["status"] == "applied"
    assert early_result["status"] == "conflict_resolved"
    assert early_result["code"] == "concurrent_edit"
    assert early_result["current"]["data"]["phone"] == "+14155550002"
    [conflict] = early_result["conflicts"]
    assert conflict["losing_value"] == "+14155550001" and conflict["winning_value"] == "+14155550002"

    with admin_sql.connect() as conn:
        rows = conn.execute(select(SyncConflict).where(SyncConflict.clinic_id == personas.a.id)).all()
    assert len(rows) == 1
    record = rows[0]._mapping
    assert (record["field"], record["kind"], record["losing_value"], record["winning_value"]) == (
        "phone", "concurrent_edit", "+14155550001", "+14155550002")
    assert record["losing_device_id"] == personas.device_a.id
    assert record["losing_staff_id"] == personas.front_desk
    # Every desktop sees the same winner and the open conflict in the pull.
    changes, _ = owner.pull_all()
    row = [c for c in changes if c["entity_id"] == pid][-1]
    assert row["data"]["phone"] == "+14155550002"
    assert [c["losing_value"] for c in row["conflicts"]] == ["+14155550001"]


def test_server_owned_fields_are_refused_from_a_workstation(owner: Desk, personas: Personas) -> None:
    cat = seed_catalogue(owner)
    start = datetime(2030, 3, 5, 22, 0, tzinfo=UTC)
    insert = appointment(owner, cat, personas.provider, start, tentative=True, deposit_status="captured")
    [booked] = owner.push(insert)
    assert booked["status"] == "applied"
    assert booked["current"]["data"]["tentative"] is False  # decided by the server
    assert booked["current"]["data"]["deposit_status"] == "not_required"
    appt = insert["entity_id"]

    [only_owned] = owner.push(owner.m("appointment", "update", appt, base_version=booked["current"]["version"],
                                      deposit_status="captured"))
    assert only_owned["status"] == "rejected"
    assert only_owned["code"] == "server_owned"
    assert "deposit" in only_owned["rejected_fields"]["deposit_status"]

    [mixed] = owner.push(owner.m("appointment", "update", appt, base_version=booked["current"]["version"],
                                 notes="Numbing first", tentative=True))
    assert mixed["status"] == "conflict_resolved"
    assert set(mixed["rejected_fields"]) == {"tentative"}
    assert mixed["current"]["data"]["notes"] == "Numbing first"
    assert mixed["current"]["data"]["tentative"] is False


def test_an_insert_for_another_clinic_is_refused(owner: Desk, personas: Personas, admin_sql: Engine) -> None:
    [result] = owner.push(owner.m("patient", "insert", **patient_fields(clinic_id=personas.b.id)))
    assert result["status"] == "rejected"
    assert result["code"] == "wrong_clinic"
    assert _count(admin_sql, SyncRow, personas.b.id) == 0
    assert _count(admin_sql, SyncRow, personas.a.id) == 0


def test_a_clinic_only_the_server_writes_is_refused(owner: Desk) -> None:
    [result] = owner.push(owner.m("clinic", "insert", name="Mine now", slug="mine"))
    assert result["status"] == "rejected"
    assert result["code"] == "not_writable"


# --- appointments: the server allocates slots ------------------------------------------------


def test_a_double_booking_is_refused_with_a_front_desk_reason(owner: Desk, personas: Personas) -> None:
    cat = seed_catalogue(owner)
    # 2:00 PM Pacific on Thu, Mar 5, 2026 (22:00 UTC)
    start = datetime(2026, 3, 5, 22, 0, tzinfo=UTC)
    [first] = owner.push(appointment(owner, cat, personas.provider, start, minutes=45))
    assert first["status"] == "applied"

    clash = appointment(owner, cat, personas.provider, start + timedelta(minutes=30), room=cat.room2)
    [refused] = owner.push(clash)
    assert refused["status"] == "rejected"
    assert refused["code"] == "double_booking"
    assert refused["reason"] == (
        "Pat Provider is already booked 2:00–2:45 PM on Thu, Mar 5, so this appointment was not saved. "
        "Choose another time, provider or room."
    )
    # The clean-up buffer (10 min after) counts too; the room is busy as well.
    [buffer] = owner.push(appointment(owner, cat, personas.medical_director, start + timedelta(minutes=50)))
    assert buffer["status"] == "rejected"
    assert buffer["reason"].startswith("Injection Room 1 is already in use 2:00–2:45 PM on Thu, Mar 5 "
                                       "(counting set-up and clean-up time)")
    # After the buffer, and for another provider in another room, it is fine.
    results = owner.push(
        appointment(owner, cat, personas.provider, start + timedelta(minutes=55)),
        appointment(owner, cat, personas.medical_director, start, room=cat.room2, device=cat.laser),
    )
    assert [r["status"] for r in results] == ["applied", "applied"]
    # The laser is busy now: equipment counts as well.
    [laser] = owner.push(appointment(owner, cat, personas.owner, start + timedelta(minutes=10), room=new_id(),
                                     device=cat.laser))
    assert laser["status"] == "rejected"
    assert laser["reason"].startswith("The GentleMax Pro is already in use")


def test_a_cancelled_appointment_frees_its_slot_and_moving_into_a_taken_slot_is_refused(owner: Desk, personas: Personas) -> None:
    cat = seed_catalogue(owner)
    start = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
    a = appointment(owner, cat, personas.provider, start)
    b = appointment(owner, cat, personas.provider, start + timedelta(hours=2))
    ra, rb = owner.push(a, b)
    # Moving b onto a's time is refused; the stored b is unchanged.
    [moved] = owner.push(owner.m("appointment", "update", b["entity_id"], base_version=rb["current"]["version"],
                                 start_at=a["fields"]["start_at"], end_at=a["fields"]["end_at"]))
    assert moved["status"] == "rejected" and moved["code"] == "double_booking"
    assert moved["current"]["data"]["start_at"] == b["fields"]["start_at"].replace("Z", "Z")
    # Cancelling a frees the slot, then b can move there.
    [cancel] = owner.push(owner.m("appointment", "update", a["entity_id"], base_version=ra["current"]["version"],
                                  status="cancelled"))
    assert cancel["status"] == "applied"
    [moved] = owner.push(owner.m("appointment", "update", b["entity_id"], base_version=rb["current"]["version"],
                                 start_at=a["fields"]["start_at"], end_at=a["fields"]["end_at"]))
    assert moved["status"] == "applied"
    # Editing notes of an appointment never re-checks a slot it already holds.
    [notes] = owner.push(owner.m("appointment", "update", b["entity_id"], base_version=moved["current"]["version"],
                                 notes="Running late"))
    assert notes["status"] == "applied"


# --- bodies that are refused whole -----------------------------------------------------------


def _nothing_applied(admin_sql: Engine, clinic_id: str) -> None:
    assert _high_water(admin_sql, clinic_id) == 0
    assert _count(admin_sql, SyncRow, clinic_id) == 0
    assert _count(admin_sql, SyncMutation, clinic_id) == 0


def test_an_oversized_push_is_refused_before_it_is_read(client: TestClient, owner: Desk, personas: Personas, admin_sql: Engine) -> None:
    big = owner.body([owner.m("patient", "insert", **patient_fields(notes="x" * 1000)) for _ in range(10)])
    raw = json.dumps(big).encode() + b" " * (MAX_PUSH_BODY_BYTES + 1)
    response = client.post("/api/v1/sync/push", content=raw, headers={**owner.headers(), "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "push_too_large"
    assert ErrorBody.model_validate(response.json()).message.startswith("This batch of changes is too large")

    def chunks() -> Any:  # no Content-Length: counted while reading
        yield raw[:1000]
        yield raw[1000:]

    response = client.post("/api/v1/sync/push", content=chunks(), headers={**owner.headers(), "Content-Type": "application/json"})
    assert response.status_code == 413
    too_many = owner.body([owner.m("patient", "insert", **patient_fields()) for _ in range(MAX_PUSH_MUTATIONS + 1)])
    response = client.post("/api/v1/sync/push", json=too_many, headers=owner.headers())
    assert response.status_code == 413
    _nothing_applied(admin_sql, personas.a.id)


@pytest.mark.parametrize("body", [
    b"{not json",
    b'{"protocol_version": 1, "schema_version": 1, "device_id": "x", "mutations": [{"mutation_id": 1}]}',
    b'{"protocol_version": 1, "schema_version": 1, "device_id": "x", "mutations": [], "extra": true}',
    b"[]",
])
def test_a_malformed_push_is_refused_whole(client: TestClient, owner: Desk, personas: Personas, admin_sql: Engine, body: bytes) -> None:
    good = owner.m("patient", "insert", **patient_fields())
    response = client.post("/api/v1/sync/push", content=body, headers={**owner.headers(), "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["code"] == "malformed"
    assert "Nothing from it was saved" in response.json()["message"]
    # A batch with one good and one unreadable entry is refused whole as well.
    mixed = owner.body([good, {"mutation_id": new_id(), "entity": "patient"}])
    assert client.post("/api/v1/sync/push", json=mixed, headers=owner.headers()).status_code == 422
    _nothing_applied(admin_sql, personas.a.id)


def test_a_push_with_other_versions_is_refused(client: TestClient, owner: Desk, admin_sql: Engine, personas: Personas) -> None:
    body = owner.body([owner.m("patient", "insert", **patient_fields())])
    response = client.post("/api/v1/sync/push", json={**body, "protocol_version": 0}, headers=owner.headers())
    assert response.status_code == 426
    assert response.json()["details"]["upgrade"] == "client"
    _nothing_applied(admin_sql, personas.a.id)


def test_a_server_error_rolls_back_the_whole_push(
    client: TestClient, owner: Desk, personas: Personas, admin_sql: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync_server.audit import service as audit

    real = audit.append
    calls = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(audit, "append", failing)
    with pytest.raises(RuntimeError):
        owner.push_raw(owner.m("patient", "insert", **patient_fields()), owner.m("patient", "insert", **patient_fields()))
    _nothing_applied(admin_sql, personas.a.id)


# --- credentials and other clinics -----------------------------------------------------------


def test_a_revoked_device_can_neither_push_nor_pull(client: TestClient, personas: Personas, world: World) -> None:
    laptop_device = world.device(personas.a, "Owner laptop")
    laptop = Desk(client, laptop_device, personas.owner)
    assert laptop.push(laptop.m("patient", "insert", **patient_fields()))[0]["status"] == "applied"
    revoke = client.post(f"/api/v1/devices/{laptop_device.id}/revoke", headers=personas.device_a.headers(personas.owner))
    assert revoke.status_code == 200
    refused = laptop.push_raw(laptop.m("patient", "insert", **patient_fields()))
    assert refused.status_code == 401 and refused.json()["code"] == "device_revoked"
    pulled = client.get("/api/v1/sync/pull", headers=laptop_device.headers())
    assert pulled.status_code == 401 and pulled.json()["code"] == "device_revoked"


def test_another_clinics_device_cannot_read_or_write_rows_by_id_or_cursor(client: TestClient, personas: Personas, owner: Desk) -> None:
    pid = new_id()
    [mine] = owner.push(owner.m("patient", "insert", pid, **patient_fields()))
    outsider = Desk(client, personas.device_b, personas.b_owner)
    # B cannot see A's rows from any cursor...
    assert outsider.pull(0)["changes"] == []
    assert outsider.pull(0)["next_cursor"] == 0
    # ...nor change or delete them by id: for B there is no such row.
    results = outsider.push(
        outsider.m("patient", "update", pid, base_version=1, first_name="Mallory"),
        outsider.m("patient", "delete", pid, base_version=1),
        outsider.m("patient", "insert", pid, **patient_fields(first_name="Mallory")),
    )
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    assert results[0]["code"] == "not_found"
    # The third made B's own row with the same id; A's row is untouched and A sees no B row.
    changes, _ = owner.pull_all()
    assert [(c["entity_id"], c["data"]["first_name"], c["version"]) for c in changes] == [(pid, "Ana", 1)]
    assert mine["current"]["data"]["first_name"] == "Ana"
    b_changes, _ = outsider.pull_all()
    assert [c["data"]["first_name"] for c in b_changes] == ["Mallory"]
    # And B's mutation ids live in B's namespace: A repeating one of them is not a "duplicate".
    again = owner.m("patient", "insert", **patient_fields())
    again["mutation_id"] = results[2]["mutation_id"]
    assert owner.push(again)[0]["status"] == "applied"


def test_push_pull_and_live_need_a_device(client: TestClient) -> None:
    assert client.post("/api/v1/sync/push", content=b"x" * 10).status_code == 401
    assert client.get("/api/v1/sync/pull").status_code == 401
    assert client.get("/api/v1/sync/live").status_code == 401
