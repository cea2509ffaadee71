"""The FastAPI application factory. Importing this module does nothing but define functions.

``create_app(settings)`` builds an app bound to one database; for several worker processes,
``uvicorn --factory sync_server.app:create_app`` builds one per process from the environment.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from starlette.concurrency import run_in_threadpool

import core
from core.clock import Clock, HybridLogicalClock, SystemClock
from core.errors import GlowdeskError
from core.sync import SERVER_NODE, SyncProtocolError
from sync_server.audit import endpoints as audit_endpoints
from sync_server.clinics import endpoints as clinics_endpoints
from sync_server.db import SCHEMA_HEAD, Database, check_database
from sync_server.forms import endpoints as form_endpoints
from sync_server.jobs.worker import Worker
from sync_server.jobs.worker import start_thread as start_worker_thread
from sync_server.leads import endpoints as lead_endpoints
from sync_server.messaging import endpoints as messaging_endpoints
from sync_server.patients import endpoints as patient_endpoints
from sync_server.settings import Settings
from sync_server.sync import endpoints as sync_endpoints
from sync_server.sync.live import LiveHub
from sync_server.web import endpoints as web_endpoints
from sync_server.webhooks import endpoints as webhook_endpoints

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, with_worker: bool = False
) -> FastAPI:
    """``with_worker``: also run a job worker in a thread of this process (``serve --with-worker``,
    ``make run``, tests); it stops with the app."""
    settings = settings or Settings()
    # Fail at start-up, not on the first enrollment, when the secret key is missing.
    settings.ensure_secret_key()
    db = Database(settings)
    clock = clock or SystemClock()
    live = LiveHub(db, clock)

    worker: Worker | None = Worker(db, clock=clock, on_changes=live.notify) if with_worker else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await live.start()
        thread = start_worker_thread(worker) if worker is not None else None
        try:
            yield
        finally:
            if worker is not None and thread is not None:
                worker.stop()
                await run_in_threadpool(thread.join, 30)
            await live.stop()
            db.dispose()

    app = FastAPI(
        title="Glowdesk server",
        version=core.__version__,
        summary="Sync hub, outside-world integrations and patient pages of Glowdesk.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.clock = clock
    #: the server's own hybrid logical clock (server-owned facts it sets, e.g. tentative=False)
    app.state.hlc = HybridLogicalClock(SERVER_NODE, clock)
    app.state.live = live
    app.state.worker = worker
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
        expected = SCHEMA_HEAD
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
    api.include_router(messaging_endpoints.router)
    api.include_router(lead_endpoints.router)
    api.include_router(patient_endpoints.router)
    app.include_router(api)
    app.include_router(webhook_endpoints.router)
    app.include_router(form_endpoints.router)
    app.include_router(web_endpoints.router)
    return app


def install_error_handlers(app: FastAPI) -> None:
    """Translate errors at the edge: ``{"detail": <sentence for the user>, "code": <code>}``.

    Neither part contains patient data. A 401 says how to authenticate (``WWW-Authenticate``).
    Database errors are logged by class, SQLSTATE and constraint only: the driver's message can
    quote the offending values (PostgreSQL's ``DETAIL: Key (phone)=(...)``).
    """

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # The same shape as our own errors; the submitted values are not echoed back.
        errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid"}
        where = ".".join(str(part) for part in first["loc"][1:]) or "request"
        return JSONResponse(
            {"detail": f"The request is not valid: {where}: {first['msg']}.", "code": "invalid_request",
             "errors": errors},
            status_code=422,
        )

    @app.exception_handler(SQLAlchemyError)
    async def _database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        orig = exc.orig if isinstance(exc, DBAPIError) else None
        diag = getattr(orig, "diag", None)
        log.error(
            "database error on %s %s: %s sqlstate=%s constraint=%s", request.method, request.url.path,
            type(orig or exc).__name__, getattr(orig, "sqlstate", None), getattr(diag, "constraint_name", None),
        )
        return JSONResponse(
            {"detail": "The server could not complete this request; nothing was changed. Try again.",
             "code": "database_error"},
            status_code=500,
        )

    @app.exception_handler(SyncProtocolError)
    async def _sync_error(request: Request, exc: SyncProtocolError) -> JSONResponse:
        # core.sync.ErrorBody (code, message, details), plus the usual "detail" sentence
        body = exc.to_body().model_dump(mode="json")
        return JSONResponse({**body, "detail": exc.user_message}, status_code=exc.status)

    @app.exception_handler(GlowdeskError)
    async def _glowdesk_error(request: Request, exc: GlowdeskError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if exc.status >= 500:
            log.error("%s on %s %s", exc.code, request.method, request.url.path)
        body: dict[str, Any] = {"detail": exc.user_message, "code": exc.code}
        field = getattr(exc, "field", None)
        if field:  # a ValidationError naming what is wrong (the desktop marks that field)
            body["field"] = field
            body["details"] = {"field": field}
        return JSONResponse(body, status_code=exc.status, headers=headers)
