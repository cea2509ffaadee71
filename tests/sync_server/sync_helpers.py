"""A workstation speaking sync protocol v1 over HTTP, for the server's sync tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

from core.clock import HybridLogicalClock
from core.ids import new_id
from core.sync import PROTOCOL_HEADER, PROTOCOL_VERSION, SCHEMA_HEADER, SCHEMA_VERSION

from .conftest import DeviceRef

VERSION_HEADERS = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), SCHEMA_HEADER: str(SCHEMA_VERSION)}


def utc_text(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Desk:
    """One enrolled workstation with a signed-in staff member."""

    client: TestClient | httpx.Client
    device: DeviceRef
    staff_id: str
    node: str = field(default_factory=lambda: secrets.token_hex(8))

    def __post_init__(self) -> None:
        self.hlc = HybridLogicalClock(self.node)

    @property
    def clinic_id(self) -> str:
        return self.device.clinic_id

    def headers(self, staff_id: str | None = None) -> dict[str, str]:
        return self.device.headers(staff_id or self.staff_id)

    def m(
        self,
        entity: str,
        op: str,
        entity_id: str | None = None,
        base_version: int = 0,
        staff_id: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        if op in ("insert", "append"):
            fields.setdefault("clinic_id", self.clinic_id)
        return {
            "mutation_id": new_id(), "entity": entity, "entity_id": entity_id or new_id(), "op": op,
            "fields": fields, "base_version": base_version, "hlc": str(self.hlc.now()), "staff_id": staff_id,
        }

    def body(self, mutations: list[dict[str, Any]]) -> dict[str, Any]:
        return {"protocol_version": PROTOCOL_VERSION, "schema_version": SCHEMA_VERSION,
                "device_id": self.node, "mutations": mutations}

    def push_raw(self, *mutations: dict[str, Any], staff_id: str | None = None) -> httpx.Response:
        return self.client.post("/api/v1/sync/push", json=self.body(list(mutations)), headers=self.headers(staff_id))

    def push(self, *mutations: dict[str, Any], staff_id: str | None = None) -> list[dict[str, Any]]:
        response = self.push_raw(*mutations, staff_id=staff_id)
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    def pull(self, cursor: int = 0, limit: int | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"cursor": cursor}
        if limit is not None:
            params["limit"] = limit
        response = self.client.get("/api/v1/sync/pull", params=params,
                                   headers={**self.device.headers(), **VERSION_HEADERS})
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page

    def pull_all(self, cursor: int = 0, limit: int = 1000) -> tuple[list[dict[str, Any]], int]:
        changes: list[dict[str, Any]] = []
        while True:
            page = self.pull(cursor, limit)
            changes.extend(page["changes"])
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return changes, cursor


def patient_fields(**over: Any) -> dict[str, Any]:
    return {"first_name": "Ana", "last_name": "Lima", "phone": "+14155550123", **over}


@dataclass
class Catalogue:
    """A location, two rooms, a laser, a service with buffers and a patient, pushed by the owner."""

    location: str
    room1: str
    room2: str
    laser: str
    service: str
    patient: str


def seed_catalogue(owner: Desk) -> Catalogue:
    loc, room1, room2, laser, service, patient = (new_id() for _ in range(6))
    results = owner.push(
        owner.m("location", "insert", loc, name="Pacific Heights", timezone="America/Los_Angeles"),
        owner.m("room", "insert", room1, location_id=loc, name="Injection Room 1"),
        owner.m("room", "insert", room2, location_id=loc, name="Laser Suite", kind="laser"),
        owner.m("device", "insert", laser, location_id=loc, name="GentleMax Pro", kind="laser"),
        owner.m("service", "insert", service, name="Botox Cosmetic", category="neuromodulators",
                duration_min=30, buffer_before_min=0, buffer_after_min=10, price_minor=1500),
        owner.m("patient", "insert", patient, **patient_fields()),
    )
    assert [r["status"] for r in results] == ["applied"] * 6, results
    return Catalogue(loc, room1, room2, laser, service, patient)


def appointment(desk: Desk, cat: Catalogue, provider: str, start: datetime, minutes: int = 30,
                room: str | None = None, device: str | None = None, **over: Any) -> dict[str, Any]:
    return desk.m(
        "appointment", "insert", patient_id=cat.patient, service_id=cat.service, provider_id=provider,
        location_id=cat.location, room_id=room or cat.room1, device_id=device,
        start_at=utc_text(start), end_at=utc_text(start + timedelta(minutes=minutes)), **over,
    )
