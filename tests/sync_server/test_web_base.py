"""The web pages' common ground: layout, languages, security headers, CSRF, the clinic's look,
and accessibility in headless Chromium on a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from starlette.concurrency import run_in_threadpool

from core.clock import HybridLogicalClock, SystemClock
from core.errors import NotFoundError
from core.sync import SERVER_NODE
from sync_server.app import create_app
from sync_server.db import Database
from sync_server.records.service import ServerWrites
from sync_server.settings import Settings
from sync_server.web import branding, i18n, pages, security
from sync_server.web import service as web_service
from tests.standins.server import StandinServer, free_port

from .conftest import ClinicRef, World

CATALOGUE = i18n.Catalogue({
    "en": {"title": "Your details", "name": "Your name", "send": "Send", "thanks": "Thank you, {name}!"},
    "es": {"title": "Sus datos", "name": "Su nombre", "send": "Enviar", "thanks": "¡Gracias, {name}!"},
})
PAGE = """{% extends "web/base.html" %}
{% block title %}{{ t('title') }}{% endblock %}
{% block content %}
<h1>{{ t('title') }}</h1>
{% if thanks %}<p class="notice" role="status">{{ t('thanks', name=thanks) }}</p>{% endif %}
<form method="post">
  <input type="hidden" name="{{ csrf_field }}" value="{{ csrf_token }}">
  <label for="name">{{ t('name') }}</label><input id="name" name="name" autocomplete="name">
  <button type="submit">{{ t('send') }}</button>
