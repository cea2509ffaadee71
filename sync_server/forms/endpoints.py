"""Public web lead form pages (no device auth: anyone on the internet may post a lead).

- ``GET /f/{clinic_slug}/lead``: the hosted, mobile-friendly form (Jinja2, autoescaped); UTM
  parameters, click ids, landing page and referrer in the query string become hidden fields.
- ``GET /f/{clinic_slug}/embed.js``: the snippet a clinic puts on its website (an iframe of
  the form that carries the visitor's attribution).
- ``POST /f/{clinic_slug}/lead``: form-encoded (the page) or JSON (``fetch``); stored in the
  inbox and processed by a job like any webhook. Answers the thank-you page, or
  ``{"ok": true}``; cross-origin posts are allowed (CORS) for sites that post JSON themselves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError as PydanticValidationError
from starlette.concurrency import run_in_threadpool

from core.errors import NotFoundError, ValidationError
from sync_server.db import Database
from sync_server.deps import NowDep, get_database
from sync_server.forms import service
from sync_server.forms.schemas import ATTRIBUTION_FIELDS, LeadSubmission

router = APIRouter(prefix="/f", tags=["web forms"])
DatabaseDep = Annotated[Database, Depends(get_database)]

_templates = Environment(
    loader=FileSystemLoader(str(Path(__file__).with_name("templates"))),
    autoescape=select_autoescape(["html", "htm", "xml"], default_for_string=True),
)
_CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
         "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "86400"}
SERVICES = ("Botox / neuromodulators", "Dermal fillers", "Lip filler", "Laser hair removal", "Skin treatments",
            "Body contouring", "Wellness / IV therapy", "Not sure yet")
MAX_FORM_BYTES = 64 * 1024


def _clinic_name(db: Database, slug: str) -> tuple[str, str]:
    with db.transaction(write=False, app_role=True) as session:
        clinic = service.open_form(session, slug=slug)
        return clinic.name, clinic.region


def _not_found() -> HTMLResponse:
    return HTMLResponse("<!doctype html><title>Not found</title><p>There is no such form.</p>", status_code=404)


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_templates.get_template(name).render(**context), status_code=status,
                        headers={"Cache-Control": "no-store"})


@router.get("/{clinic_slug}/lead", response_class=HTMLResponse)
async def lead_form(clinic_slug: str, request: Request, db: DatabaseDep) -> HTMLResponse:
    """The hosted lead form."""
    try:
        name, _ = await run_in_threadpool(_clinic_name, db, clinic_slug)
    except NotFoundError:
        return _not_found()
    query = request.query_params
    hidden = {k: query.get(k, "")[:2000] for k in ATTRIBUTION_FIELDS}
    hidden["submission_id"] = ""
    embedded = query.get("embed") == "1"
    if embedded:
        hidden["embed"] = "1"
    return _page("lead_form.html", clinic_name=name, action=f"/f/{clinic_slug}/lead", hidden=hidden,
                 values={}, services=SERVICES, embedded=embedded, error=None)


@router.get("/{clinic_slug}/embed.js")
async def embed_js(clinic_slug: str, request: Request, db: DatabaseDep) -> Response:
    """The snippet for the clinic's own website."""
    try:
        name, _ = await run_in_threadpool(_clinic_name, db, clinic_slug)
    except NotFoundError:
        return Response("/* no such form */", status_code=404, media_type="application/javascript")
    base = request.app.state.settings.public_url.rstrip("/")
    body = _templates.get_template("embed.js").render(base=base, slug=clinic_slug, clinic_name=name)
    return Response(body, media_type="application/javascript",
                    headers={"Cache-Control": "public, max-age=300", **_CORS})


@router.options("/{clinic_slug}/lead", include_in_schema=False)
async def lead_preflight(clinic_slug: str) -> Response:
    return Response(status_code=204, headers=_CORS)


@router.post("/{clinic_slug}/lead")
async def submit_lead(clinic_slug: str, request: Request, db: DatabaseDep, now: NowDep) -> Response:
    """A submission: form-encoded or JSON. Spam is kept, flagged for review, never dropped."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return JSONResponse({"detail": "This form is too large.", "code": "payload_too_large"}, 413, headers=_CORS)
    wants_json = "application/json" in request.headers.get("content-type", "")
    try:
        if wants_json:
            raw: Any = json.loads(await request.body() or b"{}")
            if not isinstance(raw, dict):
                raise ValueError
        else:
            raw = dict((await request.form()).items())
        submission = LeadSubmission.model_validate(raw)
    except (ValueError, PydanticValidationError):
        return JSONResponse({"detail": "The form could not be read.", "code": "invalid_request"}, 422, headers=_CORS)
    embedded = raw.get("embed") == "1" if isinstance(raw, dict) else False
    address = request.client.host if request.client else None
    secret_key = request.app.state.settings.ensure_secret_key()

    def store() -> tuple[str, service.Accepted]:
        with db.transaction(write=True, app_role=True) as session:
            clinic = service.open_form(session, slug=clinic_slug)
            return clinic.name, service.accept(session, clinic=clinic, submission=submission, address=address,
                                               secret_key=secret_key, now=now)

    try:
        name, _accepted = await run_in_threadpool(store)
    except NotFoundError:
        return _not_found() if not wants_json else JSONResponse(
            {"detail": "There is no such form.", "code": "not_found"}, 404, headers=_CORS)
    except ValidationError as exc:
        if wants_json:
            return JSONResponse({"detail": exc.user_message, "code": exc.code, "field": exc.field}, 422,
                                headers=_CORS)
        name, _ = await run_in_threadpool(_clinic_name, db, clinic_slug)
        hidden = {k: getattr(submission, k) for k in ATTRIBUTION_FIELDS}
        hidden["submission_id"] = submission.submission_id
        return _page("lead_form.html", 422, clinic_name=name, action=f"/f/{clinic_slug}/lead", hidden=hidden,
                     values=submission.model_dump(), services=SERVICES, embedded=embedded, error=exc.user_message)
    if wants_json:
        return JSONResponse({"ok": True}, headers=_CORS)
    return _page("thanks.html", clinic_name=name, embedded=embedded)
