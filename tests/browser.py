"""Headless Chromium for the web pages' tests (DESIGN.md: Debian's chromium driven by Playwright,
never ``playwright install``), and axe-core for accessibility.

- :func:`launch` starts Debian's Chromium with the flags this machine needs;
- :func:`phone` / :func:`desktop` open a page of a phone's or a laptop's size;
- :func:`axe_violations` runs axe-core (installed from the npm registry by ``make``, into
  ``.venv/npm``) on the page and returns the serious and critical violations, each as
  ``"rule: target"`` lines, so an assertion shows what is wrong.

The fixtures ``browser`` and ``axe`` (tests/conftest.py) skip with a clear message when Chromium
or axe-core is not installed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / ".venv" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


@contextmanager
def launch() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def phone(browser: Any, **options: Any) -> Any:
    return browser.new_context(**{**PHONE, **options}).new_page()


def desktop(browser: Any, **options: Any) -> Any:
    return browser.new_context(**{**DESKTOP, **options}).new_page()


def axe_violations(page: Any, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """The page's accessibility violations of these impacts (WCAG 2.1 A and AA rules)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # evaluated through the DevTools protocol, so the page's CSP (no inline scripts) stays on
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate(
        """async () => JSON.stringify(await axe.run(document, {
               runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}))"""
    )
    found = []
    for violation in json.loads(result)["violations"]:
        if violation.get("impact") in impacts:
            for node in violation["nodes"]:
                found.append(f"{violation['id']}: {' '.join(map(str, node.get('target', [])))}")
    return found


def fits_width(page: Any) -> bool:
    """No horizontal scrolling: the page fits its viewport's width."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))
