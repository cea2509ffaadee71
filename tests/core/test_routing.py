"""Lead routing rules as pure functions: assignment, working hours, reply deadlines, claims and
escalation targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.routing import (
    DEFAULT_CLAIM_MINUTES,
    LeadFacts,
    Member,
    RoutingPolicy,
    RoutingSettingsError,
    Workload,
    assign,
    claim_expiry,
    clinic_hours,
    escalation_target,
    hours_from_text,
    hours_to_text,
    next_start,
    parse_hours,
    parse_policy,
    policy_to_settings,
    sla_due,
)

LA = ZoneInfo("America/Los_Angeles")
# Tuesday 3 March 2026, 10:30 in Los Angeles
TUESDAY_MORNING = datetime(2026, 3, 3, 10, 30, tzinfo=LA)
CLINIC = clinic_hours({})  # Monday to Saturday 9:00-19:00

NORA = Member("nora", "Nora Kim", "provider", hours=parse_hours({"tue": [["09:00", "17:00"]]}))
PRIYA = Member("priya", "Priya Raman", "provider", hours=parse_hours({"wed": [["09:00", "17:00"]]}))
FELIX = Member("felix", "Felix Park", "front_desk")
DAISY = Member("daisy", "Daisy Alvarez", "front_desk")
SAM = Member("sam", "Sam Taylor", "front_desk", hours=parse_hours({"sat": [["10:00", "14:00"]]}))
MARCUS = Member("marcus", "Marcus Mendoza", "manager")
OLIVIA = Member("olivia", "Olivia Owens", "owner")
TEAM = [NORA, PRIYA, FELIX, DAISY, SAM, MARCUS, OLIVIA]

POLICY = parse_policy({
    "rules": [
        {"kind": "service", "match": ["laser", "ipl"], "staff": ["priya", "nora"]},
        {"kind": "vip", "roles": ["manager", "owner"]},
        {"kind": "round_robin", "roles": ["front_desk"]},
    ],
    "fallback": "olivia",
})


def route(lead: LeadFacts, workload: Workload | None = None, *, at: datetime = TUESDAY_MORNING,
          policy: RoutingPolicy = POLICY, staff: list[Member] | None = None) -> str | None:
    return assign(lead, policy, staff or TEAM, workload or Workload(), local_now=at, clinic=CLINIC).staff_id


def test_a_laser_lead_goes_to_the_laser_specialist_on_shift() -> None:
    # Priya is named first but works Wednesdays; on Tuesday Nora takes it
    assert route(LeadFacts("web_form", "Laser hair removal")) == "nora"
    assert route(LeadFacts("web_form", "IPL photofacial"), at=TUESDAY_MORNING + timedelta(days=1)) == "priya"


def test_vip_clients_go_to_a_senior() -> None:
    assert route(LeadFacts("sms", "Botox", vip=True)) == "marcus"


def test_round_robin_among_the_front_desk_on_shift() -> None:
    workload = Workload(last_assigned={"felix": "2026-03-03T17:00:00Z"})
    assert route(LeadFacts("meta_lead_ad", "Botox"), workload) == "daisy"  # Daisy waited longest (never)
    workload = Workload(last_assigned={"felix": "2026-03-03T17:00:00Z", "daisy": "2026-03-03T17:05:00Z"})
    assert route(LeadFacts("meta_lead_ad", "Botox"), workload) == "felix"
    # Sam only works Saturdays: never in Tuesday's rotation however long he waited
    assert "sam" not in {route(LeadFacts("web_form"), Workload(last_assigned={m: "2026" for m in ("felix",)})),
                         route(LeadFacts("web_form"), Workload(last_assigned={"daisy": "2026"}))}


def test_fewest_open_leads_then_the_longest_wait() -> None:
    policy = parse_policy({"rules": [{"kind": "fewest_open", "roles": ["front_desk"]}]})
    assert route(LeadFacts("web_form"), Workload(open_leads={"felix": 3, "daisy": 1}), policy=policy) == "daisy"
    tie = Workload(open_leads={"felix": 1, "daisy": 1}, last_assigned={"daisy": "2026-03-03T18:00:00Z",
                                                                       "felix": "2026-03-03T17:00:00Z"})
    assert route(LeadFacts("web_form"), tie, policy=policy) == "felix"


def test_nobody_on_shift_falls_back_and_without_a_fallback_stays_unassigned() -> None:
    sunday = datetime(2026, 3, 8, 11, 0, tzinfo=LA)  # the clinic is closed on Sundays
    result = assign(LeadFacts("web_form"), POLICY, TEAM, Workload(), local_now=sunday, clinic=CLINIC)
    assert (result.staff_id, result.rule) == ("olivia", None) and "fallback" in result.reason
    no_fallback = RoutingPolicy(rules=POLICY.rules)
    result = assign(LeadFacts("web_form"), no_fallback, TEAM, Workload(), local_now=sunday, clinic=CLINIC)
    assert result.staff_id is None and "on shift" in result.reason


def test_rules_are_tried_in_order_and_a_vip_laser_lead_takes_the_first_that_applies() -> None:
    result = assign(LeadFacts("web_form", "laser", vip=True), POLICY, TEAM, Workload(),
                    local_now=TUESDAY_MORNING, clinic=CLINIC)
    assert (result.staff_id, result.rule) == ("nora", 1) and "laser" in result.reason


def test_inactive_staff_are_never_given_leads() -> None:
    staff = [Member("nora", "Nora Kim", "provider", active=False), FELIX, DAISY, OLIVIA]
    assert route(LeadFacts("web_form", "laser"), staff=staff) in {"felix", "daisy"}


def test_no_rules_at_all() -> None:
    result = assign(LeadFacts("web_form"), RoutingPolicy(), TEAM, Workload(), local_now=TUESDAY_MORNING,
                    clinic=CLINIC)
    assert result.staff_id is None and result.reason == "no routing rules are set"


# --- working hours ---------------------------------------------------------------------------


def test_working_hours_typed_as_people_write_them() -> None:
    stored = hours_from_text("Mon-Fri 9:00-17:00; Sat 10-14")
    assert stored["mon"] == [["09:00", "17:00"]] and stored["sat"] == [["10:00", "14:00"]] and "sun" not in stored
    assert hours_to_text(stored) == "Mon-Fri 09:00-17:00; Sat 10:00-14:00"
    split = hours_from_text("Tue 9-13, 14-18")
    assert split == {"tue": [["09:00", "13:00"], ["14:00", "18:00"]]}
    assert hours_from_text("  ") == {}
    assert hours_from_text("Fri-Mon 10:00-16:00").keys() == {"fri", "sat", "sun", "mon"}


@pytest.mark.parametrize(("text", "says"), [
    ("Mon-Fri", "is not like"),
    ("Funday 9-17", "is not a day"),
    ("Mon 17:00-09:00", "must end after it starts"),
    ("Mon 9-13, 12-18", "overlap"),
    ("Mon 9:75-10", "not a time"),
])
def test_bad_working_hours_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(RoutingSettingsError, match=says):
        hours_from_text(text)


@given(st.dictionaries(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
                       st.tuples(st.integers(0, 22), st.integers(1, 2)), min_size=0, max_size=7))
def test_hours_round_trip_through_text(days: dict[str, tuple[int, int]]) -> None:
    stored = {d: [[f"{start:02d}:00", f"{start + length:02d}:00"]] for d, (start, length) in days.items()}
    assert parse_hours(hours_from_text(hours_to_text(stored))) == parse_hours(stored)


def test_next_start_of_the_hours() -> None:
    saturday_evening = datetime(2026, 3, 7, 20, 0, tzinfo=LA)
    assert next_start(CLINIC, saturday_evening) == datetime(2026, 3, 9, 9, 0, tzinfo=LA)  # Monday
    assert next_start(CLINIC, TUESDAY_MORNING) == TUESDAY_MORNING
    assert next_start({}, TUESDAY_MORNING) is None


# --- reply deadlines, claims, escalation ------------------------------------------------------


def test_the_first_reply_is_due_within_five_minutes_of_a_hot_lead() -> None:
    received = TUESDAY_MORNING.astimezone(UTC)
    assert sla_due(received, "web_form", RoutingPolicy(), tz=LA, clinic=CLINIC) == received + timedelta(minutes=5)
    assert sla_due(received, "phone", RoutingPolicy(), tz=LA, clinic=CLINIC) == received + timedelta(minutes=15)
    assert sla_due(received, "manual", RoutingPolicy(), tz=LA, clinic=CLINIC) == received + timedelta(minutes=60)
    assert sla_due(received, "walk_in", RoutingPolicy(), tz=LA, clinic=CLINIC) is None
    custom = parse_policy({"sla_minutes": {"web_form": 2, "phone": None}})
    assert sla_due(received, "web_form", custom, tz=LA, clinic=CLINIC) == received + timedelta(minutes=2)
    assert sla_due(received, "phone", custom, tz=LA, clinic=CLINIC) is None


def test_a_lead_after_hours_is_due_minutes_after_opening_unless_the_clock_always_runs() -> None:
    late = datetime(2026, 3, 3, 22, 15, tzinfo=LA).astimezone(UTC)
    opening = datetime(2026, 3, 4, 9, 5, tzinfo=LA).astimezone(UTC)
    assert sla_due(late, "web_form", RoutingPolicy(), tz=LA, clinic=CLINIC) == opening
    clock = parse_policy({"after_hours": "clock"})
    assert sla_due(late, "web_form", clock, tz=LA, clinic=CLINIC) == late + timedelta(minutes=5)


def test_a_claim_lapses_after_the_clinic_s_minutes() -> None:
    at = TUESDAY_MORNING.astimezone(UTC)
    assert claim_expiry(at, RoutingPolicy()) == at + timedelta(minutes=DEFAULT_CLAIM_MINUTES)
    assert claim_expiry(at, parse_policy({"claim_minutes": 3})) == at + timedelta(minutes=3)


def test_escalation_goes_to_a_manager_on_shift_then_the_owner() -> None:
    assert escalation_target(RoutingPolicy(), TEAM, local_now=TUESDAY_MORNING, clinic=CLINIC) == "marcus"
    away = Member("marcus", "Marcus Mendoza", "manager", hours=parse_hours({"sat": [["10:00", "12:00"]]}))
    team = [away, OLIVIA, FELIX]
    assert escalation_target(RoutingPolicy(), team, local_now=TUESDAY_MORNING, clinic=CLINIC) == "olivia"
    sunday = datetime(2026, 3, 8, 11, 0, tzinfo=LA)
    assert escalation_target(RoutingPolicy(), team, local_now=sunday, clinic=CLINIC) == "marcus"  # nobody on shift
    named = parse_policy({"escalate_to": ["felix"]})
    assert escalation_target(named, team, local_now=TUESDAY_MORNING, clinic=CLINIC) == "felix"
    assert escalation_target(RoutingPolicy(), [FELIX], local_now=TUESDAY_MORNING, clinic=CLINIC) is None


# --- the settings ----------------------------------------------------------------------------


def test_settings_round_trip() -> None:
    assert parse_policy(policy_to_settings(POLICY)) == POLICY


@pytest.mark.parametrize(("raw", "says"), [
    ({"rules": [{"kind": "telepathy", "roles": ["manager"]}]}, "the kind must be one of"),
    ({"rules": [{"kind": "service", "roles": ["front_desk"]}]}, "must list the words"),
    ({"rules": [{"kind": "vip"}]}, "must name its staff or roles"),
    ({"rules": [{"kind": "vip", "roles": ["janitor"]}]}, "is not a role"),
    ({"rules": [{"kind": "round_robin", "roles": ["front_desk"], "pick": "fewest_open"}]}, "always picks"),
    ({"claim_minutes": 0}, "from 1 to"),
    ({"claim_minutes": "ten"}, "whole number"),
    ({"sla_minutes": {"web_form": -5}}, "reply time of web_form"),
    ({"after_hours": "never"}, "next_opening or clock"),
    ({"colour": "blue"}, "does not know: colour"),
])
def test_bad_settings_are_refused_with_a_sentence(raw: dict, says: str) -> None:
    with pytest.raises(RoutingSettingsError, match=says):
        parse_policy(raw)
