"""Lead routing on the server: assignment at intake, claim-and-expire, reply deadlines that
escalate, the sweep; on SQLite and PostgreSQL, with a frozen clock moved by the test."""

from __future__ import annotations

from datetime import timedelta

from sync_server.leads import routing
from sync_server.sync.service import iso

from .routing_world import T0, Spa, spa  # noqa: F401 - fixture


def test_a_new_lead_is_assigned_by_the_rules_with_a_reply_deadline(spa: Spa) -> None:  # noqa: F811
    laser = spa.arrive(first="Lena", last="Park", phone="+14155550101", interest="Laser hair removal")
    lead = spa.lead(laser.lead_id)
    assert lead["owner_id"] == spa.staff["Elena"] and laser.owner_id == spa.staff["Elena"]
    assert lead["sla_due_at"] == iso(T0 + timedelta(minutes=5))
    [assigned] = [e for e in spa.entries(lead_id=laser.lead_id) if e["type"] == "lead.assigned"]
    assert assigned["payload"]["owner"] == "Elena Rossi" and "laser" in assigned["payload"]["reason"]
    assert spa.types(laser.lead_id) == ["lead.received", "lead.assigned"]


def test_round_robin_among_the_front_desk_on_shift(spa: Spa) -> None:  # noqa: F811
    owners = []
    for i in range(4):
        result = spa.arrive(first=f"Guest{i}", last="Smith", phone=f"+1415555011{i}", interest="Botox")
        owners.append(result.owner_id)
        spa.clock.advance(timedelta(minutes=1))
    assert set(owners[:2]) == {spa.staff["Felix"], spa.staff["Daisy"]}
    assert owners[2:] == owners[:2]  # turn by turn

    # Daisy is not working on Tuesdays: Felix takes every lead now
    spa.hours("Daisy Alvarez", "Wed-Sat 9:00-18:00")
    assert {spa.arrive(first=f"Late{i}", last="Jones", phone=f"+1415555012{i}").owner_id for i in range(2)} == {
        spa.staff["Felix"]}


def test_a_vip_goes_to_the_senior_and_nobody_on_shift_goes_to_the_fallback(spa: Spa) -> None:  # noqa: F811
    first = spa.arrive(first="Vera", last="Ip", phone="+14155550150")
    with spa.transaction() as writes:
        writes.update("patient", first.patient_id, {"vip": True})
    again = spa.arrive(first="Vera", last="Ip", phone="+14155550150", external_id="second-inquiry")
    assert again.patient_id == first.patient_id and again.owner_id == spa.staff["Marcus"]

    sunday = T0 + timedelta(days=5)  # the clinic is closed; nobody's rota covers it
    spa.clock.set(sunday)
    closed = spa.arrive(first="Sunny", last="Day", phone="+14155550151")
    assert closed.owner_id == spa.staff["Marcus"]
    [assigned] = [e for e in spa.entries(lead_id=closed.lead_id) if e["type"] == "lead.assigned"]
    assert assigned["payload"]["reason"].startswith("fallback")
    # the timer starts when the clinic opens on Monday at 9:00, 16:00 UTC (daylight saving time began on Sunday)
    assert spa.lead(closed.lead_id)["sla_due_at"] == iso(sunday.replace(day=9, hour=16, minute=5, second=0))


