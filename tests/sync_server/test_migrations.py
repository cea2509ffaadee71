"""The Alembic history builds exactly the schema the models describe, and can be walked back."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from sync_server.db import SCHEMA_HEAD, Database, script_head
from sync_server.migrations.models import load_all_models
from sync_server.settings import Settings

from .conftest import SECRET, ScratchDatabases


def test_schema_head_is_alembics_single_head() -> None:
    assert script_head() == SCHEMA_HEAD


def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, load_all_models()) == []


@pytest.fixture
def empty_database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Database:
    if backend == "sqlite":
        settings = Settings(server_home=tmp_path, secret_key=SECRET)
    else:
        scratch: ScratchDatabases = request.getfixturevalue("pg_scratch")
        settings = Settings(database_url=scratch.create(), secret_key=SECRET)
    db = Database(settings)
    request.addfinalizer(db.dispose)
    return db


def test_upgrade_downgrade_upgrade(empty_database: Database) -> None:
    db = empty_database
    tables = {t.name for t in load_all_models().sorted_tables}
    db.upgrade()
    db.upgrade()  # at head: nothing to do
    assert db.current_revision() == SCHEMA_HEAD
    assert tables <= set(inspect(db.engine).get_table_names())
    db.downgrade("base")
    assert not tables & set(inspect(db.engine).get_table_names())
    db.upgrade()
    assert db.current_revision() == SCHEMA_HEAD
