"""The sync state in words (describe), the review list's item model on its own, and what a demo
clinic with no server shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt, qInstallMessageHandler
from PySide6.QtTest import QAbstractItemModelTester

from app.services.sync_review import ReviewItem
from app.sync import SyncState
from app.ui.actions import ActionId
from app.ui.models.sync_review_model import SyncReviewModel
from app.ui.models.table_model import ID_ROLE, TONE_ROLE
from app.ui.sync_controller import SyncedChanges, subjects_for
from app.ui.sync_indicator import describe

TZ = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 20, 19, 30, tzinfo=UTC)  # 11:30 AM in Los Angeles
ONLINE = SyncState(enrolled=True, server_url="https://glow.example", online=True, last_sync_at=NOW - timedelta(minutes=3),
                   live_connected=True)


# --- describe ---------------------------------------------------------------------------------


def test_online_says_when_it_last_synced_and_what_waits() -> None:
    assert describe(ONLINE, now=NOW, tz=TZ).text == "Online \u00b7 synced 3 min ago"
    assert describe(ONLINE.with_(last_sync_at=NOW), now=NOW, tz=TZ).text == "Online \u00b7 synced just now"
    waiting = describe(ONLINE.with_(pending_changes=2), now=NOW, tz=TZ)
    assert waiting.text == "Online \u00b7 2 changes waiting" and waiting.banner is None and waiting.tone == "ok"
    assert "Last sync: 11:27 AM" in describe(ONLINE, now=NOW, tz=TZ).tip


def test_offline_shows_since_when_and_a_banner_with_the_pending_count() -> None:
    down = ONLINE.with_(online=False, offline_since=NOW - timedelta(minutes=20), pending_changes=1)
    view = describe(down, now=NOW, tz=TZ)
    assert view.text == "Offline since 11:10 AM \u00b7 1 change waiting"
    assert view.banner == ("The clinic server can't be reached (offline since 11:10 AM). Keep working: 1 change "
                           "is saved on this workstation and will be sent when the connection is back.")
    assert view.tone == "warn" and view.can_sync_now
    yesterday = describe(down.with_(offline_since=NOW - timedelta(days=1), pending_changes=3), now=NOW, tz=TZ)
    assert yesterday.text == "Offline since Yesterday, 11:30 AM \u00b7 3 changes waiting"
    assert "3 changes are saved" in (yesterday.banner or "")


def test_stopped_says_why_and_offers_no_sync_now() -> None:
    view = describe(ONLINE.with_(stopped_reason="This workstation's access was revoked.", pending_changes=2),
                    now=NOW, tz=TZ)
    assert view.text == "Sync stopped" and view.tone == "danger" and not view.can_sync_now
    assert view.banner == ("Syncing has stopped. This workstation's access was revoked. 2 changes made here are "
                           "kept on this workstation.")


def test_a_demo_clinic_is_simply_not_connected() -> None:
    view = describe(SyncState(enrolled=False), now=NOW, tz=TZ, demo=True)
    assert view.text == "Demo clinic \u00b7 not connected to a clinic server"
    assert view.banner is None and not view.can_sync_now
    assert describe(ONLINE.with_(conflicts_to_review=1, rejected_changes=2), now=NOW, tz=TZ).review == 3


def test_synced_entities_become_the_screens_subjects() -> None:
    assert subjects_for({"patient", "appointment"}) == {"patient", "appointment"}
    assert subjects_for({"room"}) == {"settings"}
    assert subjects_for({"staff"}) == {"staff", "settings"}
    assert subjects_for({"message"}) == {"message"}  # an entity the desk has no subject for yet
    changes = SyncedChanges({"patient"}, ["p1"])
    assert changes == {"patient"} and changes.patient_ids == frozenset({"p1"})


# --- the review model -------------------------------------------------------------------------


@pytest.fixture
def failures(qapp):
    found: list[str] = []

    def handler(_mode, context, message):
        if (context.category or "").startswith("qt.modeltest") or "FAIL!" in message:
            found.append(message)

    previous = qInstallMessageHandler(handler)
    yield found
    qInstallMessageHandler(previous)


def item(kind: str, key: str, **kw: object) -> ReviewItem:
    base: dict[str, object] = dict(key=key, kind=kind, record="Client \u00b7 Ada Lovelace", subject="Phone",
                                   kept="(415) 555-0102", lost="(415) 555-0101",
                                   summary="Changed on two workstations at once", sentence="The whole story.",
                                   when=NOW, patient_id="p1")
    base.update(kw)
    return ReviewItem(**base)  # type: ignore[arg-type]


def test_the_review_model_passes_the_model_tester_and_says_what_each_cell_shows(failures) -> None:
    model = SyncReviewModel(tz=TZ)
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    model.set_items([item("conflict", "conflict:a"),
                     item("refused", "refused:b", subject="New appointment", kept="Not saved",
                          summary="Nora Kim is already booked 2:00\u20132:45 PM.", when=None)],
                    today=NOW.astimezone(TZ).date())
    assert model.rowCount() == 2 and model.columnCount() == 7
    cells = [model.index(0, c).data() for c in range(7)]
    assert cells == ["Conflict", "Client \u00b7 Ada Lovelace", "Phone", "(415) 555-0102", "(415) 555-0101",
                     "Changed on two workstations at once", "Today \u00b7 11:30 AM"]
    assert model.index(0, SyncReviewModel.KIND).data(TONE_ROLE) == "warn"
    assert model.index(1, SyncReviewModel.KIND).data(TONE_ROLE) == "danger"
    assert model.index(1, SyncReviewModel.KIND).data() == "Refused"
    assert model.index(1, SyncReviewModel.WHAT).data(Qt.ItemDataRole.ToolTipRole) == "The whole story."
    assert model.index(1, SyncReviewModel.WHEN).data() == ""
    assert model.index(1, 0).data(ID_ROLE) == "refused:b" and model.row_of("conflict:a") == 0
    assert model.item(1) is not None and model.item(5) is None
    assert model.headerData(SyncReviewModel.LOST, Qt.Orientation.Horizontal) == "Not kept"
    assert failures == []


# --- a demo clinic in the window --------------------------------------------------------------


def test_the_demo_window_says_not_connected_and_has_nothing_to_sync(window, qtbot) -> None:
    chrome = window.sync_chrome
    qtbot.waitUntil(lambda: window.sync.loaded)
    assert chrome.indicator.text == "Demo clinic \u00b7 not connected to a clinic server"
    assert not chrome.banner.isVisible() and not chrome.indicator.review_button.isVisible()
    assert not window.action_registry[ActionId.SYNC_NOW].isEnabled()
    assert window.sync.runner is None
    qtbot.mouseClick(chrome.indicator.state_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.sync_review is not None and window.sync_review.items is not None)
    dialog = window.sync_review
    assert dialog is not None
    assert "Nothing to review" in dialog.visible_text()
    assert "not connected" in dialog.state_line.text() and not dialog.sync_button.isEnabled()
    dialog.accept()
