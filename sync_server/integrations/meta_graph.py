"""The Meta Graph API through the real ``facebook_business`` SDK, pointed at
``GLOWDESK_META_GRAPH_URL`` by setting ``GRAPH`` on *our* ``FacebookSession`` instance (the
class attribute, which other code may rely on, is left alone).

Graph errors: 100 (no such object / bad parameter), 190 (token expired or revoked), 10 / 200+
(permission) are permanent; 1, 2, 4, 17, 32, 341, 613 (temporary, rate limits) and 5xx are
retryable.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import requests
from facebook_business.adobjects.lead import Lead
from facebook_business.adobjects.leadgenform import LeadgenForm
from facebook_business.adobjects.page import Page
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookError, FacebookRequestError
from facebook_business.session import FacebookSession

from sync_server.integrations.transport import TransportError

LEAD_FIELDS = ["id", "created_time", "field_data", "form_id", "ad_id", "adset_id", "campaign_id", "is_organic",
               "platform", "custom_disclaimer_responses"]
_RETRYABLE = frozenset({1, 2, 4, 17, 32, 341, 613})


class GraphClient:
    def __init__(self, base_url: str, *, access_token: str, app_secret: str | None = None,
                 timeout: float = 15.0) -> None:
        session = FacebookSession(access_token=access_token, app_secret=app_secret, timeout=timeout)
        session.GRAPH = base_url.rstrip("/")
        self.api = FacebookAdsApi(session)
        self._session = session

    def close(self) -> None:
        self._session.requests.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def lead(self, leadgen_id: str) -> dict[str, Any]:
        lead: dict[str, Any] = _call(lambda: dict(Lead(leadgen_id, api=self.api).api_get(fields=LEAD_FIELDS)
                                                 .export_all_data()))
        return lead

    def page_forms(self, page_id: str) -> list[str]:
        def run() -> list[str]:
            return [str(f["id"]) for f in Page(page_id, api=self.api).get_lead_gen_forms(fields=["id", "status"])
                    if f.get("status", "ACTIVE") == "ACTIVE"]
        forms: list[str] = _call(run)
        return forms

    def form_leads(self, form_id: str, *, since: datetime | None = None) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {}
        if since is not None:
            params["filtering"] = [{"field": "time_created", "operator": "GREATER_THAN",
                                    "value": int(since.timestamp())}]
        cursor = _call(lambda: LeadgenForm(form_id, api=self.api).get_leads(fields=["id", "created_time"],
                                                                            params=params))
        iterator = iter(cursor)
        while True:
            try:
                item = _call(lambda: next(iterator))
            except StopIteration:
                return
            yield dict(item.export_all_data())

    def profile(self, user_id: str) -> dict[str, Any]:
        """An Instagram user's ``username`` and ``name`` (``GET /{igsid}?fields=username,name``)."""
        profile: dict[str, Any] = _call(
            lambda: dict(self.api.call("GET", (user_id,), params={"fields": "username,name"}).json()))
        return profile


def _call(fn: Any) -> Any:
    try:
        return fn()
    except StopIteration:
        raise
    except FacebookRequestError as exc:
        code = exc.api_error_code()
        status = exc.http_status()
        permanent = not (code in _RETRYABLE or (status is not None and status >= 500) or exc.api_transient_error())
        if code == 190:
            reason = "Meta refused the clinic's page token (expired or revoked); set a new one with integrations set."
        elif code == 100:
            reason = "Meta says this object does not exist or cannot be read with the clinic's page token."
        elif code in (10, 200) or (code is not None and 200 <= code < 300):
            reason = "The clinic's page token lacks a permission Meta requires (leads_retrieval, pages_messaging...)."
        else:
            reason = f"Meta's Graph API answered error {code or status}."
        raise TransportError(reason, permanent=permanent, provider_code=str(code or status)) from None
    except (requests.RequestException, FacebookError):
        raise TransportError("Meta's Graph API could not be reached; this will be retried.", permanent=False) from None
