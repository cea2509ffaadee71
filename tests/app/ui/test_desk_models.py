"""The desk's item models on their own (Qt's model tester plus what each cell says), and the
formatting of the client record's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QModelIndex, Qt, qInstallMessageHandler
from PySide6.QtTest import QAbstractItemModelTester

from app.services.leads import LeadRow
from app.ui.formatting import display_ago, display_money, display_when
from app.ui.models.lead_list_model import UNKNOWN_PERSON, LeadListModel
from app.ui.models.table_model import ID_ROLE, ROW_ROLE, TONE_ROLE, Col, RowTableModel
from app.ui.models.timeline_model import DETAIL_ROLE, WHEN_ROLE, TimelineModel
from app.ui.models.timeline_model import TONE_ROLE as TIMELINE_TONE
from app.ui.record.client_record import TimelineItem, describe

TZ = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 20, 19, 30, tzinfo=UTC)


@pytest.fixture
def failures(qapp):
    found: list[str] = []

    def handler(_mode, context, message):
        if (context.category or "").startswith("qt.modeltest") or "FAIL!" in message:
            found.append(message)

    previous = qInstallMessageHandler(handler)
    yield found
    qInstallMessageHandler(previous)


@dataclass(frozen=True)
class Thing:
    id: str
    name: str
    state: str


def test_row_table_model_passes_the_model_tester_and_says_what_each_cell_shows(failures):
    model = RowTableModel((Col("Name", lambda t: t.name, None, bold=True),
                           Col("State", lambda t: t.state.capitalize(), 90, tone=lambda t: "ok")))
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    model.set_rows([Thing("a", "Laser Suite", "active"), Thing("b", "Room 2", "inactive")])
    assert failures == []
    assert model.rowCount() == 2 and model.columnCount() == 2
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Name"
    assert model.index(1, 1).data() == "Inactive" and model.index(1, 1).data(TONE_ROLE) == "ok"
    assert model.index(0, 0).data(TONE_ROLE) is None
    assert model.index(0, 0).data(Qt.ItemDataRole.FontRole).weight() > 400
    assert model.index(1, 0).data(ID_ROLE) == "b" and model.index(1, 0).data(ROW_ROLE).name == "Room 2"
    assert model.row_of("b") == 1 and model.row_of("zz") == -1 and model.id_at(5) is None
    assert model.rowCount(model.index(0, 0)) == 0  # a table: no children
    assert model.index(5, 0).data() is None and model.data(QModelIndex()) is None
    model.set_rows([])
    assert model.rowCount() == 0 and failures == []


def lead(**fields) -> LeadRow:
    base = dict(id="l1", patient_id="p1", first_name="Kate", last_name="Lee", preferred_name=None,
                date_of_birth=date(1990, 6, 1), phone="+14155550123", source="meta_lead_ad", status="new",
                service_interest="Botox Cosmetic", message="Hi", utm_campaign="spring", owner_id="s1",
                owner="Felix Park", received_at=NOW - timedelta(minutes=12), first_reply_at=None)
    base.update(fields)
    return LeadRow(**base)


def test_lead_list_model_shows_source_age_status_owner_and_time_since_arrival(failures):
    model = LeadListModel(tz=TZ)
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    rows = [lead(), lead(id="l2", patient_id=None, first_name=None, last_name=None, date_of_birth=None,
                         source="instagram_dm", status="contacted", owner_id=None, owner="",
                         received_at=NOW - timedelta(days=3))]
    model.set_leads(rows, now=NOW, today=date(2026, 11, 20))
    assert failures == []
    cell = lambda r, c: model.index(r, c).data()  # noqa: E731
    assert cell(0, model.NAME) == "Kate Lee" and cell(1, model.NAME) == UNKNOWN_PERSON
    assert cell(0, model.AGE) == "36" and cell(1, model.AGE) == "\u2014"
    assert cell(0, model.SOURCE) == "Meta lead ad" and cell(1, model.SOURCE) == "Instagram DM"
    assert cell(0, model.STATUS) == "New" and model.index(0, model.STATUS).data(TONE_ROLE) == "accent"
    assert cell(1, model.STATUS) == "Contacted"
    assert cell(0, model.OWNER) == "Felix Park" and cell(1, model.OWNER) == "Unassigned"
    assert cell(0, model.WAITING) == "12 min ago" and cell(1, model.WAITING) == "3 d ago"
    assert "Arrived" in model.index(0, model.WAITING).data(Qt.ItemDataRole.ToolTipRole)


def item(n: int, kind: str = "appointments") -> TimelineItem:
    at = NOW - timedelta(days=n)
    return TimelineItem(f"a{n}", kind, f"Entry {n}", f"detail {n}", display_when(at, TZ, date(2026, 11, 20)),
                        "Priya Raman", "ok", at)


def test_timeline_model_lists_entries_and_pages_back_without_repeats(failures):
    model = TimelineModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    model.set_items([item(0), item(1)])
    model.append_items([item(1), item(2)])  # "Show older": the overlap is not shown twice
    assert failures == []
    assert [model.index(r).data() for r in range(model.rowCount())] == ["Entry 0", "Entry 1", "Entry 2"]
    assert model.index(0).data(DETAIL_ROLE) == "detail 0" and model.index(0).data(TIMELINE_TONE) == "ok"
    assert model.index(0).data(WHEN_ROLE).startswith("Today")
    assert "Priya Raman" in model.index(0).data(Qt.ItemDataRole.AccessibleTextRole)


def test_timeline_entries_read_in_the_desks_words():
    today = date(2026, 11, 20)
    booked = describe("appointment.booked", {"service": "Botox Cosmetic", "provider": "Nora Kim",
                                             "start_at": "2026-11-24T02:00:00Z", "channel": "online"}, TZ, today)
    assert booked == ("Booked Botox Cosmetic", "for Nov 23 \u00b7 6:00 PM with Nora Kim \u00b7 online", "accent")
    assert describe("appointment.no_show", {"service": "HydraFacial"}, TZ, today)[0] == "No-show: HydraFacial"
    assert describe("lead.received", {"source": "google_ads", "service_interest": "IPL"}, TZ, today)[:2] == (
        "New lead from Google Ads", "interested in IPL")
    assert describe("note", {"text": "Prefers mornings"}, TZ, today)[:2] == ("Note", "Prefers mornings")
    assert describe("something.new", {}, TZ, today)[0] == "Something new"


def test_small_formatters():
    assert display_ago(NOW - timedelta(seconds=20), NOW) == "just now"
    assert display_ago(NOW - timedelta(hours=5), NOW) == "5 h"
    assert display_ago(NOW - timedelta(days=40), NOW) == "5 wk"
    assert display_money(399000, "USD", cents=False) == "$3,990"
    assert display_money(1250, "USD", cents=False) == "$12.50"
    assert display_when(NOW, TZ, date(2026, 11, 20)) == "Today \u00b7 11:30 AM"
    assert display_when(NOW, TZ, date(2027, 2, 1)) == "Nov 20, 2026 \u00b7 11:30 AM"


def test_every_lead_source_the_server_opens_can_be_filtered_and_reads_as_words():
    """A lead from a text (the server opens one for an unknown number) is filterable and labelled."""
    from app.repositories.leads import SOURCES
    from app.ui.formatting import source_label
    from core.routing import DEFAULT_SLA_MINUTES

    assert set(DEFAULT_SLA_MINUTES) <= set(SOURCES)
    for source in SOURCES:
        assert source_label(source) != source and "_" not in source_label(source)
    assert source_label("sms") == "Text message"
