"""The live channel is pushed by PostgreSQL: NOTIFY when a clinic's sequence advances or a device
is revoked, so API processes LISTEN instead of polling ``clinic_sync_state`` per clinic.

PostgreSQL queues a ``pg_notify`` made inside a transaction and delivers it only when that
transaction commits (never for a rollback), to every session listening on the channel. The
triggers cover every writer of the sequence (pushes, the server's own writes in jobs and
requests, other processes, the CLI). Payloads: ``seq:<clinic_id>:<last_seq>`` and
``revoked:<clinic_id>``. SQLite keeps polling (one process, nothing to add).

Revision ID: 0010
Revises: 0007
"""

from alembic import op

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None

CHANNEL = "glowdesk_sync"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        CREATE OR REPLACE FUNCTION glowdesk_sync_seq_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.last_seq IS DISTINCT FROM OLD.last_seq THEN
                PERFORM pg_notify('{CHANNEL}', 'seq:' || NEW.clinic_id || ':' || NEW.last_seq);
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute(f"""
        CREATE OR REPLACE FUNCTION glowdesk_device_revoked_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL THEN
                PERFORM pg_notify('{CHANNEL}', 'revoked:' || NEW.clinic_id);
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER clinic_sync_state_notify AFTER UPDATE OF last_seq ON clinic_sync_state
        FOR EACH ROW EXECUTE FUNCTION glowdesk_sync_seq_notify()
    """)
    op.execute("""
        CREATE TRIGGER device_revoked_notify AFTER UPDATE OF revoked_at ON device
        FOR EACH ROW EXECUTE FUNCTION glowdesk_device_revoked_notify()
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS device_revoked_notify ON device")
    op.execute("DROP TRIGGER IF EXISTS clinic_sync_state_notify ON clinic_sync_state")
    op.execute("DROP FUNCTION IF EXISTS glowdesk_device_revoked_notify()")
    op.execute("DROP FUNCTION IF EXISTS glowdesk_sync_seq_notify()")
