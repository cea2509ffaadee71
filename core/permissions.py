"""Roles and the permission table: the one source for the desktop's UI and the server's checks."""

from __future__ import annotations

from enum import StrEnum

from core.errors import PermissionDenied


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    PROVIDER = "provider"
    FRONT_DESK = "front_desk"
    MEDICAL_DIRECTOR = "medical_director"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.OWNER: "Owner",
    Role.MANAGER: "Manager",
    Role.PROVIDER: "Provider",
    Role.FRONT_DESK: "Front desk",
    Role.MEDICAL_DIRECTOR: "Medical director",
}


class Permission(StrEnum):
    PATIENT_READ = "patient.read"
    PATIENT_WRITE = "patient.write"
    PATIENT_IMPORT = "patient.import"
    PATIENT_MERGE = "patient.merge"
    LEAD_READ = "lead.read"
    LEAD_WRITE = "lead.write"
    #: reassign leads, release someone else's claim, hear about missed reply times (escalations)
    LEAD_ASSIGN = "lead.assign"
    APPOINTMENT_READ = "appointment.read"
    APPOINTMENT_WRITE = "appointment.write"
    MESSAGE_SEND = "message.send"
    MESSAGE_MARKETING = "message.marketing"
    CHART_READ = "chart.read"
    CHART_WRITE = "chart.write"
    CHART_SIGN = "chart.sign"
    CHART_COSIGN = "chart.cosign"
    PHOTO_CAPTURE = "photo.capture"
    PAYMENT_TAKE = "payment.take"
    PAYMENT_REFUND = "payment.refund"
    REPORT_VIEW = "report.view"
    SETTINGS_MANAGE = "settings.manage"
    STAFF_MANAGE = "staff.manage"
    DEVICE_MANAGE = "device.manage"
    AUDIT_VIEW = "audit.view"
    #: export the clinic's whole data set (FHIR and CSV, in clear): owners only
    DATA_EXPORT = "data.export"


P = Permission

_DESK = {
    P.PATIENT_READ, P.PATIENT_WRITE, P.LEAD_READ, P.LEAD_WRITE, P.APPOINTMENT_READ,
    P.APPOINTMENT_WRITE, P.MESSAGE_SEND, P.PAYMENT_TAKE,
}
_CLINICAL = {P.CHART_READ, P.CHART_WRITE, P.CHART_SIGN, P.PHOTO_CAPTURE}

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.MANAGER: frozenset(
        _DESK
        | {P.CHART_READ, P.PHOTO_CAPTURE, P.PATIENT_IMPORT, P.PATIENT_MERGE, P.LEAD_ASSIGN, P.MESSAGE_MARKETING,
           P.PAYMENT_REFUND, P.REPORT_VIEW, P.SETTINGS_MANAGE, P.STAFF_MANAGE, P.DEVICE_MANAGE,
           P.AUDIT_VIEW}
    ),
    Role.PROVIDER: frozenset(
        {P.PATIENT_READ, P.PATIENT_WRITE, P.LEAD_READ, P.APPOINTMENT_READ, P.APPOINTMENT_WRITE,
         P.MESSAGE_SEND} | _CLINICAL
    ),
    Role.FRONT_DESK: frozenset(_DESK | {P.PATIENT_MERGE}),
    Role.MEDICAL_DIRECTOR: frozenset(
        {P.PATIENT_READ, P.APPOINTMENT_READ, P.LEAD_READ, P.MESSAGE_SEND, P.REPORT_VIEW,
         P.CHART_COSIGN, P.AUDIT_VIEW} | _CLINICAL
    ),
}


def has_permission(role: Role | str, permission: Permission) -> bool:
    return permission in PERMISSIONS[Role(role)]


def require(role: Role | str, permission: Permission) -> None:
    """Raise :class:`PermissionDenied` unless ``role`` holds ``permission``."""
    if not has_permission(role, permission):
        raise PermissionDenied(
            f"A {Role(role).label.lower()} is not allowed to do this ({permission.value})."
        )
