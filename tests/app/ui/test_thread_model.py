"""The thread's item model on its own: day headers, who/when/channel, and every delivery state in
the desk's words (a refusal and a failure with their reasons, waiting offline, quiet hours)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt

from app.services.messaging import Attachment, ThreadMessage
from app.ui.models.thread_model import (
    CHANNEL_ROLE,
    INBOUND_ROLE,
    KIND_ROLE,
    MEDIA_ROLE,
    MESSAGE_ID_ROLE,
    META_ROLE,
    STATE_ROLE,
    TONE_ROLE,
    WAITING_OFFLINE,
    ThreadModel,
    delivery_state,
    media_line,
    newest_inbound,
)

LA = ZoneInfo("America/Los_Angeles")
TODAY = date(2026, 3, 5)


def msg(mid: str, when: datetime, *, inbound: bool = False, **over: object) -> ThreadMessage:
    base = ThreadMessage(
        id=mid, direction="inbound" if inbound else "outbound", channel="sms", body=f"body {mid}", occurred_at=when,
        author="Ana Lima" if inbound else "Felix Park", purpose=None if inbound else "transactional",
        kind="inbound" if inbound else "manual", status="received" if inbound else "delivered", status_reason=None,
        error_code=None, pending=False, send_after=None, sent_at=None, delivered_at=None, template=None)
    return replace(base, **over)  # type: ignore[arg-type]


def test_rows_are_day_headers_then_messages_oldest_first(qapp) -> None:
    model = ThreadModel()
    model.set_thread([
        msg("a", datetime(2026, 3, 4, 17, 5, tzinfo=UTC), inbound=True, channel="instagram"),
        msg("b", datetime(2026, 3, 4, 17, 20, tzinfo=UTC)),
        msg("c", datetime(2026, 3, 5, 16, 0, tzinfo=UTC), template="Appointment reminder", purpose="marketing"),
    ], online=True, tz=LA, today=TODAY)
    assert [model.index(r).data(KIND_ROLE) for r in range(model.rowCount())] == [
        "day", "message", "message", "day", "message"]
    assert [model.index(r).data() for r in (0, 3)] == ["Yesterday", "Today"]
    first = model.index(1)
    assert first.data() == "body a" and first.data(INBOUND_ROLE) is True and first.data(CHANNEL_ROLE) == "instagram"
    assert first.data(META_ROLE) == "Ana Lima \u00b7 9:05 AM \u00b7 Instagram DM"
    assert first.data(STATE_ROLE) == ""  # inbound messages have no delivery state
    assert model.index(2).data(META_ROLE) == "Felix Park \u00b7 9:20 AM \u00b7 Text"
    assert model.index(4).data(META_ROLE) == ("Felix Park \u00b7 8:00 AM \u00b7 Text \u00b7 marketing \u00b7 "
                                              "from \u201cAppointment reminder\u201d")
    assert model.index(4).data(MESSAGE_ID_ROLE) == "c" and model.row_of("c") == 4 and model.row_of("x") == -1
    assert [m.id for m in model.messages()] == ["a", "b", "c"] and model.message(0) is None
    assert model.flags(model.index(0)) & Qt.ItemFlag.ItemIsSelectable == Qt.ItemFlag.NoItemFlags
    assert "Sent by Felix Park" in model.index(2).data(Qt.ItemDataRole.AccessibleTextRole)
    model.clear()
    assert model.rowCount() == 0


WHEN = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(("over", "online", "state", "tone"), [
    ({"pending": True}, False, WAITING_OFFLINE, "warn"),
    ({"pending": True}, None, WAITING_OFFLINE, "warn"),
    ({"pending": True}, True, "Sending\u2026", "muted"),
    ({"status": "queued"}, True, "Queued", "muted"),
    ({"status": "queued", "send_after": datetime(2026, 3, 6, 16, 0, tzinfo=UTC)}, True,
     "Held for quiet hours until 8:00 AM", "info"),
    ({"status": "submitted"}, True, "Sending", "muted"),
    ({"status": "sent"}, True, "Sent", "info"),
    ({"status": "delivered"}, True, "Delivered", "ok"),
    ({"status": "refused", "status_reason": "This client has not agreed to marketing texts, so no text was sent."},
     True, "Not sent: This client has not agreed to marketing texts, so no text was sent.", "danger"),
    ({"status": "undelivered", "status_reason": "The carrier did not deliver the text (Twilio error 30003)."},
     True, "Not delivered: The carrier did not deliver the text (Twilio error 30003).", "danger"),
    ({"status": "failed", "status_reason": None}, True, "Not delivered: the carrier did not deliver it.", "danger"),
])
def test_delivery_states_read_as_the_desk_says_them(over: dict[str, object], online: bool | None, state: str,
                                                    tone: str) -> None:
    assert delivery_state(msg("m", WHEN, **over), online=online, tz=LA) == (state, tone)


def test_a_refusal_shows_on_the_message_with_its_reason(qapp) -> None:
    model = ThreadModel()
    reason = "This client has opted out of texts (they replied STOP), so no text was sent."
    model.set_thread([msg("m", WHEN, status="refused", status_reason=reason)], online=True, tz=LA, today=TODAY)
    index = model.index(1)
    assert index.data(STATE_ROLE) == f"Not sent: {reason}" and index.data(TONE_ROLE) == "danger"
    assert index.data(Qt.ItemDataRole.ToolTipRole) == reason
    assert reason in index.data(Qt.ItemDataRole.AccessibleTextRole)


def test_attachments_are_described_in_the_bubble(qapp) -> None:
    photo = Attachment("p1", "image/jpeg", 43_000, cached=False)
    assert media_line([photo]) == "Photo attached (JPEG, 42 KB) \u2014 open to download"
    assert media_line([replace(photo, cached=True)]).endswith("open to view")
    assert media_line([photo, photo]) == "2 attachments \u2014 open to view"
    assert media_line([]) == ""
    model = ThreadModel()
    model.set_thread([msg("m", WHEN, inbound=True, body="", media=(photo,))], online=True, tz=LA, today=TODAY)
    assert model.index(1).data() == media_line([photo]) and model.index(1).data(MEDIA_ROLE) == (photo,)


def test_newest_inbound_is_what_reading_marks() -> None:
    older, newer = datetime(2026, 3, 5, 1, tzinfo=UTC), datetime(2026, 3, 5, 2, tzinfo=UTC)
    assert newest_inbound([msg("a", older, inbound=True), msg("b", newer, inbound=True),
                           msg("c", WHEN)]) == newer
    assert newest_inbound([msg("c", WHEN)]) is None
