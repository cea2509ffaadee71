"""Appointment, deposit and lead state machines: only the moves in the tables are possible."""

from __future__ import annotations

from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.states import (
    APPOINTMENT_TRANSITIONS,
    DEPOSIT_TRANSITIONS,
    LEAD_TRANSITIONS,
    AppointmentStatus,
    DepositStatus,
    IllegalTransition,
    LeadStatus,
    can_transition,
    is_final,
    transition,
)

MACHINES = [
    (AppointmentStatus, APPOINTMENT_TRANSITIONS, AppointmentStatus.BOOKED),
    (DepositStatus, DEPOSIT_TRANSITIONS, DepositStatus.NOT_REQUIRED),
    (LeadStatus, LEAD_TRANSITIONS, LeadStatus.NEW),
]
ALL_PAIRS = [
    (table, a, b) for enum, table, _ in MACHINES for a in enum for b in enum
]


@pytest.mark.parametrize(("enum", "table", "start"), MACHINES)
def test_every_state_has_a_row_and_every_state_is_reachable(enum: type[StrEnum], table: dict, start: StrEnum) -> None:
    assert set(table) == set(enum)
    seen, frontier = {start}, [start]
    while frontier:
        for nxt in table[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(enum)


@given(st.sampled_from(MACHINES), st.lists(st.integers(min_value=0, max_value=1000), max_size=40))
def test_random_walks_only_visit_legal_states(machine: tuple, choices: list[int]) -> None:
    enum, table, state = machine
    path = [state]
    for pick in choices:
        options = sorted(table[state])
        if not options:
            assert is_final(state)
            break
        target = options[pick % len(options)]
        assert can_transition(state, target)
        state = transition(state, target)
        assert state is target and isinstance(state, enum)
        path.append(state)
    for a, b in zip(path, path[1:], strict=False):
        assert b in table[a]


@given(st.sampled_from(MACHINES), st.data())
def test_random_illegal_moves_are_refused_and_change_nothing(machine: tuple, data: st.DataObject) -> None:
    enum, table, _ = machine
    current = data.draw(st.sampled_from(list(enum)))
    illegal = [t for t in enum if t not in table[current]]
    if not illegal:
        return
    target = data.draw(st.sampled_from(illegal))
    assert not can_transition(current, target)
    with pytest.raises(IllegalTransition):
        transition(current, target)


@pytest.mark.parametrize(("table", "current", "target"), ALL_PAIRS)
def test_each_illegal_pair_raises_a_message_naming_both_states(table: dict, current: StrEnum, target: StrEnum) -> None:
    if target in table[current]:
        assert transition(current, target) is target
        return
    with pytest.raises(IllegalTransition) as err:
        transition(current, target)
    message = str(err.value)
    assert current.value.replace("_", " ") in message
    assert target.value.replace("_", " ") in message
    assert err.value.current == current.value and err.value.target == target.value
    assert err.value.status == 409


@pytest.mark.parametrize(("enum", "table", "start"), MACHINES)
def test_final_states_have_no_way_out(enum: type[StrEnum], table: dict, start: StrEnum) -> None:
    for state in enum:
        if is_final(state):
            assert table[state] == frozenset()
            for target in enum:
                with pytest.raises(IllegalTransition):
                    transition(state, target)
        else:
            assert table[state]


def test_the_domain_finals() -> None:
    finals = {s for enum, _, _ in MACHINES for s in enum if is_final(s)}
    assert finals == {
        AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCELLED,
        AppointmentStatus.NO_SHOW, DepositStatus.RELEASED, DepositStatus.WAIVED, DepositStatus.REFUNDED,
        LeadStatus.CONVERTED,
    }


def test_the_messages_a_desk_person_reads() -> None:
    with pytest.raises(IllegalTransition, match="An appointment that is completed cannot become booked"):
        transition(AppointmentStatus.COMPLETED, AppointmentStatus.BOOKED)
    with pytest.raises(IllegalTransition, match="A deposit that is refunded cannot become captured"):
        transition(DepositStatus.REFUNDED, DepositStatus.CAPTURED)
    with pytest.raises(IllegalTransition, match="A lead that is converted cannot become lost"):
        transition(LeadStatus.CONVERTED, LeadStatus.LOST)


def test_a_no_show_cannot_be_checked_in_and_a_checked_in_visit_cannot_be_cancelled() -> None:
    with pytest.raises(IllegalTransition, match="no show cannot become checked in"):
        transition(AppointmentStatus.NO_SHOW, AppointmentStatus.CHECKED_IN)
    with pytest.raises(IllegalTransition):
        transition(AppointmentStatus.CHECKED_IN, AppointmentStatus.CANCELLED)


def test_states_of_different_machines_do_not_mix() -> None:
    with pytest.raises(TypeError):
        transition(AppointmentStatus.BOOKED, LeadStatus.BOOKED)  # type: ignore[type-var]
