"""Real SQLCipher stores in per-test data folders (tmp_path); the keychain is conftest's in-memory one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.db.store import Store, open_store
from app.repositories.context import Actor
from tests.app.db._support import owner


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def store(home: Path) -> Iterator[Store]:
    s = open_store(home)
    yield s
    s.close()


@pytest.fixture
def actor(store: Store) -> Actor:
    return owner(store)
