"""Tenant isolation: which clinic a transaction works for, enforced twice.

1. The application: every repository function takes ``clinic_id`` and filters on it.
2. PostgreSQL row-level security (RLS): every clinic-owned table has ``ENABLE`` + ``FORCE ROW
   LEVEL SECURITY`` and a policy ``clinic_id = current_setting('glowdesk.clinic_id', true)``.
   Request transactions run as :data:`APP_ROLE`, a ``NOLOGIN`` role that owns no table, via
   ``SET LOCAL ROLE``; so even a query that forgets its ``clinic_id`` filter only sees the
   clinic whose id the transaction set with :func:`enter_clinic`.

Before the clinic is known (a device presenting its token, a desktop redeeming an enrollment
code, a public page naming a clinic by slug) a transaction may *present a capability*: the
hash of the credential it holds (:func:`present_credential`) or a clinic slug
(:func:`present_clinic_slug`). Narrow ``FOR SELECT`` policies let it see exactly the row that
capability names: the device whose ``token_hash`` matches, the enrollment code whose
``code_hash`` matches, the clinic with that slug, and nothing else.

The settings are transaction-local (``set_config(..., true)``), so a pooled connection never
carries one request's clinic into the next. On SQLite (the embedded single-server mode) only
the application's scoping applies; the functions here just record the clinic on the session.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

#: The role request transactions switch to (``SET LOCAL ROLE``). Created by the migrations,
#: granted to the migrating user; it owns nothing, so RLS always applies to it.
APP_ROLE = "glowdesk_app"

CLINIC_SETTING = "glowdesk.clinic_id"
CLINIC_SLUG_SETTING = "glowdesk.clinic_slug"
CREDENTIAL_SETTING = "glowdesk.credential"
#: Set by job workers: lets the transaction see (and claim) queued jobs of every clinic.
QUEUE_SETTING = "glowdesk.queue"

#: ``session.info`` keys.
_CLINIC = "glowdesk.clinic_id"
_SETTINGS = "glowdesk.settings"
#: the transaction whose connection has the role and settings applied (see :func:`apply_on_begin`)
_BEGUN = "glowdesk.settings_applied_in"
USE_APP_ROLE = "glowdesk.use_app_role"


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _set(session: Session, name: str, value: str) -> None:
    pending: dict[str, str] = session.info.setdefault(_SETTINGS, {})
    pending[name] = value
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_BEGUN) is transaction and _is_postgresql(session):
        # the transaction is already on a connection: set it there now (otherwise the
        # ``after_begin`` hook applies every pending setting with the role, in one statement)
        session.execute(select(func.set_config(name, value, True)))


def enter_clinic(session: Session, clinic_id: str) -> None:
    """From now on this session's transaction works for ``clinic_id`` (and only for it)."""
    current = session.info.get(_CLINIC)
    if current is not None and current != clinic_id:
        # One transaction, one clinic: switching would let rows of two clinics mix.
        raise RuntimeError("this session already works for another clinic")
    session.info[_CLINIC] = clinic_id
    _set(session, CLINIC_SETTING, clinic_id)


def current_clinic(session: Session) -> str | None:
    return session.info.get(_CLINIC)


def present_credential(session: Session, credential_hash: str) -> None:
    """Let this transaction see the one device or enrollment code whose hash this is."""
    _set(session, CREDENTIAL_SETTING, credential_hash)


def present_clinic_slug(session: Session, slug: str) -> None:
    """Let this transaction see the clinic row with this slug (to learn its id)."""
    _set(session, CLINIC_SLUG_SETTING, slug)


def work_queue(session: Session) -> None:
    """Let this transaction see the job queue of every clinic (job workers claiming work).

    Only the ``job`` table has a policy for this capability; job rows carry ids and kinds, no
    patient data. A worker then runs each job in a transaction of the job's clinic.
    """
    _set(session, QUEUE_SETTING, "on")


def apply_on_begin(session: Session, connection) -> None:  # type: ignore[no-untyped-def]
    """Session ``after_begin`` hook: re-establish role and settings in each new transaction, in
    one round trip (``set_config('role', ..., true)`` is ``SET LOCAL ROLE``)."""
    if connection.dialect.name != "postgresql":
        return
    pairs = [("role", APP_ROLE)] if session.info.get(USE_APP_ROLE) else []
    pairs.extend(session.info.get(_SETTINGS, {}).items())
    if pairs:
        connection.execute(select(*(func.set_config(name, value, True) for name, value in pairs)))
    session.info[_BEGUN] = session.get_transaction()
