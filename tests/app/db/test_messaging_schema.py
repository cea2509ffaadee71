"""Desktop revision 0004 (messaging): the tables match the models, an upgraded store pulls again
from the start (rows of the new entities were skipped before), and attachments stay encrypted."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.db import schema
from app.db.models import Base, MessageAttachment
from app.db.store import DB_NAME, open_store
from app.repositories import settings, sync_state
from app.repositories.uow import system_actor, unit_of_work
from tests.app.db._support import keyed_engine


def test_the_migrated_tables_are_the_models(home: Path) -> None:
    store = open_store(home)
    try:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"render_as_batch": True}), Base.metadata)
    finally:
        store.close()
    # the FTS5 search index is made by hand (revision 0002), not from a model
    assert [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("patient_search"))] == []


def test_a_store_upgraded_from_0002_pulls_again_from_the_start(home: Path) -> None:
    engine = keyed_engine(home, create=True)
    schema.upgrade(engine, "0002")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO local_setting (key, value) VALUES ('sync.cursor', '4711')"))
        conn.execute(sa.text("INSERT INTO local_setting (key, value) VALUES ('sync.device_id', '\"d-1\"')"))
    engine.dispose()
    store = open_store(home)
    try:
        assert schema.current_revision(store.engine) == schema.HEAD == "0004"
        with unit_of_work(store, system_actor(store)) as ctx:
            assert sync_state.cursor(ctx) == 0
            assert settings.get(ctx, "sync.device_id") == "d-1"
    finally:
        store.close()


def test_a_fetched_attachment_is_inside_the_encrypted_file(home: Path) -> None:
    photo = b"\xff\xd8\xff\xe0 JPEG-of-a-bruise-" + b"x" * 4096
    store = open_store(home)
    try:
        with store.session() as s:
            s.add(MessageAttachment(media_id="01900000-0000-7000-8000-00000000a001", message_id="m", size=len(photo),
                                    content_type="image/jpeg", data=photo, fetched_at=datetime.now(UTC)))
    finally:
        store.close()
    assert b"JPEG-of-a-bruise" not in (home / DB_NAME).read_bytes()
    assert not [p for p in home.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg")]
