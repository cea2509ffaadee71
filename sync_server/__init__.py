"""The Glowdesk central server (FastAPI): sync hub, device enrollment, audit, integrations.

Layout: one package per bounded context (``clinics``, ``audit``, ``sync``...), each shaped
``endpoints -> service -> repository -> models`` with ``schemas`` for HTTP bodies. Shared
plumbing: ``settings`` (GLOWDESK_ environment), ``db`` (engine, sessions, migrations),
``tenancy`` (clinic scoping and PostgreSQL row-level security), ``deps`` (FastAPI
dependencies), ``app`` (the factory), ``cli`` (``python -m sync_server``).

Never imports ``app`` (the desktop); shares only ``core``.
"""
