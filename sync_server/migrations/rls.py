"""Row-level security DDL for migrations (PostgreSQL only; every helper is a no-op on SQLite).

A migration that creates a clinic-owned table calls :func:`protect_clinic_table` for it; the
test ``test_every_clinic_table_is_protected`` fails when one is forgotten.

These helpers are part of the migration history: change them only in ways that keep old
migrations meaning what they meant.
"""

from __future__ import annotations

from alembic import op

from sync_server.tenancy import (
    APP_ROLE,
    CLINIC_SETTING,
    CLINIC_SLUG_SETTING,
    CREDENTIAL_SETTING,
    QUEUE_SETTING,
)


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _setting(name: str) -> str:
    return f"current_setting('{name}', true)"


def create_app_role() -> None:
    """Create the NOLOGIN request role if absent, let the migrating user ``SET ROLE`` to it,
    and grant it data access (not ownership) on the current schema, now and for later tables."""
    if not _pg():
        return
    op.execute(f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                BEGIN
                    CREATE ROLE {APP_ROLE} NOLOGIN;
                EXCEPTION
                    WHEN duplicate_object OR unique_violation THEN
                        NULL;  -- created concurrently (roles are cluster-wide)
                    WHEN insufficient_privilege THEN
                        RAISE EXCEPTION 'glowdesk: % may not create roles; as a superuser run: CREATE ROLE {APP_ROLE} NOLOGIN; GRANT {APP_ROLE} TO %;', current_user, current_user;
                END;
            END IF;
            IF NOT pg_has_role(current_user, '{APP_ROLE}', 'MEMBER') THEN
                BEGIN
                    EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
                EXCEPTION WHEN insufficient_privilege THEN
                    RAISE EXCEPTION 'glowdesk: % cannot switch to role {APP_ROLE}; as a superuser run: GRANT {APP_ROLE} TO %;', current_user, current_user;
                END;
            END IF;
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO {APP_ROLE}', current_schema());
            EXECUTE format(
                'ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
                'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}', current_schema());
            EXECUTE format(
                'ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
                'GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}', current_schema());
        END
        $$;
    """)


def drop_app_grants() -> None:
    """Undo :func:`create_app_role`'s schema-level grants (the role itself stays: other
    databases of the same cluster may use it)."""
    if not _pg():
        return
    op.execute(f"""
        DO $$
        BEGIN
            EXECUTE format(
                'ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
                'REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE}', current_schema());
            EXECUTE format(
                'ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
                'REVOKE USAGE, SELECT ON SEQUENCES FROM {APP_ROLE}', current_schema());
            EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM {APP_ROLE}', current_schema());
        END
        $$;
    """)


def grant_app(table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    """Grant exactly ``privileges`` on ``table`` to the request role (revoking the rest)."""
    if not _pg():
        return
    op.execute(f"REVOKE ALL ON TABLE {table} FROM {APP_ROLE}")
    op.execute(f"GRANT {privileges} ON TABLE {table} TO {APP_ROLE}")


def _enable(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def protect_clinic_table(table: str, *, column: str = "clinic_id") -> None:
    """RLS on a clinic-owned table: rows are visible and writable only inside their clinic."""
    if not _pg():
        return
    _enable(table)
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({column} = {_setting(CLINIC_SETTING)}) "
        f"WITH CHECK ({column} = {_setting(CLINIC_SETTING)})"
    )


def allow_lookup_by_credential(table: str, column: str) -> None:
    """Before the clinic is known, a transaction that presented a credential's hash may read
    the one row whose ``column`` equals it (device tokens, enrollment codes)."""
    if not _pg():
        return
    op.execute(
        f"CREATE POLICY credential_lookup ON {table} FOR SELECT "
        f"USING ({column} = {_setting(CREDENTIAL_SETTING)})"
    )


def allow_lookup_by_slug(table: str = "clinic") -> None:
    """A transaction that presented a clinic slug may read that clinic's row (to learn its id)."""
    if not _pg():
        return
    op.execute(
        f"CREATE POLICY slug_lookup ON {table} FOR SELECT "
        f"USING (slug = {_setting(CLINIC_SLUG_SETTING)})"
    )


def allow_queue_access(table: str) -> None:
    """A transaction that declared itself a job worker (:func:`sync_server.tenancy.work_queue`)
    may read and update every clinic's rows of this queue table (to claim due work)."""
    if not _pg():
        return
    op.execute(
        f"CREATE POLICY queue_worker ON {table} "
        f"USING ({_setting(QUEUE_SETTING)} = 'on') WITH CHECK ({_setting(QUEUE_SETTING)} = 'on')"
    )
