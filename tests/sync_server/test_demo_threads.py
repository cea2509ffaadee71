"""The demo clinic's text threads: believable, in order, consistent with the clinic, and a few of
them unread, so a fresh demo shows the Messages tab and the unread counts at work."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from core.ids import new_id
from core.templates import STARTER_TEMPLATES, check_template
from sync_server import tenancy
from sync_server.db import Database
from sync_server.demo import generator
from sync_server.demo import service as demo
from sync_server.messaging.models import Message

NOW = datetime(2026, 3, 5, 22, 0, tzinfo=UTC)  # a Thursday, 2 PM in San Francisco


def clinic() -> generator.DemoClinic:
    return generator.generate(patients=600, seed=42, now=NOW, clinic_id=new_id())


def test_threads_are_in_the_past_in_order_and_about_known_clients() -> None:
    made = clinic()
    messages = made.rows["message"]
    patients = {p["id"]: p for p in made.rows["patient"]}
    assert len(messages) > 100
    assert [m["occurred_at"] for m in messages] == sorted(m["occurred_at"] for m in messages)
    assert all(datetime.fromisoformat(m["occurred_at"]) < NOW for m in messages)
    assert all(m["patient_id"] in patients for m in messages)
    kinds = Counter((m["direction"], m["channel"]) for m in messages)
    assert kinds[("inbound", "sms")] and kinds[("inbound", "instagram")] and kinds[("outbound", "sms")]
    assert not kinds[("outbound", "instagram")]  # the desk cannot reply by DM from Glowdesk
    staff = {s["id"] for s in made.rows["staff"]}
    for m in messages:
        if m["direction"] == "outbound" and m["kind"] == "manual":
            assert m["author_id"] in staff
        if m["direction"] == "inbound":
            assert m["author_id"] is None and m["status"] == "received"
        if m["channel"] == "sms":
            assert patients[m["patient_id"]]["phone"]


def test_failures_and_refusals_carry_their_reason() -> None:
    messages = clinic().rows["message"]
    refused = [m for m in messages if m["status"] == "refused"]
    assert refused and all(m["status_reason"] and "not agreed" in m["status_reason"] for m in refused)
    assert {m["purpose"] for m in refused} == {"transactional", "marketing"}
    [undelivered] = [m for m in messages if m["status"] == "undelivered"]
    assert undelivered["error_code"] == "30003" and "could not be reached" in undelivered["status_reason"]
    assert all(m["delivered_at"] for m in messages if m["status"] == "delivered")


def test_templates_are_the_starter_set_and_messages_name_theirs() -> None:
    made = clinic()
    templates = {t["id"]: t for t in made.rows["message_template"]}
    assert [t["name"] for t in templates.values()] == [t.name for t in STARTER_TEMPLATES]
    for t in templates.values():
        check_template(t["body"])
    used = [m for m in made.rows["message"] if m["template_id"]]
    assert used and all(m["template_id"] in templates for m in used)
    assert all("{{" not in m["body"] for m in made.rows["message"])  # rendered, not raw


def test_all_but_the_newest_client_messages_have_been_read() -> None:
    made = clinic()
    newest: dict[str, str] = {}
    for m in made.rows["message"]:
        if m["direction"] == "inbound":
            newest[m["patient_id"]] = max(newest.get(m["patient_id"], ""), m["occurred_at"])
    read_up_to: dict[str, str] = {}
    for r in made.rows["message_read"]:
        read_up_to[r["patient_id"]] = max(read_up_to.get(r["patient_id"], ""), r["up_to"])
    unread = [pid for pid, at in newest.items() if read_up_to.get(pid, "") < at]
    assert len(unread) == 6
    latest_six = sorted(newest, key=newest.__getitem__, reverse=True)[:6]
    assert sorted(unread) == sorted(latest_six)


def test_threads_are_deterministic_for_a_seed() -> None:
    a, b = clinic(), clinic()
    assert [(m["occurred_at"], m["body"]) for m in a.rows["message"]] == [
        (m["occurred_at"], m["body"]) for m in b.rows["message"]]


def test_the_seed_writes_the_messaging_record_of_each_message(db: Database) -> None:
    with db.transaction() as session:
        summary = demo.seed_demo(session, patients=120, now=NOW)
    with db.transaction(write=False, app_role=True) as session:
        tenancy.enter_clinic(session, summary.clinic_id)
        stored = session.execute(select(Message).where(Message.clinic_id == summary.clinic_id)).scalars().all()
        assert len(stored) == summary.counts["message"] > 0
        inbound = [m for m in stored if m.direction == "inbound" and m.channel == "sms"]
        assert inbound and all(m.from_addr and m.to_addr == "+14155550100" for m in inbound)