def test_a_claim_is_the_servers_decision(spa: Spa) -> None:  # noqa: F811
    lead_id = spa.arrive().lead_id
    answer = spa.claim(lead_id, "Felix")
    assert answer.status_code == 200, answer.text
    [change] = answer.json()["changes"]
    assert change["data"]["claimed_by"] == spa.staff["Felix"]
    assert change["data"]["claim_expires_at"] == iso(T0 + timedelta(minutes=10))
    assert spa.claim(lead_id, "Felix").status_code == 200  # claiming your own claim again changes nothing
    spa.clock.advance(timedelta(minutes=2))
    taken = spa.claim(lead_id, "Daisy")
    assert taken.status_code == 409 and taken.json()["code"] == "lead_claimed"
    assert taken.json()["detail"] == ("Felix Park claimed this lead 2 minutes ago and is working it; it lapses at "
                                      "10:40 AM without contact.")
    refused = spa.release(lead_id, "Daisy")
    assert refused.status_code == 403 and "only they or a manager" in refused.json()["detail"]
    assert spa.lead(lead_id)["claimed_by"] == spa.staff["Felix"]
    assert spa.release(lead_id, "Marcus").status_code == 200  # a manager may release anyone's claim
    assert spa.lead(lead_id)["claimed_by"] is None
    assert spa.claim(lead_id, "Daisy").status_code == 200
    assert spa.release(lead_id, "Daisy").status_code == 200
    kinds = [e["type"] for e in spa.entries(lead_id=lead_id) if e["type"].startswith("lead.")]
    assert kinds == ["lead.received", "lead.assigned", "lead.claimed", "lead.released", "lead.claimed",
                     "lead.released"]
    assert spa.claim(lead_id, "Pat").status_code == 403  # providers may not work leads


def test_a_closed_lead_cannot_be_claimed(spa: Spa) -> None:  # noqa: F811
    lead_id = spa.arrive().lead_id
    with spa.transaction() as writes:
        writes.update("lead", lead_id, {"status": "lost"})
    refused = spa.claim(lead_id, "Felix")
    assert refused.status_code == 409 and refused.json()["detail"] == "This lead is lost, so there is nothing to claim."
    assert spa.claim("0194c0de-0000-7000-8000-000000000000", "Felix").status_code == 404


def test_a_claim_lapses_after_the_clinics_minutes_without_contact(spa: Spa) -> None:  # noqa: F811
    spa.routing(claim_minutes=7)
    lead_id = spa.arrive().lead_id
    assert spa.claim(lead_id, "Felix").json()["changes"][0]["data"]["claim_expires_at"] == iso(
        T0 + timedelta(minutes=7))
    spa.later(minutes=4)
    assert spa.lead(lead_id)["claimed_by"] == spa.staff["Felix"]  # not yet
    spa.later(minutes=3)
    lead = spa.lead(lead_id)
    assert (lead["claimed_by"], lead["claimed_at"], lead["claim_expires_at"]) == (None, None, None)
    [lapsed] = [e for e in spa.entries(lead_id=lead_id) if e["type"] == "lead.claim_lapsed"]
    assert lapsed["payload"]["claimed_by"] == spa.staff["Felix"] and lapsed["payload"]["minutes"] == 7
    assert spa.claim(lead_id, "Daisy").status_code == 200  # free for someone else


def test_a_logged_call_keeps_the_claim_and_counts_as_the_first_reply(spa: Spa) -> None:  # noqa: F811
    result = spa.arrive()
    assert spa.claim(result.lead_id, "Felix").status_code == 200
    spa.clock.advance(timedelta(minutes=3))
    desk = spa.desk("Felix")
    [pushed] = desk.push(desk.m("activity", "append", patient_id=result.patient_id, lead_id=result.lead_id,
                                type="lead.contacted", actor_id=spa.staff["Felix"], occurred_at=iso(spa.clock.now()),
                                payload={"channel": "call"}))
    assert pushed["status"] == "applied"
    spa.later(minutes=8)  # past both the reply deadline and the claim's expiry
    lead = spa.lead(result.lead_id)
    assert lead["claimed_by"] == spa.staff["Felix"] and lead["claim_expires_at"] is None
    assert lead["owner_id"] == spa.staff["Felix"]  # whoever made contact owns the lead
    assert lead["first_reply_at"] == iso(T0 + timedelta(minutes=3)) and lead["escalated_at"] is None
    assert "lead.claim_kept" in spa.types(result.lead_id) and "lead.escalated" not in spa.types(result.lead_id)


def test_someone_elses_call_does_not_keep_a_claim(spa: Spa) -> None:  # noqa: F811
    result = spa.arrive()
    spa.claim(result.lead_id, "Felix")
    desk = spa.desk("Daisy")
    desk.push(desk.m("activity", "append", patient_id=result.patient_id, lead_id=result.lead_id, type="lead.contacted",
                     actor_id=spa.staff["Daisy"], occurred_at=iso(T0 + timedelta(minutes=1)), payload={}))
    spa.later(minutes=10)
    assert spa.lead(result.lead_id)["claimed_by"] is None


