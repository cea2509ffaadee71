"""The role/permission table that drives both the desktop's UI and the server's checks."""

from __future__ import annotations

import pytest

from core.errors import PermissionDenied
from core.permissions import PERMISSIONS, Permission, Role, has_permission, require


def test_every_role_has_a_row_and_a_label() -> None:
    assert set(PERMISSIONS) == set(Role)
    assert Role.FRONT_DESK.label == "Front desk"


def test_owner_can_do_everything() -> None:
    for permission in Permission:
        assert has_permission(Role.OWNER, permission)
        require("owner", permission)


def test_front_desk_cannot_sign_or_write_charts() -> None:
    for p in (Permission.CHART_SIGN, Permission.CHART_COSIGN, Permission.CHART_WRITE):
        assert not has_permission(Role.FRONT_DESK, p)
    with pytest.raises(PermissionDenied) as err:
        require("front_desk", Permission.CHART_SIGN)
    assert "front desk" in str(err.value) and "chart.sign" in str(err.value)
    assert err.value.status == 403


def test_front_desk_books_texts_and_takes_payments() -> None:
    for p in (Permission.APPOINTMENT_WRITE, Permission.MESSAGE_SEND, Permission.PAYMENT_TAKE,
              Permission.PATIENT_WRITE, Permission.LEAD_WRITE):
        assert has_permission(Role.FRONT_DESK, p)


def test_only_owner_and_manager_manage_settings_and_staff() -> None:
    for p in (Permission.SETTINGS_MANAGE, Permission.STAFF_MANAGE):
        assert {r for r in Role if has_permission(r, p)} == {Role.OWNER, Role.MANAGER}


def test_providers_sign_and_the_medical_director_cosigns() -> None:
    assert has_permission(Role.PROVIDER, Permission.CHART_SIGN)
    assert not has_permission(Role.PROVIDER, Permission.CHART_COSIGN)
    assert has_permission(Role.MEDICAL_DIRECTOR, Permission.CHART_COSIGN)
    assert {r for r in Role if has_permission(r, Permission.CHART_COSIGN)} == {
        Role.OWNER, Role.MEDICAL_DIRECTOR,
    }


def test_refunds_are_not_for_the_desk_or_providers() -> None:
    assert {r for r in Role if has_permission(r, Permission.PAYMENT_REFUND)} == {Role.OWNER, Role.MANAGER}


def test_an_unknown_role_is_an_error_not_a_permission() -> None:
    with pytest.raises(ValueError):
        has_permission("janitor", Permission.PATIENT_READ)


def test_managers_assign_leads_and_hear_about_missed_replies_the_desk_merges_duplicates() -> None:
    assert {r for r in Role if has_permission(r, Permission.LEAD_ASSIGN)} == {Role.OWNER, Role.MANAGER}
    assert {r for r in Role if has_permission(r, Permission.PATIENT_MERGE)} == {Role.OWNER, Role.MANAGER,
                                                                                 Role.FRONT_DESK}
    assert not has_permission(Role.PROVIDER, Permission.LEAD_WRITE)  # providers see leads, do not claim them
