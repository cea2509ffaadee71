"""The hosted web lead form: page, snippet, form-encoded and JSON posts, spam kept for review."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sync_server.db import Database
from sync_server.jobs.worker import Worker
from sync_server.webhooks.models import WebhookEvent

from .conftest import ClinicRef, World
from .outside import outside, rows, server, table, worker  # noqa: F401 - fixtures

UTMS = {"utm_source": "facebook", "utm_medium": "paid_social", "utm_campaign": "120210003",
        "utm_content": "120210001", "utm_term": "botox near me", "fbclid": "IwAR0abc", "gclid": "Cj0KCQ",
        "gbraid": "0AAAAA", "wbraid": "CkQKCQ"}
JANE = {"first_name": "Jane", "last_name": "Doe", "phone": "(415) 555-0134", "email": "jane@example.com",
        "service_interest": "Lip filler", "message": "Saturday mornings work best", "sms_consent": "1"}


@pytest.fixture
def glow(world: World) -> ClinicRef:
    return world.clinic("glow", "Glow Med Spa")


def test_the_page_carries_attribution_in_hidden_fields_escaped(server: TestClient, glow: ClinicRef) -> None:  # noqa: F811
    page = server.get("/f/glow/lead", params={**UTMS, "utm_campaign": '"><script>alert(1)</script>'})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert 'name="viewport"' in html and "Glow Med Spa" in html
    assert '<input type="hidden" name="gclid" value="Cj0KCQ">' in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'name="website"' in html  # the honeypot
    assert server.get("/f/nope/lead").status_code == 404


def test_the_snippet_builds_an_iframe_of_the_form(server: TestClient, glow: ClinicRef) -> None:  # noqa: F811
    js = server.get("/f/glow/embed.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("application/javascript")
    assert '"https://glowdesk.test"' in js.text and '"/f/"' in js.text and "gbraid" in js.text
    assert server.get("/f/nope/embed.js").status_code == 404


def test_a_form_post_becomes_a_lead_with_its_attribution(
    db: Database, server: TestClient, glow: ClinicRef, worker: Worker,  # noqa: F811
) -> None:
    landing = "https://glowmedspa.example/offers/lips?utm_source=facebook"
    response = server.post("/f/glow/lead", data={**JANE, **UTMS, "landing_page": landing,
                                                 "referrer": "https://l.facebook.com/", "submission_id": "s-1"})
    assert response.status_code == 200 and "Thank you" in response.text
    worker.drain()
    [lead] = rows(db, glow, "lead")
    assert lead["source"] == "web_form" and lead["status"] == "new"
    assert {k: lead[k] for k in UTMS} == UTMS
    assert (lead["landing_page"], lead["referrer"]) == (landing, "https://l.facebook.com/")
    assert (lead["service_interest"], lead["message"]) == ("Lip filler", "Saturday mornings work best")
    [patient] = rows(db, glow, "patient")
    assert (patient["first_name"], patient["phone"]) == ("Jane", "+14155550134")
    assert patient["consents"]["transactional_sms"]["granted"] is True and "marketing_sms" not in patient["consents"]
    assert patient["first_touch"]["utm_campaign"] == "120210003"


def test_a_json_post_and_its_repeat_make_one_lead(
    db: Database, server: TestClient, glow: ClinicRef, worker: Worker,  # noqa: F811
) -> None:
    body = {**JANE, "sms_consent": True, "submission_id": "same-click", "gclid": "Cj0KCQ"}
    for _ in range(2):
        response = server.post("/f/glow/lead", json=body, headers={"Origin": "https://glowmedspa.example"})
        assert response.status_code == 200 and response.json() == {"ok": True}
        assert response.headers["access-control-allow-origin"] == "*"
    worker.drain()
    [lead] = rows(db, glow, "lead")
    assert lead["gclid"] == "Cj0KCQ"
    preflight = server.options("/f/glow/lead", headers={"Origin": "https://x.example",
                                                        "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204


def test_a_bad_phone_is_shown_back_and_nothing_is_stored(
    db: Database, server: TestClient, glow: ClinicRef,  # noqa: F811
) -> None:
    response = server.post("/f/glow/lead", data={**JANE, "phone": "12", "utm_source": "google"})
    assert response.status_code == 422
    assert "phone number does not look right" in response.text
    assert 'value="Jane"' in response.text and 'name="utm_source" value="google"' in response.text
    assert server.post("/f/glow/lead", json={"first_name": "Jane"}).status_code == 422
    assert table(db, glow, WebhookEvent) == []


def test_spam_is_kept_for_review_never_dropped(
    db: Database, server: TestClient, glow: ClinicRef, worker: Worker,  # noqa: F811
) -> None:
    bot = server.post("/f/glow/lead", data={**JANE, "website": "http://spam.example"})
    assert bot.status_code == 200 and "Thank you" in bot.text  # a bot learns nothing
    for n in range(6):  # the same address again and again: past five posts in ten minutes, held for review
        server.post("/f/glow/lead", data={**JANE, "phone": f"(415) 555-01{n:02d}", "email": f"p{n}@x.com",
                                          "first_name": f"P{n}"})
    worker.drain()
    flags = sorted((e.flag or "") for e in table(db, glow, WebhookEvent))
    assert flags == ["", "", "", "", "honeypot", "rate_limited", "rate_limited"]
    leads = rows(db, glow, "lead")
    held = [lead for lead in leads if lead["status"] == "spam"]
    assert len(leads) == 7 and len(held) == 3 and all(lead["patient_id"] is None for lead in held)
    entries = [a for a in rows(db, glow, "activity") if a["type"] == "lead.received" and "flagged" in a["payload"]]
    assert sorted(a["payload"]["flagged"] for a in entries) == ["honeypot", "rate_limited", "rate_limited"]
    assert all(a["payload"]["contact"]["phone"] for a in entries)  # staff can still reach a real person
    assert len(rows(db, glow, "patient")) == 4
