"""What the desktop remembers between runs on this workstation (QSettings, an ini file in the
data folder, so several data folders are several independent desktops): the window's geometry
(size, position, maximised, and the screen it was on), the last screen shown, and whether new-message
notifications show the message's text (off by default: a shared screen shows the client's name only)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

FILE_NAME = "desktop.ini"


class UiSettings:
    def __init__(self, home: Path) -> None:
        self._settings = QSettings(str(Path(home) / FILE_NAME), QSettings.Format.IniFormat)

    def geometry(self) -> QByteArray | None:
        value = self._settings.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save_geometry(self, geometry: QByteArray) -> None:
        self._settings.setValue("window/geometry", geometry)

    def last_page(self) -> str | None:
        value = self._settings.value("window/page")
        return str(value) if value else None

    def save_last_page(self, key: str) -> None:
        self._settings.setValue("window/page", key)

    def show_message_text(self) -> bool:
        return str(self._settings.value("notifications/show_text", "false")).lower() == "true"

    def set_show_message_text(self, value: bool) -> None:
        self._settings.setValue("notifications/show_text", "true" if value else "false")

    def sync(self) -> None:
        self._settings.sync()
