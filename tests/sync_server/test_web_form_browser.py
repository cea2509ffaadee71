"""The web lead form in headless Chromium (playwright): a person fills the hosted page, and a
visitor of the clinic's own site fills the embedded one; the lead keeps their attribution."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from sync_server.app import create_app
from sync_server.db import Database
from sync_server.settings import Settings
from tests.standins.server import StandinServer, free_port

from .conftest import ClinicRef, World
from .outside import rows


@pytest.fixture
def site(settings: Settings) -> Iterator[str]:
    """A real server (with its job worker thread) whose public URL is its own address."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(settings.model_copy(update={"public_url": url}), with_worker=True)
    with StandinServer(app, port=port, lifespan="on"):
        yield url
    app.state.live.close_threadsafe()


def wait_for_leads(db: Database, clinic: ClinicRef, n: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = rows(db, clinic, "lead")
        if len(found) >= n or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def fill(form: Any) -> None:
    form.get_by_label("First name").fill("Maya")
    form.get_by_label("Last name").fill("Lopez")
    form.get_by_label("Mobile phone").fill("(415) 555-0177")
    form.get_by_label("Email").fill("maya@example.com")
    form.get_by_label("I'm interested in").select_option("Laser hair removal")
    form.get_by_label("Text me about my request").check()
    form.get_by_role("button", name="Send").click()


def test_a_visitor_fills_the_hosted_form_on_a_phone(site: str, browser: Any, db: Database, world: World) -> None:
    clinic = world.clinic("glow", "Glow Med Spa")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    landing = (f"{site}/f/glow/lead?utm_source=facebook&utm_medium=paid_social&utm_campaign=120210003"
               "&utm_content=120210001&fbclid=IwAR0xyz")
    page.goto(landing)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits a phone screen
    fill(page)
    page.get_by_text("Thank you!").wait_for(timeout=10_000)
    [lead] = wait_for_leads(db, clinic)
    assert (lead["utm_source"], lead["utm_medium"], lead["utm_campaign"], lead["utm_content"], lead["fbclid"]) == (
        "facebook", "paid_social", "120210003", "120210001", "IwAR0xyz")
    assert lead["landing_page"] == landing and lead["service_interest"] == "Laser hair removal"
    [patient] = rows(db, clinic, "patient")
    assert (patient["first_name"], patient["phone"]) == ("Maya", "+14155550177")
    context.close()


def test_the_embedded_form_carries_the_clinic_sites_attribution(site: str, browser: Any, db: Database,
                                                                world: World) -> None:
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    clinic = world.clinic("glow", "Glow Med Spa")
    html = (f"<!doctype html><html><body><h1>Lip filler offer</h1><div data-glowdesk-form></div>"
            f"<script src=\"{site}/f/glow/embed.js\" async></script></body></html>")
    # The clinic's own website: another origin (a browser lets a site on the internet load
    # scripts from loopback only from a secure context, so it is served on loopback too).
    clinic_site = Starlette(routes=[Route("/offers/lips", lambda request: HTMLResponse(html))])
    with StandinServer(clinic_site) as website:
        host = website.url.replace("127.0.0.1", "localhost")
        landing = f"{host}/offers/lips?utm_source=google&utm_medium=cpc&utm_campaign=987&gclid=Cj0KCQiA&wbraid=WB1"
        page = browser.new_page()
        page.goto(landing, referer="https://www.google.com/")
        frame = page.frame_locator("iframe[title^='Request a consultation']")
        fill(frame)
        frame.get_by_text("Thank you!").wait_for(timeout=10_000)
    [lead] = wait_for_leads(db, clinic)
    assert (lead["utm_source"], lead["utm_medium"], lead["utm_campaign"], lead["gclid"], lead["wbraid"]) == (
        "google", "cpc", "987", "Cj0KCQiA", "WB1")
    assert lead["landing_page"] == landing
    assert lead["referrer"] == "https://www.google.com/"
