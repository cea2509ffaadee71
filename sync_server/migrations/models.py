"""The model registry Alembic needs: every context's ``models.py``, so that ``Base.metadata`` is
complete (autogenerate, the migration tests, the test fixtures' table list).

It lives with the migrations, at the top of the layers, because it imports every context; the
declarative base (:mod:`sync_server.orm`) imports none. A context that adds a ``models.py`` adds
one line here.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from sync_server.orm import Base


def load_all_models() -> MetaData:
    """Import every context's models so that ``Base.metadata`` is complete (Alembic, tests)."""
    import sync_server.audit.models  # noqa: F401
    import sync_server.clinics.models  # noqa: F401
    import sync_server.integrations.models  # noqa: F401
    import sync_server.jobs.models  # noqa: F401
    import sync_server.messaging.models  # noqa: F401
    import sync_server.patients.models  # noqa: F401
    import sync_server.sync.models  # noqa: F401
    import sync_server.webhooks.models  # noqa: F401

    return Base.metadata
