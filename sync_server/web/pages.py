"""Rendering a web page: a Jinja2 environment per context, and the one way to send a page.

A context (consent forms, booking, portal) makes one :class:`Pages` with its own template
folder; its templates ``{% extends "web/base.html" %}`` and fill the blocks ``title``,
``content`` (and optionally ``head``/``scripts``). :meth:`Pages.respond` renders a page with
what every page needs (the clinic's :class:`~.branding.Branding`, the language and its texts,
the CSP nonce, a CSRF token for its forms) and sends it with the security headers.

Templates autoescape everything; names and messages typed by people are never marked safe.
Scripts and styles are files under ``/assets/`` (cacheable, counted once per visit); a page
that needs a few inline lines gives them the ``nonce`` attribute.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse

from core.errors import NotFoundError
from sync_server.clinics import service as clinics
from sync_server.sync import repository as sync_repo
from sync_server.web import i18n, security
from sync_server.web.branding import Branding, from_settings

WEB_TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")


@lru_cache(maxsize=64)
def _asset_tag(name: str) -> str:
    path = STATIC / name
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else "0"


def asset_url(name: str) -> str:
    """``/assets/name?v=<hash>``: the URL changes with the file, so browsers may cache it long."""
    return f"/assets/{name}?v={_asset_tag(name)}"


def clinic_branding(session: Session, *, slug: str) -> Branding:
    """The clinic a public page names by slug (the transaction then works for it), or 404.

    Another clinic's slug, a mistyped one and a disabled one all answer the same way."""
    clinic = clinics.find_clinic(session, slug=slug)
    if clinic is None:
        raise NotFoundError("There is no such page.")
    row = sync_repo.get_row(session, clinic_id=clinic.id, entity="clinic", entity_id=clinic.id)
    settings = row.data.get("settings") if row is not None and isinstance(row.data, dict) else None
    return from_settings(clinic_id=clinic.id, slug=clinic.slug, name=clinic.name, timezone=clinic.timezone,
                         settings=settings if isinstance(settings, dict) else None)


def clinic_settings(session: Session, *, clinic_id: str) -> dict[str, Any]:
    """The clinic's synced settings object (empty when it has none)."""
    row = sync_repo.get_row(session, clinic_id=clinic_id, entity="clinic", entity_id=clinic_id)
    settings = row.data.get("settings") if row is not None and isinstance(row.data, dict) else None
    return dict(settings) if isinstance(settings, dict) else {}


def _csrf(request: Request) -> security.Csrf:
    state = request.app.state
    csrf: security.Csrf | None = getattr(state, "web_csrf", None)
    if csrf is None:
        csrf = state.web_csrf = security.Csrf(state.settings.ensure_secret_key())
    return csrf


def check_csrf(request: Request, submitted: str | None, *, purpose: str = "form", session_id: str = "") -> None:
    """Refuse (403) a post whose CSRF token is missing or not this browser's."""
    _csrf(request).check(request, submitted, purpose=purpose, session_id=session_id)


@dataclass(frozen=True)
class Page:
    """What a rendered page needs besides its own context (see :meth:`Pages.respond`)."""

    branding: Branding | None
    lang: str
    private: bool = True


class Pages:
    def __init__(self, templates: Path | None, catalogue: i18n.Catalogue | None = None) -> None:
        loaders = [FileSystemLoader(str(templates))] if templates is not None else []
        loaders.append(FileSystemLoader(str(WEB_TEMPLATES)))
        self.catalogue = catalogue or i18n.Catalogue()
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(["html", "htm", "xml"], default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, template: str, *, page: Page, nonce: str = "", csrf_token: str = "",
               context: Mapping[str, Any] | None = None, request: Request | None = None) -> str:
        lang = page.lang

        def t(key: str, **values: object) -> str:
            return self.catalogue.text(lang, key, **values)

        switch = []
        if request is not None:
            for code in i18n.LANGUAGES:
                url = request.url.include_query_params(lang=code)
                switch.append({"code": code, "name": i18n.NAMES[code], "current": code == lang,
                               "href": f"{url.path}?{url.query}"})
        return self.env.get_template(template).render(
            t=t, asset=asset_url, lang=lang, clinic=page.branding, nonce=nonce, csrf_token=csrf_token,
            csrf_field=security.CSRF_FIELD, languages=switch, **dict(context or {}),
        )

    def respond(self, request: Request, template: str, *, page: Page, status: int = 200,
                context: Mapping[str, Any] | None = None, csrf_purpose: str = "form", session_id: str = "",
                frame_ancestors: str = "'none'", headers: Mapping[str, str] | None = None) -> HTMLResponse:
        """Render ``template`` and send it with the security headers, a fresh nonce and a CSRF
        token (the cookie it is tied to is set when the browser has none)."""
        nonce = security.new_nonce()
        token, fresh = _csrf(request).token(request, purpose=csrf_purpose, session_id=session_id)
        body = self.render(template, page=page, nonce=nonce, csrf_token=token, context=context, request=request)
        response = HTMLResponse(body, status_code=status)
        response.headers.update(security.headers(request, nonce=nonce, private=page.private,
                                                 frame_ancestors=frame_ancestors))
        response.headers["Content-Language"] = page.lang
        if headers:
            response.headers.update(headers)
        if fresh is not None:
            security.set_csrf_cookie(request, response, fresh)
        if request.query_params.get("lang") in i18n.LANGUAGES:
            response.set_cookie(i18n.COOKIE, page.lang, max_age=365 * 86400, httponly=True,
                                secure=security.is_tls(request), samesite="lax", path="/")
        return response

    def forbidden(self, request: Request, *, page: Page) -> HTMLResponse:
        """The answer to a post whose CSRF token failed (403): reload and try again."""
        return self.message(request, page=page, status=403, title_key="forbidden_title", text_key="forbidden")

    def message(self, request: Request, *, page: Page, status: int, title_key: str, text_key: str) -> HTMLResponse:
        """A plain page saying one thing (not found, expired form, too large...)."""
        return self.respond(request, "web/message.html", page=page, status=status,
                            context={"title_key": title_key, "text_key": text_key})


#: the layout's own pages (errors before a context is known)
COMMON_PAGES = Pages(None)


def not_found(request: Request, *, lang: str | None = None) -> HTMLResponse:
    page = Page(branding=None, lang=lang or i18n.negotiate(request))
    return COMMON_PAGES.message(request, page=page, status=404, title_key="not_found_title", text_key="not_found")
