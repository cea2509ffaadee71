"""The sync state, always in sight: a status-bar indicator and a banner while offline or stopped.

:func:`describe` turns a :class:`app.sync.SyncState` into words (a pure function, tested on its
own); :class:`SyncIndicator` (status bar) and :class:`SyncBanner` (above the screens) show them.
The indicator opens the review screen (conflicts and refused changes); the banner says how many
changes wait on this workstation and offers "Sync now".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from app.sync import SyncState
from app.ui import theme
from app.ui.formatting import display_ago, display_count, display_day, display_time
from app.ui.sync_controller import SyncController
from app.ui.widgets import label

#: how often relative times ("synced 3 min ago") are brought up to date
TICK_MS = 30_000


@dataclass(frozen=True)
class SyncView:
    text: str  # the status bar's words
    tone: str  # ok | warn | danger | muted
    icon: str
    tip: str
    banner: str | None  # shown above the screens when set
    banner_tone: str  # warn | danger
    review: int  # conflicts and refused changes to look at
    can_sync_now: bool


def _changes(n: int) -> str:
    return display_count(n, "change")


def _moment(moment: datetime, now: datetime, tz: tzinfo | None) -> str:
    local, today = (moment.astimezone(tz), now.astimezone(tz).date()) if tz else (moment, now.date())
    time_text = display_time(local)
    return time_text if local.date() == today else f"{display_day(local.date(), today)}, {time_text}"


def describe(state: SyncState, *, now: datetime | None = None, tz: tzinfo | None = None,
             demo: bool = False) -> SyncView:
    """What the indicator and the banner say about ``state``."""
    now = now or datetime.now(UTC)
    review = state.conflicts_to_review + state.rejected_changes
    pending = state.pending_changes
    tips = [f"Clinic server: {state.server_url}"] if state.server_url else []
    if state.last_sync_at is not None:
        tips.append(f"Last sync: {_moment(state.last_sync_at, now, tz)}")
    if pending:
        tips.append(f"{_changes(pending)} waiting to be sent")
    if review:
        tips.append(f"{review:,} to review (click to see them)")

    if not state.enrolled:
        text = "Demo clinic \u00b7 not connected to a clinic server" if demo else "Not connected to a clinic server"
        tip = ("This demo clinic lives only on this computer; nothing is sent anywhere." if demo else
               "This workstation is not enrolled with a clinic server.")
        return SyncView(text, "muted", "cloud-off", tip, None, "warn", review, False)

    if state.stopped_reason:
        waiting = f" {_changes(pending).capitalize()} made here {'is' if pending == 1 else 'are'} kept " \
                  "on this workstation." if pending else " Work done here is kept on this workstation."
        banner = f"Syncing has stopped. {state.stopped_reason}{waiting}"
        return SyncView("Sync stopped", "danger", "warning", "\n".join([state.stopped_reason, *tips]),
                        banner, "danger", review, False)

    if state.online is False:
        since = f" since {_moment(state.offline_since, now, tz)}" if state.offline_since else ""
        text = f"Offline{since}" + (f" \u00b7 {_changes(pending)} waiting" if pending else "")
        if pending:
            kept = (f"{_changes(pending).capitalize()} {'is' if pending == 1 else 'are'} saved on this "
                    "workstation and will be sent when the connection is back.")
        else:
            kept = "What you change is saved on this workstation and sent when the connection is back."
        banner = f"The clinic server can't be reached (offline{since}). Keep working: {kept}"
        if state.last_error:
            tips.append(state.last_error)
        return SyncView(text, "warn", "cloud-off", "\n".join(tips), banner, "warn", review, True)

    if state.online is None:
        text = "Downloading the clinic\u2026" if state.syncing else "Connecting to the clinic server\u2026"
        return SyncView(text, "muted", "refresh", "\n".join(tips), None, "warn", review, True)

    if pending:
        text = f"Online \u00b7 sending {_changes(pending)}" if state.syncing else \
            f"Online \u00b7 {_changes(pending)} waiting"
    elif state.last_sync_at is not None:
        ago = display_ago(state.last_sync_at, now)
        text = "Online \u00b7 synced " + ("just now" if ago == "just now" else f"{ago} ago")
    else:
        text = "Online"
    return SyncView(text, "ok", "refresh" if state.syncing else "cloud", "\n".join(tips), None, "warn",
                    review, True)


class SyncIndicator(QWidget):
    """Status-bar part: icon, state in words, and "N to review" when there is something."""

    review_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SyncIndicator")
        line = QHBoxLayout(self)
        line.setContentsMargins(0, 0, 8, 0)
        line.setSpacing(6)
        self.icon = QLabel()
        self.icon.setFixedSize(16, 16)
        self.state_button = QPushButton("")
        self.state_button.setObjectName("SyncState")
        self.state_button.setFlat(True)
        self.state_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.state_button.clicked.connect(self.review_requested.emit)
        self.review_button = QPushButton("")
        self.review_button.setObjectName("SyncReview")
        self.review_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.review_button.setIcon(theme.icon("alert", "warn"))
        self.review_button.setIconSize(QSize(14, 14))
        self.review_button.setToolTip("Conflicts and refused changes to look at")
        self.review_button.clicked.connect(self.review_requested.emit)
        self.review_button.hide()
        line.addWidget(self.icon)
        line.addWidget(self.state_button)
        line.addWidget(self.review_button)
        self.view: SyncView | None = None

    @property
    def text(self) -> str:
        return self.state_button.text()

    def show_view(self, view: SyncView) -> None:
        self.view = view
        self.icon.setPixmap(theme.pixmap(view.icon, 16, view.tone))
        self.state_button.setText(view.text)
        self.state_button.setProperty("tone", view.tone)
        self.state_button.setToolTip(view.tip + ("\n" if view.tip else "") + "Click for sync details")
        self.state_button.style().unpolish(self.state_button)
        self.state_button.style().polish(self.state_button)
        self.review_button.setText(f"{view.review:,} to review")
        self.review_button.setVisible(view.review > 0)


class SyncBanner(QFrame):
    """Above the screens while the server is unreachable or syncing stopped."""

    sync_now_requested = Signal()
    details_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SyncBanner")
        line = QHBoxLayout(self)
        line.setContentsMargins(16, 8, 12, 8)
        line.setSpacing(10)
        self.icon = QLabel()
        self.icon.setFixedSize(18, 18)
        self.message = label("", name="SyncBannerText", wrap=True)
        self.sync_button = QPushButton(theme.icon("refresh"), "Sync now")
        self.sync_button.setObjectName("SyncBannerButton")
        self.sync_button.clicked.connect(self.sync_now_requested.emit)
        self.details_button = QPushButton("Details")
        self.details_button.setObjectName("SyncBannerButton")
        self.details_button.clicked.connect(self.details_requested.emit)
        line.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        line.addWidget(self.message, 1)
        line.addWidget(self.sync_button)
        line.addWidget(self.details_button)
        self.hide()

    @property
    def text(self) -> str:
        return self.message.text() if self.isVisibleTo(self.parentWidget() or self) else ""

    def show_view(self, view: SyncView) -> None:
        if not view.banner:
            self.hide()
            return
        self.setProperty("tone", view.banner_tone)
        self.style().unpolish(self)
        self.style().polish(self)
        self.icon.setPixmap(theme.pixmap("cloud-off" if view.banner_tone == "warn" else "warning", 18,
                                         view.banner_tone))
        self.message.setText(view.banner)
        self.sync_button.setVisible(view.can_sync_now)
        self.show()


class SyncChrome(QObject):
    """The indicator and the banner kept in step with a :class:`SyncController`."""

    #: the person wants the sync details and the review list
    review_requested = Signal()

    def __init__(self, sync: SyncController, desk: Any, parent: QWidget) -> None:
        super().__init__(parent)
        self.sync = sync
        self.desk = desk
        self.indicator = SyncIndicator()
        self.banner = SyncBanner()
        self.view = describe(sync.state, demo=desk.is_demo)
        self.indicator.review_requested.connect(self.review_requested.emit)
        self.banner.details_requested.connect(self.review_requested.emit)
        self.banner.sync_now_requested.connect(sync.sync_now)
        sync.state_changed.connect(lambda _state: self.render())
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self.render)
        self._ticker.start()
        self.indicator.state_button.setText("Checking sync\u2026")

    def render(self) -> None:
        self.view = describe(self.sync.state, now=self.desk.now(), tz=self.desk.tz(), demo=self.desk.is_demo)
        self.indicator.show_view(self.view)
        self.banner.show_view(self.view)


__all__ = ["TICK_MS", "SyncBanner", "SyncChrome", "SyncIndicator", "SyncView", "describe"]