</form>
{% endblock %}
"""


def page_app(settings: Settings, templates: Path) -> FastAPI:
    """The real server plus one page made the way every context makes its pages."""
    (templates / "test_page.html").write_text(PAGE, encoding="utf-8")
    app = create_app(settings)
    views = pages.Pages(templates, CATALOGUE)
    db: Database = app.state.db

    def look(slug: str) -> branding.Branding:
        with db.transaction(write=False, app_role=True) as session:
            return pages.clinic_branding(session, slug=slug)

    @app.get("/t/{slug}", response_class=HTMLResponse)
    async def show(slug: str, request: Request) -> HTMLResponse:
        try:
            found = await run_in_threadpool(look, slug)
        except NotFoundError:
            return pages.not_found(request)
        page = pages.Page(found, i18n.negotiate(request, default=found.language))
        return views.respond(request, "test_page.html", page=page, context={"thanks": None})

    @app.post("/t/{slug}", response_class=HTMLResponse)
    async def post(slug: str, request: Request) -> HTMLResponse:
        found = await run_in_threadpool(look, slug)
        page = pages.Page(found, i18n.negotiate(request, default=found.language))
        form = await request.form()
        try:
            pages.check_csrf(request, str(form.get(security.CSRF_FIELD) or ""))
        except security.CsrfRefused:
            return views.forbidden(request, page=page)
        return views.respond(request, "test_page.html", page=page, context={"thanks": form.get("name")})

    return app


@pytest.fixture
def web(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(page_app(settings, tmp_path), base_url="https://testserver") as client:
        yield client


def set_look(db: Database, clinic: ClinicRef, **kw: Any) -> None:
    with db.transaction() as session:
        from sync_server.clinics import service as clinics

        clinics.open_clinic(session, slug=clinic.slug)
        writes = ServerWrites(session, clinic_id=clinic.id, now=SystemClock().now(),
                              hlc=HybridLogicalClock(SERVER_NODE))
        web_service.set_branding(writes, **kw)


def token_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_a_page_carries_the_security_headers_and_a_fresh_nonce(web: TestClient, world: World) -> None:
    world.clinic("glow", "Glow Med Spa")
    first, second = web.get("/t/glow"), web.get("/t/glow")
    assert first.status_code == 200
    csp = first.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert first.headers["x-frame-options"] == "DENY"
    assert first.headers["cache-control"] == "no-store"
    assert first.headers["strict-transport-security"].startswith("max-age=")  # came over TLS
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce and f'nonce="{nonce.group(1)}"' in first.text
    assert nonce.group(1) not in second.headers["content-security-policy"]
    cookie = first.headers["set-cookie"]
    assert "glowdesk_csrf=" in cookie and "HttpOnly" in cookie and "Secure" in cookie


def test_no_hsts_over_plain_http(settings: Settings, tmp_path: Path, world: World) -> None:
    world.clinic("glow")
    with TestClient(page_app(settings, tmp_path)) as client:
        assert "strict-transport-security" not in client.get("/t/glow").headers


def test_a_post_without_the_browsers_csrf_token_is_refused(web: TestClient, world: World) -> None:
    world.clinic("glow")
    token = token_of(web.get("/t/glow").text)
    assert web.post("/t/glow", data={"name": "Ana"}).status_code == 403
    assert web.post("/t/glow", data={"name": "Ana", "csrf_token": token + "x"}).status_code == 403
    other = TestClient(web.app, base_url="https://testserver")  # another browser, its own cookie
    other.get("/t/glow")
    assert other.post("/t/glow", data={"name": "Ana", "csrf_token": token}).status_code == 403
    ok = web.post("/t/glow", data={"name": "Ana", "csrf_token": token})
    assert ok.status_code == 200 and "Thank you, Ana!" in ok.text


def test_what_people_typed_is_escaped(web: TestClient, world: World) -> None:
    world.clinic("glow", 'Glow <script>alert(1)</script> "Spa"')
    page = web.get("/t/glow")
    token = token_of(page.text)
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    sent = web.post("/t/glow", data={"name": "<img src=x onerror=alert(1)>", "csrf_token": token})
    assert "<img src=x" not in sent.text and "&lt;img src=x onerror=alert(1)&gt;" in sent.text


def test_the_visitor_reads_their_language(web: TestClient, world: World, db: Database) -> None:
    clinic = world.clinic("glow")
    assert "Your details" in web.get("/t/glow", headers={"Accept-Language": "fr-FR,en;q=0.5"}).text
    spanish = web.get("/t/glow", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es">' in spanish.text and "Sus datos" in spanish.text
    assert spanish.headers["content-language"] == "es"
    chosen = web.get("/t/glow?lang=en", headers={"Accept-Language": "es"})  # the switch wins and is kept
    assert "Your details" in chosen.text
    assert "Your details" in web.get("/t/glow", headers={"Accept-Language": "es"}).text
    set_look(db, clinic, language="es")
    fresh = TestClient(web.app, base_url="https://testserver")
    assert "Sus datos" in fresh.get("/t/glow").text  # the clinic's default when the browser says nothing


def test_every_text_exists_in_both_languages() -> None:
    assert set(i18n.COMMON["en"]) == set(i18n.COMMON["es"])
    assert CATALOGUE.text("es", "thanks", name="Ana") == "¡Gracias, Ana!"
    with pytest.raises(KeyError):
        CATALOGUE.text("es", "no-such-text")


def test_an_unknown_clinic_and_an_unknown_asset_are_plain_404s(web: TestClient, world: World) -> None:
    world.clinic("glow")
    missing = web.get("/t/nope")
    assert missing.status_code == 404 and "There is nothing here" in missing.text
    assert web.get("/assets/../secret_key").status_code == 404
    assert web.get("/assets/nothing.css").status_code == 404
    css = web.get(pages.asset_url("site.css"))
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "immutable" in css.headers["cache-control"]


def test_the_clinics_colour_is_made_readable_and_its_logo_served(web: TestClient, world: World, db: Database) -> None:
    clinic = world.clinic("glow", "Glow Med Spa")
    set_look(db, clinic, color="#f7c8dc",  # a pale pink: white text on it would be unreadable
             logo=branding.logo_data_url(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"))
    html = web.get("/t/glow").text
    accent = re.search(r"--accent: (#[0-9a-f]{6})", html)
    assert accent and accent.group(1) != "#f7c8dc"
    assert branding.contrast(accent.group(1), "#ffffff") >= 4.5
    assert '<img src="/brand/glow/logo" alt="Glow Med Spa"' in html
    logo = web.get("/brand/glow/logo")
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/svg+xml"
    assert "sandbox" in logo.headers["content-security-policy"]
    with pytest.raises(Exception, match="scripts"):
        branding.logo_data_url(b"<svg onload=alert(1)>", "image/svg+xml")
    with pytest.raises(Exception, match="hex colour"):
        set_look(db, clinic, color="pink")


@pytest.fixture
def live_site(settings: Settings, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    app = page_app(settings, tmp_path)
    with StandinServer(app, port=port, lifespan="on"):
        yield f"http://127.0.0.1:{port}"


def test_the_page_on_a_phone_is_accessible_and_its_form_posts(live_site: str, world: World, browser: Any,
                                                               axe: Any) -> None:
    from tests.browser import fits_width, phone

    world.clinic("glow", "Glow Med Spa")
    page = phone(browser, locale="es-ES")
    page.goto(f"{live_site}/t/glow")
    assert page.locator("h1").inner_text() == "Sus datos"
    assert fits_width(page)
    assert axe(page) == []
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip"
    page.get_by_label("Su nombre").fill("Ana")
    page.get_by_role("button", name="Enviar").click()
    page.get_by_text("¡Gracias, Ana!").wait_for(timeout=10_000)
    page.context.close()


def test_the_accessibility_check_can_fail(browser: Any, axe: Any) -> None:
    from tests.browser import phone

    page = phone(browser)
    page.set_content('<html lang="en"><title>x</title><main><input name="q">'
                     '<p style="color:#bbb;background:#fff">pale</p></main></html>')
    found = axe(page)
    assert any(v.startswith("label:") for v in found)
    assert any(v.startswith("color-contrast:") for v in found)
    page.context.close()
