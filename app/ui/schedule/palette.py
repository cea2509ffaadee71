"""The schedule's colours: one set per status, for light and dark windows."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class StatusColors:
    fill: QColor
    accent: QColor
    text: QColor


@dataclass(frozen=True)
class SchedulePalette:
    dark: bool
    canvas: QColor
    header: QColor
    gutter_text: QColor
    hour_line: QColor
    half_line: QColor
    column_line: QColor
    weekend: QColor
    today_header: QColor
    title: QColor
    subtitle: QColor
    buffer: QColor
    now: QColor
    slot: QColor
    empty_text: QColor
    statuses: dict[str, StatusColors]
    deposit_ok: QColor
    deposit_due: QColor
    deposit_bad: QColor
    deposit_other: QColor
    vip: QColor
    busy: QColor

    def status(self, status: str) -> StatusColors:
        return self.statuses.get(status, self.statuses["booked"])

    def deposit(self, deposit_status: str) -> QColor:
        if deposit_status in ("authorised", "captured", "applied"):
            return self.deposit_ok
        if deposit_status in ("required", "link_sent"):
            return self.deposit_due
        if deposit_status == "forfeited":
            return self.deposit_bad
        return self.deposit_other


def _c(value: str) -> QColor:
    return QColor(value)


def _s(fill: str, accent: str, text: str) -> StatusColors:
    return StatusColors(_c(fill), _c(accent), _c(text))


LIGHT = SchedulePalette(
    dark=False,
    canvas=_c("#ffffff"), header=_c("#fbfbfd"), gutter_text=_c("#8a909c"), hour_line=_c("#e6e8ee"),
    half_line=_c("#f3f4f7"), column_line=_c("#eceef3"), weekend=_c("#fafafc"), today_header=_c("#6a4cdb"),
    title=_c("#1f2430"), subtitle=_c("#8a909c"), buffer=_c("#c9cdd6"), now=_c("#e5484d"), slot=_c("#f0ecfd"),
    empty_text=_c("#9aa0ab"),
    statuses={
        "booked": _s("#eaf1fe", "#3b6fd8", "#1c2b4a"),
        "confirmed": _s("#efeafe", "#6a4cdb", "#2a1f5c"),
        "checked_in": _s("#e2f5ec", "#16794c", "#0f3d28"),
        "completed": _s("#f1f3f5", "#8a93a3", "#3c4350"),
        "cancelled": _s("#f8f8fa", "#c5c9d2", "#9aa0ab"),
        "late_cancelled": _s("#f8f8fa", "#c5c9d2", "#9aa0ab"),
        "no_show": _s("#fdecea", "#c4321f", "#6b1a10"),
    },
    deposit_ok=_c("#16794c"), deposit_due=_c("#c47f00"), deposit_bad=_c("#b42318"), deposit_other=_c("#9aa0ab"),
    vip=_c("#b7791f"), busy=_c("#d92d20"),
)

DARK = SchedulePalette(
    dark=True,
    canvas=_c("#1b1d24"), header=_c("#20232b"), gutter_text=_c("#8b92a1"), hour_line=_c("#2e323c"),
    half_line=_c("#252830"), column_line=_c("#2a2e37"), weekend=_c("#1f2128"), today_header=_c("#a08cf5"),
    title=_c("#eceef3"), subtitle=_c("#8b92a1"), buffer=_c("#4a4f5c"), now=_c("#ff6b6b"), slot=_c("#2c2645"),
    empty_text=_c("#6b7280"),
    statuses={
        "booked": _s("#1f2d4a", "#6d9cf5", "#dbe6ff"),
        "confirmed": _s("#2a2350", "#a08cf5", "#e9e3ff"),
        "checked_in": _s("#143a2a", "#3ccf8e", "#d5f5e6"),
        "completed": _s("#272a31", "#7b8494", "#c9ced8"),
        "cancelled": _s("#202228", "#4a4f5c", "#6b7280"),
        "late_cancelled": _s("#202228", "#4a4f5c", "#6b7280"),
        "no_show": _s("#3d1c1a", "#ff6b5b", "#ffd9d4"),
    },
    deposit_ok=_c("#3ccf8e"), deposit_due=_c("#f0b429"), deposit_bad=_c("#ff6b5b"), deposit_other=_c("#7b8494"),
    vip=_c("#f0b429"), busy=_c("#ff6b5b"),
)


def palette_for(widget: QWidget) -> SchedulePalette:
    """Dark colours when the window around the schedule is dark (the system's dark mode)."""
    window = widget.palette().color(QPalette.ColorRole.Window)
    return DARK if window.lightness() < 128 else LIGHT
