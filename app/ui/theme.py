"""The look: resources/style.qss filled from a light or dark palette, the app font, SVG icons.

The stylesheet names colours as ``@token`` (``@text``, ``@surface``, ``@accent``...); the palette
of the scheme in force fills them in. The scheme follows the system (Qt's colour scheme hint) and
changes live when the system's does; ``GLOWDESK_THEME=light|dark`` forces one (screenshots, a
user who wants the other). Icons are drawn in a palette colour by name (``"muted"``, ``"ok"``...)
or in an explicit ``#rrggbb``.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

THEME_ENV = "GLOWDESK_THEME"

LIGHT: dict[str, str] = {
    "text": "#1f2430", "text2": "#4b5263", "muted": "#6b7280", "faint": "#8a909c", "placeholder": "#9aa0ab",
    "canvas": "#f6f6fa", "surface": "#ffffff", "surface2": "#fafafc", "hover": "#f6f4fe", "line": "#e6e8ee",
    "line2": "#f1f2f6", "field-line": "#d9dce4", "icon-faint": "#c4c8d2",
    "accent": "#6a4cdb", "accent-strong": "#5337c4", "accent-soft": "#efeafe", "accent-softer": "#f5f2fe",
    "accent-text": "#3b2a8a", "selection": "#e6defd", "on-accent": "#ffffff",
    "danger": "#b42318", "danger-soft": "#fef3f2", "danger-line": "#f5c2bd", "danger-text": "#7a1a12",
    "danger-chip": "#fdecea",
    "ok": "#16794c", "ok-soft": "#f3faf6", "ok-line": "#cfe9da", "ok-chip": "#e5f5ec",
    "vip": "#946200", "vip-icon": "#b7791f", "vip-chip": "#fdf3dc",
    "warn": "#8a5a00", "warn-soft": "#fff8e8", "warn-line": "#f1d8a0",
    "info": "#1d5fa8", "info-chip": "#e4effb",
    "chip": "#eef0f4", "chip-muted": "#f3f4f6",
    "nav": "#1e1a2e", "nav-text": "#b9b4cf", "nav-hover": "#2c2643", "nav-active": "#3b3260",
    "nav-active-text": "#ffffff", "nav-line": "#2c2741",
}

DARK: dict[str, str] = {
    "text": "#e7e8ee", "text2": "#c4c7d1", "muted": "#9aa1ae", "faint": "#80889a", "placeholder": "#6b7280",
    "canvas": "#14151a", "surface": "#1c1e25", "surface2": "#22242c", "hover": "#29263a", "line": "#2e313b",
    "line2": "#262831", "field-line": "#3b3e4a", "icon-faint": "#4a4e5c",
    "accent": "#8f78f2", "accent-strong": "#b3a3f7", "accent-soft": "#2f2851", "accent-softer": "#241f3d",
    "accent-text": "#d9d0ff", "selection": "#3a3168", "on-accent": "#ffffff",
    "danger": "#f08a7c", "danger-soft": "#2e1917", "danger-line": "#6b2a24", "danger-text": "#ffc2b8",
    "danger-chip": "#3d1d1a",
    "ok": "#55c98f", "ok-soft": "#142a1f", "ok-line": "#24503a", "ok-chip": "#163323",
    "vip": "#e6b655", "vip-icon": "#e6b655", "vip-chip": "#3a2e14",
    "warn": "#f0c36a", "warn-soft": "#2f2610", "warn-line": "#5c4a1c",
    "info": "#8ab8ef", "info-chip": "#1a2b40",
    "chip": "#2a2d36", "chip-muted": "#23252d",
    "nav": "#0f0f14", "nav-text": "#a9a6bb", "nav-hover": "#1d1b28", "nav-active": "#2f2851",
    "nav-active-text": "#ffffff", "nav-line": "#1f1d2a",
}

#: the palette in force (apply_theme switches it)
PALETTE: dict[str, str] = dict(LIGHT)
SCHEME = "light"
_FOLLOWING = False

# Colour names kept for older callers; they follow the palette in force.
TEXT = PALETTE["text"]
MUTED = PALETTE["muted"]
ACCENT = PALETTE["accent"]
DANGER = PALETTE["danger"]
VIP = PALETTE["vip-icon"]
OK = PALETTE["ok"]

FONT_FAMILIES = ["Inter", "Segoe UI", "SF Pro Text", "Helvetica Neue", "Cantarell", "Noto Sans",
                 "DejaVu Sans", "Arial"]
_TOKEN = re.compile(r"@([a-z][a-z0-9-]*)")


def resources_dir() -> Path:
    """resources/ next to the package, or inside a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def color(name: str | None) -> str | None:
    """A palette colour by name (``"muted"``), or ``name`` itself when it is ``#rrggbb``."""
    if name is None or name.startswith("#"):
        return name
    return PALETTE.get(name, PALETTE["muted"])


def qcolor(name: str) -> QColor:
    return QColor(color(name) or PALETTE["text"])