def test_a_missed_reply_is_escalated_to_the_manager_on_shift(spa: Spa) -> None:  # noqa: F811
    lead_id = spa.arrive().lead_id
    spa.later(minutes=4, seconds=59)
    assert spa.lead(lead_id)["escalated_at"] is None
    spa.later(seconds=1)
    lead = spa.lead(lead_id)
    assert lead["escalated_at"] == iso(T0 + timedelta(minutes=5)) and lead["escalated_to"] == spa.staff["Marcus"]
    [entry] = [e for e in spa.entries(lead_id=lead_id) if e["type"] == "lead.escalated"]
    assert entry["payload"]["escalated_to_name"] == "Marcus Mendoza" and entry["payload"]["minutes_late"] == 0
    spa.later(minutes=30)
    assert spa.types(lead_id).count("lead.escalated") == 1  # once


def test_escalation_follows_the_clinics_settings(spa: Spa) -> None:  # noqa: F811
    spa.routing(escalate_to=["Olivia Owens"], sla_minutes={"web_form": 2, "phone": None})
    web = spa.arrive().lead_id
    call = spa.arrive(first="Cal", last="Lee", phone="+14155550177", source="phone").lead_id
    spa.later(minutes=2)
    assert spa.lead(web)["escalated_to"] == spa.staff["Olivia"]
    assert spa.lead(call)["sla_due_at"] is None
    spa.later(hours=3)
    assert spa.lead(call)["escalated_at"] is None


def test_a_lead_answered_or_closed_in_time_is_not_escalated(spa: Spa) -> None:  # noqa: F811
    answered, closed = spa.arrive().lead_id, spa.arrive(first="Bo", last="Ng", phone="+14155550188").lead_id
    spa.clock.advance(timedelta(minutes=2))
    with spa.transaction() as writes:
        writes.update("lead", answered, {"first_reply_at": iso(spa.clock.now())})  # messaging's first reply
        writes.update("lead", closed, {"status": "lost"})
    spa.later(minutes=10)
    assert spa.lead(answered)["escalated_at"] is None and spa.lead(closed)["escalated_at"] is None


def test_the_sweep_routes_a_lead_typed_in_at_a_desktop_and_catches_missed_timers(spa: Spa) -> None:  # noqa: F811
    desk = spa.desk("Daisy")
    patient = desk.m("patient", "insert", first_name="Walk", last_name="Up", phone="+14155550199")
    lead = desk.m("lead", "insert", patient_id=patient["entity_id"], source="manual", received_at=iso(T0))
    assert [r["status"] for r in desk.push(patient, lead)] == ["applied", "applied"]
    assert spa.lead(lead["entity_id"])["sla_due_at"] is None
    with spa.transaction() as writes:
        routing.start_sweep(writes.session, clinic_id=spa.clinic.id, now=spa.clock.now())
    spa.later(seconds=1)
    routed = spa.lead(lead["entity_id"])
    assert routed["owner_id"] in {spa.staff["Felix"], spa.staff["Daisy"]}
    assert routed["sla_due_at"] == iso(T0 + timedelta(minutes=60))  # manual leads: within the hour
    assert spa.later(minutes=61) >= 1
    assert spa.lead(lead["entity_id"])["escalated_to"] == spa.staff["Marcus"]


def test_workstations_cannot_set_routing_facts(spa: Spa) -> None:  # noqa: F811
    lead_id = spa.arrive().lead_id
    desk = spa.desk("Felix")
    version = spa.row("lead", lead_id).version
    [result] = desk.push(desk.m("lead", "update", lead_id, base_version=version, sla_due_at=None,
                                escalated_to=spa.staff["Felix"], claimed_by=spa.staff["Felix"]))
    assert result["status"] == "rejected" and set(result["rejected_fields"]) == {"sla_due_at", "escalated_to",
                                                                                "claimed_by"}
    assert spa.lead(lead_id)["sla_due_at"] is not None

