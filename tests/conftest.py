"""Session-wide test set-up: an in-memory keychain, Qt offscreen, and data folders per test."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
import keyring.backend
import pytest


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keychain that lives in memory (tests only; DESIGN.md: never keyrings.alt)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture(autouse=True)
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    monkeypatch.delenv("GLOWDESK_KEY_FILE", raising=False)
    monkeypatch.delenv("GLOWDESK_HOME", raising=False)
    return backend


# --- web pages in headless Chromium ------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Debian's headless Chromium through Playwright (skipped when it is not installed)."""
    from tests import browser as web

    if not web.CHROMIUM.exists():
        pytest.skip("headless Chromium is not installed (apt-get install chromium; CI's .ci/run installs it)")
    with web.launch() as chromium:
        yield chromium


@pytest.fixture(scope="session")
def axe():  # type: ignore[no-untyped-def]
    """``axe(page)``: the serious and critical accessibility violations of a page."""
    from tests import browser as web

    if not web.AXE.exists():
        pytest.skip("axe-core is not installed (make installs it from the npm registry into .venv/npm)")
    return web.axe_violations
