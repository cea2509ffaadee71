"""The look: resources/style.qss, the app font, and SVG icons tinted to the palette."""

from __future__ import annotations

import logging
import sys
from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QFont, QGuiApplication, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

#: palette names used by code (the stylesheet carries the rest)
TEXT = "#1f2430"
MUTED = "#6b7280"
ACCENT = "#6a4cdb"
DANGER = "#b42318"
VIP = "#b7791f"
OK = "#16794c"

FONT_FAMILIES = ["Inter", "Segoe UI", "SF Pro Text", "Helvetica Neue", "Cantarell", "Noto Sans",
                 "DejaVu Sans", "Arial"]


def resources_dir() -> Path:
    """resources/ next to the package, or inside a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def stylesheet() -> str:
    path = resources_dir() / "style.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        log.warning("stylesheet not found; using Qt's default look")
        return ""


def apply_theme(app: QApplication) -> None:
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    font.setPointSizeF(10.0)
    app.setFont(font)
    app.setStyle("Fusion")  # the same base on every OS; the stylesheet does the rest
    app.setStyleSheet(stylesheet())
    app.setWindowIcon(icon("glowdesk", color=None))


@cache
def _svg(name: str) -> str | None:
    path = resources_dir() / "icons" / f"{name}.svg"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        log.warning("icon %s not found", name)
        return None


def pixmap(name: str, size: int = 18, color: str | None = MUTED) -> QPixmap:
    """The icon ``name`` drawn at ``size`` logical pixels in ``color`` (``None``: its own colours)."""
    ratio = QGuiApplication.primaryScreen().devicePixelRatio() if QGuiApplication.primaryScreen() else 1.0
    pm = QPixmap(QSize(round(size * ratio), round(size * ratio)))
    pm.fill(Qt.GlobalColor.transparent)
    svg = _svg(name)
    if svg is not None:
        if color is not None:
            svg = svg.replace("currentColor", color)
        renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
        painter = QPainter(pm)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, pm.width(), pm.height()))
        painter.end()
    pm.setDevicePixelRatio(ratio)
    return pm


def icon(name: str, color: str | None = MUTED, size: int = 24) -> QIcon:
    return QIcon(pixmap(name, size, color))
