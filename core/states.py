"""The appointment, deposit and lead state machines (DOMAIN.md).

Each machine is a table of allowed transitions; :func:`transition` is the only way a status
changes, and an illegal move raises :class:`IllegalTransition` naming both states.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from core.errors import GlowdeskError


class IllegalTransition(GlowdeskError):
    code = "illegal_transition"
    status = 409

    def __init__(self, machine: str, current: str, target: str) -> None:
        label = {"appointment": "An appointment", "deposit": "A deposit", "lead": "A lead"}.get(
            machine, machine
        )
        super().__init__(
            f"{label} that is {current.replace('_', ' ')} cannot become {target.replace('_', ' ')}."
        )
        self.machine = machine
        self.current = current
        self.target = target


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    LATE_CANCELLED = "late_cancelled"
    NO_SHOW = "no_show"


class DepositStatus(StrEnum):
    NOT_REQUIRED = "not_required"
    REQUIRED = "required"
    LINK_SENT = "link_sent"
    AUTHORISED = "authorised"
    CAPTURED = "captured"
    APPLIED = "applied"
    RELEASED = "released"
    WAIVED = "waived"
    FORFEITED = "forfeited"
    REFUNDED = "refunded"


class LeadStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    BOOKED = "booked"
    CONVERTED = "converted"
    LOST = "lost"
    SPAM = "spam"


A = AppointmentStatus
D = DepositStatus
L = LeadStatus

APPOINTMENT_TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    A.BOOKED: frozenset({A.CONFIRMED, A.CHECKED_IN, A.CANCELLED, A.LATE_CANCELLED, A.NO_SHOW}),
    A.CONFIRMED: frozenset({A.CHECKED_IN, A.CANCELLED, A.LATE_CANCELLED, A.NO_SHOW}),
    A.CHECKED_IN: frozenset({A.COMPLETED}),
    A.COMPLETED: frozenset(),
    A.CANCELLED: frozenset(),
    A.LATE_CANCELLED: frozenset(),
    A.NO_SHOW: frozenset(),
}

DEPOSIT_TRANSITIONS: dict[DepositStatus, frozenset[DepositStatus]] = {
    D.NOT_REQUIRED: frozenset({D.REQUIRED}),
    D.REQUIRED: frozenset({D.LINK_SENT, D.AUTHORISED, D.CAPTURED, D.WAIVED}),
    # a link or a hold that expires goes back to required
    D.LINK_SENT: frozenset({D.REQUIRED, D.AUTHORISED, D.CAPTURED, D.WAIVED}),
    D.AUTHORISED: frozenset({D.REQUIRED, D.CAPTURED, D.RELEASED, D.FORFEITED}),
    D.CAPTURED: frozenset({D.APPLIED, D.FORFEITED, D.REFUNDED}),
    D.APPLIED: frozenset({D.REFUNDED}),
    D.FORFEITED: frozenset({D.REFUNDED}),
    D.RELEASED: frozenset(),
    D.WAIVED: frozenset(),
    D.REFUNDED: frozenset(),
}

LEAD_TRANSITIONS: dict[LeadStatus, frozenset[LeadStatus]] = {
    L.NEW: frozenset({L.CONTACTED, L.QUALIFIED, L.BOOKED, L.LOST, L.SPAM}),
    L.CONTACTED: frozenset({L.QUALIFIED, L.BOOKED, L.LOST}),
    L.QUALIFIED: frozenset({L.BOOKED, L.LOST}),
    L.BOOKED: frozenset({L.CONVERTED, L.QUALIFIED, L.LOST}),
    L.CONVERTED: frozenset(),
    L.LOST: frozenset({L.CONTACTED}),
    L.SPAM: frozenset({L.NEW}),
}

_MACHINES: dict[type, tuple[str, dict]] = {  # type: ignore[type-arg]
    AppointmentStatus: ("appointment", APPOINTMENT_TRANSITIONS),
    DepositStatus: ("deposit", DEPOSIT_TRANSITIONS),
    LeadStatus: ("lead", LEAD_TRANSITIONS),
}

S = TypeVar("S", AppointmentStatus, DepositStatus, LeadStatus)


def can_transition(current: S, target: S) -> bool:
    _, table = _MACHINES[type(current)]
    return target in table[current]


def transition(current: S, target: S) -> S:
    """Return ``target`` if ``current -> target`` is allowed, else raise IllegalTransition."""
    if type(current) is not type(target):
        raise TypeError("states of different machines")
    name, table = _MACHINES[type(current)]
    if target not in table[current]:
        raise IllegalTransition(name, current.value, target.value)
    return target


def is_final(state: AppointmentStatus | DepositStatus | LeadStatus) -> bool:
    _, table = _MACHINES[type(state)]
    return not table[state]


#: Appointment states that hold their slot (provider, room and device are busy).
ACTIVE_APPOINTMENT_STATES = frozenset({A.BOOKED, A.CONFIRMED, A.CHECKED_IN, A.COMPLETED})
#: Lead states that still need work from the desk.
OPEN_LEAD_STATES = frozenset({L.NEW, L.CONTACTED, L.QUALIFIED})
