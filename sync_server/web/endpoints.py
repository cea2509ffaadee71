"""Shared files of the web pages: ``/assets/{name}`` (CSS and scripts every page may use) and
``/brand/{clinic_slug}/logo`` (the clinic's logo from its settings)."""

from __future__ import annotations

import hashlib
import mimetypes
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from core.errors import NotFoundError
from sync_server.db import Database
from sync_server.deps import get_database
from sync_server.web import pages
from sync_server.web.branding import decode_logo

router = APIRouter(tags=["web pages"], include_in_schema=False)
DatabaseDep = Annotated[Database, Depends(get_database)]
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".svg": "image/svg+xml"}


@lru_cache(maxsize=64)
def _asset(name: str) -> tuple[bytes, str, str] | None:
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    path = pages.STATIC / name
    if not path.is_file():
        return None
    body = path.read_bytes()
    kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return body, kind, hashlib.sha256(body).hexdigest()[:16]


@router.get("/assets/{name}")
async def asset(name: str, request: Request) -> Response:
    found = _asset(name)
    if found is None:
        return pages.not_found(request)
    body, kind, tag = found
    if request.headers.get("if-none-match") == f'"{tag}"':
        return Response(status_code=304)
    return Response(body, media_type=kind, headers={
        "Cache-Control": "public, max-age=31536000, immutable", "ETag": f'"{tag}"',
        "X-Content-Type-Options": "nosniff"})


@router.get("/brand/{clinic_slug}/logo")
async def logo(clinic_slug: str, request: Request, db: DatabaseDep) -> Response:
    def read() -> tuple[bytes, str] | None:
        with db.transaction(write=False, app_role=True) as session:
            try:
                branding = pages.clinic_branding(session, slug=clinic_slug)
            except NotFoundError:
                return None
            data = pages.clinic_settings(session, clinic_id=branding.clinic_id).get("branding")
            value = data.get("logo") if isinstance(data, dict) else None
            return decode_logo(value) if isinstance(value, str) else None

    found = await run_in_threadpool(read)
    if found is None:
        return pages.not_found(request)
    content, kind = found
    return Response(content, media_type=kind, headers={
        "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"})

