"""Shared set-up for the sync benchmarks (issue 3): a real server process on SQLite or on a fresh
PostgreSQL database, enrolled desktops with their own encrypted stores (the integration tests'
:class:`Desk`), and timing helpers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import _common  # noqa: F401  (puts the repository on sys.path)
import pytest

from app.db.store import open_store
from app.sync import enroll
from tests.integration.conftest import ClinicSetup, Desk, ServerProcess, make_clinic

__all__ = ["ClinicSetup", "Desk", "ServerProcess", "make_clinic", "new_desk", "load"]


def new_desk(tmp: Path, server: ServerProcess, setup: ClinicSetup, name: str, *, first_sync: bool = True,
             pull_limit: int | None = None) -> Desk:
    """A desktop with its own home and key file, enrolled with the next of ``setup.codes``."""
    home, key_file = tmp / name, tmp / f"{name}.key"
    os.environ["GLOWDESK_KEY_FILE"] = str(key_file)
    store = open_store(home)
    desk = Desk(name, home, store, setup, server.url, pytest.MonkeyPatch())
    kwargs: dict[str, Any] = {"first_sync": first_sync}
    if pull_limit is not None:
        kwargs["pull_limit"] = pull_limit
    result = enroll(store, server.url, setup.codes.pop(0), f"Desk {name}", **kwargs)
    if result.first_sync_error is not None:
        raise RuntimeError(f"first sync of {name} failed: {result.first_sync_error}")
    desk.device_id = result.device_id
    return desk


def load() -> str:
    one, _five, _fifteen = os.getloadavg()
    return f"load {one:.2f}"