def system_scheme() -> str:
    """``light`` or ``dark``: GLOWDESK_THEME if set, else the system's scheme (light if unknown)."""
    forced = os.environ.get(THEME_ENV, "").strip().lower()
    if forced in ("light", "dark"):
        return forced
    app = QGuiApplication.instance()
    if app is not None and QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark:
        return "dark"
    return "light"


def stylesheet(palette: dict[str, str] | None = None, *, text: str | None = None) -> str:
    """resources/style.qss (or ``text``, a screen's own rules) with its ``@tokens`` filled from
    ``palette`` (the one in force)."""
    palette = palette or PALETTE
    if text is None:
        path = resources_dir() / "style.qss"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            log.warning("stylesheet not found; using Qt's default look")
            return ""

    def fill(match: re.Match[str]) -> str:
        return palette.get(match.group(1), match.group(0))

    return _TOKEN.sub(fill, text)


def set_scheme(scheme: str) -> None:
    """Make ``scheme``'s palette the one in force (icons drawn from now on use it)."""
    global SCHEME, TEXT, MUTED, ACCENT, DANGER, VIP, OK
    SCHEME = "dark" if scheme == "dark" else "light"
    PALETTE.clear()
    PALETTE.update(DARK if SCHEME == "dark" else LIGHT)
    TEXT, MUTED, ACCENT, DANGER = PALETTE["text"], PALETTE["muted"], PALETTE["accent"], PALETTE["danger"]
    VIP, OK = PALETTE["vip-icon"], PALETTE["ok"]


def qt_palette() -> QPalette:
    """A Fusion palette matching the stylesheet (for what the stylesheet does not draw)."""
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: "canvas", QPalette.ColorRole.WindowText: "text",
        QPalette.ColorRole.Base: "surface", QPalette.ColorRole.AlternateBase: "surface2",
        QPalette.ColorRole.Text: "text", QPalette.ColorRole.Button: "surface",
        QPalette.ColorRole.ButtonText: "text", QPalette.ColorRole.Highlight: "accent",
        QPalette.ColorRole.HighlightedText: "on-accent", QPalette.ColorRole.PlaceholderText: "placeholder",
        QPalette.ColorRole.ToolTipBase: "text", QPalette.ColorRole.ToolTipText: "surface",
        QPalette.ColorRole.Link: "accent", QPalette.ColorRole.Mid: "line", QPalette.ColorRole.Midlight: "line2",
        QPalette.ColorRole.Dark: "field-line", QPalette.ColorRole.Light: "surface",
    }
    for role, name in roles.items():
        p.setColor(role, qcolor(name))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, qcolor("placeholder"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, qcolor("placeholder"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, qcolor("placeholder"))
    return p


def apply_theme(app: QApplication, scheme: str | None = None) -> None:
    """Font, Fusion, the palette and the stylesheet of ``scheme`` (default: the system's), and
    follow the system's scheme from now on."""
    from app.ui.refcount import collect_on_ui_thread, guard

    guard()
    collect_on_ui_thread(app)
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    font.setPointSizeF(10.0)
    app.setFont(font)
    app.setStyle("Fusion")  # the same base on every OS; the stylesheet does the rest
    set_scheme(scheme or system_scheme())
    app.setPalette(qt_palette())
    app.setStyleSheet(stylesheet())
    app.setWindowIcon(icon("glowdesk", color=None))
    global _FOLLOWING
    if not _FOLLOWING:
        _FOLLOWING = True
        QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _scheme: _follow(app))


def _follow(app: QApplication) -> None:
    scheme = system_scheme()
    if scheme != SCHEME:
        log.info("colour scheme changed to %s", scheme)
        set_scheme(scheme)
        app.setPalette(qt_palette())
        app.setStyleSheet(stylesheet())


@cache
def _svg(name: str) -> str | None:
    path = resources_dir() / "icons" / f"{name}.svg"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        log.warning("icon %s not found", name)
        return None


def pixmap(name: str, size: int = 18, color: str | None = "muted") -> QPixmap:
    """The icon ``name`` drawn at ``size`` logical pixels in ``color`` (a palette name or
    ``#rrggbb``; ``None``: its own colours)."""
    screen = QGuiApplication.primaryScreen()
    ratio = screen.devicePixelRatio() if screen else 1.0
    pm = QPixmap(QSize(round(size * ratio), round(size * ratio)))
    pm.fill(Qt.GlobalColor.transparent)
    svg = _svg(name)
    if svg is not None:
        tint = _resolve(color)
        if tint is not None:
            svg = svg.replace("currentColor", tint)
        renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
        painter = QPainter(pm)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, pm.width(), pm.height()))
        painter.end()
    pm.setDevicePixelRatio(ratio)
    return pm


def icon(name: str, color: str | None = "muted", size: int = 24) -> QIcon:
    return QIcon(pixmap(name, size, color))


def _resolve(name: str | None) -> str | None:
    return globals()["color"](name)
