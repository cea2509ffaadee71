"""The FastAPI application factory. Importing this module does nothing but define functions.

``create_app(settings)`` builds an app bound to one database; for several worker processes,
``uvicorn --factory sync_server.app:create_app`` builds one per process from the environment.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

import core
from core.clock import Clock, SystemClock
from sync_server.audit import endpoints as audit_endpoints
from sync_server.clinics import endpoints as clinics_endpoints
from sync_server.db import Database, check_database, head_revision
from sync_server.errors import install_error_handlers
from sync_server.settings import Settings
from sync_server.sync import endpoints as sync_endpoints

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    # Fail at start-up, not on the first enrollment, when the secret key is missing.
    settings.ensure_secret_key()
    db = Database(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            db.dispose()

    app = FastAPI(
        title="Glowdesk server",
        version=core.__version__,
        summary="Sync hub, outside-world integrations and patient pages of Glowdesk.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.clock = clock or SystemClock()
    install_error_handlers(app)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> JSONResponse:
        """Liveness and readiness: the database answers (as the request role) at our schema."""
        try:
            revision = await run_in_threadpool(check_database, db)
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            log.warning("health check: database unavailable (%s)", type(exc).__name__)
            return JSONResponse(
                {"status": "unavailable", "detail": "The database is not reachable."}, status_code=503
            )
        expected = head_revision()
        if revision != expected:
            return JSONResponse(
                {"status": "unavailable", "detail": "The database schema is not up to date; run migrate.",
                 "schema": revision, "expected_schema": expected},
                status_code=503,
            )
        return JSONResponse({"status": "ok", "database": db.dialect, "schema": revision})

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(clinics_endpoints.router)
    api.include_router(audit_endpoints.router)
    api.include_router(sync_endpoints.router)
    app.include_router(api)
    return app
