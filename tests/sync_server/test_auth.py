"""Device credentials, revocation and the acting staff member's permissions."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from core.permissions import Role

from .conftest import Personas, World


def test_a_request_without_credential_is_refused(client: TestClient, personas: Personas) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthenticated"
    assert "Authorization: Bearer" in response.json()["detail"]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer gdd_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "gdd_token-without-scheme"],
)
def test_a_wrong_credential_is_refused(client: TestClient, personas: Personas, authorization: str) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_me_describes_the_device_and_its_clinic(client: TestClient, personas: Personas) -> None:
    body = client.get("/api/v1/me", headers=personas.device_a.headers()).json()
    assert body["device"]["id"] == personas.device_a.id
    assert body["device"]["name"] == "A front desk"
    assert body["clinic"]["slug"] == "glow-a"


def test_revocation_takes_effect_on_the_next_request(client: TestClient, personas: Personas, world: World) -> None:
    laptop = world.device(personas.a, "Owner laptop")
    assert client.get("/api/v1/me", headers=laptop.headers()).status_code == 200

    revoked = client.post(f"/api/v1/devices/{laptop.id}/revoke", headers=personas.device_a.headers(personas.manager))
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None

    refused = client.get("/api/v1/me", headers=laptop.headers())
    assert refused.status_code == 401
    assert refused.json() == {
        "detail": "This workstation's access was revoked. Ask an administrator for a new enrollment"
        " code to enrol it again.",
        "code": "device_revoked",
    }
    # Nothing a revoked device asks for is applied, and other workstations carry on.
    attempt = client.post(f"/api/v1/devices/{personas.device_a.id}/revoke", headers=laptop.headers(personas.owner))
    assert attempt.status_code == 401
    assert client.get("/api/v1/me", headers=personas.device_a.headers()).status_code == 200


def test_revoking_twice_changes_nothing(client: TestClient, personas: Personas, world: World) -> None:
    laptop = world.device(personas.a, "Owner laptop")
    headers = personas.device_a.headers(personas.owner)
    first = client.post(f"/api/v1/devices/{laptop.id}/revoke", headers=headers).json()
    second = client.post(f"/api/v1/devices/{laptop.id}/revoke", headers=headers).json()
    assert first["revoked_at"] == second["revoked_at"]


def test_an_action_needs_the_acting_staff_member(client: TestClient, personas: Personas) -> None:
    response = client.get("/api/v1/devices", headers=personas.device_a.headers())
    assert response.status_code == 403
    assert response.json()["code"] == "staff_required"
    assert "X-Glowdesk-Staff" in response.json()["detail"]


@pytest.mark.parametrize("who", ["unknown", "other_clinic", "inactive", "garbage"])
def test_the_acting_staff_member_must_be_active_in_the_devices_clinic(
    client: TestClient, personas: Personas, world: World, who: str
) -> None:
    staff_id = {
        "unknown": "01a00000-0000-7000-8000-000000000000",
        "other_clinic": personas.b_owner,
        "inactive": world.staff(personas.a, Role.OWNER, "Former Owner", active=False),
        "garbage": "'; DROP TABLE staff; --",
    }[who]
    response = client.get("/api/v1/devices", headers=personas.device_a.headers(staff_id))
    assert response.status_code == 403
    assert response.json() == {
        "detail": "The acting staff member is not an active member of this clinic; sign in again.",
        "code": "unknown_staff",
    }


@pytest.mark.parametrize(
    ("role", "path", "allowed"),
    [
        ("owner", "/api/v1/devices", True),
        ("manager", "/api/v1/devices", True),
        ("front_desk", "/api/v1/devices", False),
        ("provider", "/api/v1/devices", False),
        ("medical_director", "/api/v1/audit/verify", True),
        ("front_desk", "/api/v1/audit/verify", False),
    ],
)
def test_the_role_table_of_core_decides(
    client: TestClient, personas: Personas, role: str, path: str, allowed: bool
) -> None:
    staff_id = getattr(personas, role)
    response = client.get(path, headers=personas.device_a.headers(staff_id))
    if allowed:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
        assert response.json()["detail"].startswith(f"A {Role(role).label.lower()} is not allowed to do this")


def test_a_role_lacking_permission_changes_nothing(client: TestClient, personas: Personas, world: World) -> None:
    laptop = world.device(personas.a, "Owner laptop")
    response = client.post(f"/api/v1/devices/{laptop.id}/revoke", headers=personas.device_a.headers(personas.front_desk))
    assert response.status_code == 403
    assert client.get("/api/v1/me", headers=laptop.headers()).status_code == 200


def test_every_api_route_but_enroll_needs_a_device(client: TestClient) -> None:
    """A guard for future endpoints: one that forgets CurrentDevice/CurrentStaff fails here."""
    checked = []
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        if not path.startswith("/api/v1/") or path == "/api/v1/enroll":
            continue
        concrete = path.replace("{", "").replace("}", "")  # any value will do for path parameters
        for method in operations:
            response = client.request(method.upper(), concrete)
            assert response.status_code == 401, f"{method} {path} answered {response.status_code}"
            checked.append(f"{method} {path}")
    assert len(checked) >= 5
