"""The lead board's live timers and owner text (pure), the lead and duplicates item models on their
own (Qt's model tester; the timer columns redrawn on a tick without new rows), and how the
timeline reads routing entries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import qInstallMessageHandler
from PySide6.QtTest import QAbstractItemModelTester

from app.services.leads import LeadRow
from app.services.merge_reviews import RecordSide, ReviewCase
from app.ui.lead_timers import claim_text, owner_text, reply_timer, span
from app.ui.models.lead_list_model import LeadListModel
from app.ui.models.merge_review_model import MergeReviewListModel
from app.ui.models.table_model import TONE_ROLE
from app.ui.record.client_record import describe

TZ = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 20, 19, 30, tzinfo=UTC)


def lead(**fields) -> LeadRow:
    base = dict(id="l1", patient_id="p1", first_name="Kate", last_name="Lee", preferred_name=None,
                date_of_birth=date(1990, 6, 1), phone="+14155550123", source="web_form", status="new",
                service_interest="Botox", message=None, utm_campaign=None, owner_id="felix", owner="Felix Park",
                received_at=NOW - timedelta(minutes=2), first_reply_at=None, sla_due_at=NOW + timedelta(minutes=3))
    base.update(fields)
    return LeadRow(**base)


def test_spans_read_like_a_timer():
    assert (span(0), span(65), span(3599)) == ("0:00", "1:05", "59:59")
    assert (span(3600 + 5 * 60), span(2 * 86400 + 3 * 3600)) == ("1 h 05 m", "2 d 3 h")


def test_the_reply_timer_runs_turns_amber_then_overdue_then_escalated():
    assert reply_timer(lead(), NOW).text == "3:00 left" and reply_timer(lead(), NOW).tone == "ok"
    assert reply_timer(lead(), NOW + timedelta(minutes=2, seconds=30)).tone == "warn"
    late = reply_timer(lead(), NOW + timedelta(minutes=4))
    assert (late.text, late.tone) == ("Overdue 1:00", "danger")
    escalated = lead(escalated_at=NOW + timedelta(minutes=3), escalated_to_name="Marcus Mendoza")
    timer = reply_timer(escalated, NOW + timedelta(minutes=10))
    assert timer.text == "Escalated \u00b7 7:00" and "Marcus Mendoza" in timer.tip and "7:00 overdue" in timer.tip


def test_the_reply_timer_stops_when_answered_worked_or_closed():
    answered = reply_timer(lead(first_reply_at=NOW - timedelta(minutes=1)), NOW)
    assert (answered.text, answered.tone) == ("Answered", "ok") and "1:00" in answered.tip
    assert reply_timer(lead(status="contacted"), NOW).text == "Contacted"
    assert reply_timer(lead(status="lost"), NOW).text == "\u2014"
    assert reply_timer(lead(sla_due_at=None), NOW).text == "No timer"


def test_who_holds_a_claim_and_for_how_long():
    claimed = lead(claimed_by="daisy", claimed_by_name="Daisy Alvarez", claim_expires_at=NOW + timedelta(minutes=9))
    assert owner_text(claimed, NOW, "felix") == "Daisy \u00b7 claim 9:00"
    assert owner_text(claimed, NOW, "daisy") == "You \u00b7 claim 9:00"
    assert claim_text(claimed, NOW, "daisy") == "Claimed by you \u00b7 9:00"
    assert owner_text(claimed, NOW + timedelta(minutes=9), "felix") == "Daisy \u00b7 claim lapsing"
    kept = lead(claimed_by="felix", claimed_by_name="Felix Park", claim_expires_at=None)
    assert owner_text(kept, NOW, None) == "Felix Park" and claim_text(kept, NOW, None) == "Claimed by Felix Park (in contact)"
    assert owner_text(lead(owner=""), NOW, None) == "Unassigned" and claim_text(lead(), NOW, None) == ""


@pytest.fixture
def failures(qapp):
    found: list[str] = []

    def handler(_mode, context, message):
        if (context.category or "").startswith("qt.modeltest") or "FAIL!" in message:
            found.append(message)

    previous = qInstallMessageHandler(handler)
    yield found
    qInstallMessageHandler(previous)


def test_a_tick_redraws_only_the_timer_columns_from_the_rows_held(failures):
    model = LeadListModel(tz=TZ, me="felix")
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    model.set_leads([lead(), lead(id="l2", claimed_by="felix", claimed_by_name="Felix Park",
                                  claim_expires_at=NOW + timedelta(minutes=10))], now=NOW, today=date(2026, 11, 20))
    assert model.index(0, model.REPLY).data() == "3:00 left" and model.index(0, model.REPLY).data(TONE_ROLE) == "ok"
    assert model.index(1, model.OWNER).data() == "You \u00b7 claim 10:00"
    changed: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(lambda a, b, _r=None: changed.append((a.row(), a.column(), b.row(), b.column())))
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.tick(NOW + timedelta(seconds=1))
    assert model.index(0, model.REPLY).data() == "2:59 left"
    assert model.index(1, model.OWNER).data() == "You \u00b7 claim 9:59"
    assert sorted(changed) == [(0, c, 1, c) for c in sorted(LeadListModel.LIVE)] and resets == []
    model.tick(NOW + timedelta(minutes=4))
    assert model.index(0, model.REPLY).data() == "Overdue 1:00" and model.index(0, model.REPLY).data(TONE_ROLE) == "danger"
    assert failures == []


def test_the_duplicates_list_model(failures):
    model = MergeReviewListModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    left = RecordSide("a", {"first_name": "Jane", "last_name": "Doe"}, 3, 1)
    right = RecordSide("b", {"first_name": "Jane", "last_name": "Doe", "preferred_name": "JD"}, 0, 1)
    case = ReviewCase("r1", "Same name, another mobile number", NOW - timedelta(hours=3), left, right, ["phone"])
    model.set_cases([case], now=NOW)
    assert [model.index(0, c).data() for c in range(4)] == ["Jane Doe", "Same name, another mobile number", "4 / 1",
                                                             "3 h ago"]
    assert case.suggested_survivor == "a" and right.name == "JD Doe"
    assert failures == []


def test_routing_entries_read_in_the_desks_words():
    today = date(2026, 11, 20)
    assigned = describe("lead.assigned", {"owner": "Felix Park", "reason": "rule 3 (round robin)",
                                          "sla_due_at": "2026-11-20T19:35:00Z"}, TZ, today)
    assert assigned == ("Lead assigned to Felix Park", "rule 3 (round robin) \u00b7 reply due Today \u00b7 11:35 AM", "info")
    assert describe("lead.claimed", {"by": "Daisy Alvarez", "minutes": 10}, TZ, today)[:2] == (
        "Daisy Alvarez claimed the lead", "for 10 minutes unless they make contact")
    assert describe("lead.claim_lapsed", {"minutes": 10}, TZ, today)[0] == "Claim lapsed"
    assert describe("lead.claim_kept", {"contact": "lead.contacted"}, TZ, today)[1] == "after a call"
    assert describe("lead.escalated", {"escalated_to_name": "Marcus Mendoza"}, TZ, today)[0] == (
        "Missed reply time: escalated to Marcus Mendoza")
    assert describe("patient.merged", {"merged_name": "Jane Doe"}, TZ, today)[0] == "Merged with Jane Doe's record"
