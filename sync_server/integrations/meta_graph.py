"""The Meta Graph API through the real ``facebook_business`` SDK, pointed at
``GLOWDESK_META_GRAPH_URL`` by setting ``GRAPH`` on *our* ``FacebookSession`` instance (the
class attribute, which other code may rely on, is left alone).

Graph errors: 100 (no such object / bad parameter), 190 (token expired or revoked), 10 / 200+
(permission) are permanent; 1, 2, 4, 17, 32, 341, 613 (temporary, rate limits) and 5xx are
retryable.

Instagram DMs (:meth:`GraphClient.send_message`) go out as Meta's Instagram Messaging API takes
them: ``POST /{page-id}/messages`` with ``recipient={"id": <igsid>}`` and ``message={"text": ...}``
under the page token; their own errors (10 / 2534022 outside the 24-hour window, 100 / 2534014
no such user, 551 unavailable) get sentences of their own (:func:`dm_error_reason`).
:meth:`GraphClient.sent_messages` reads the conversation back (``GET /{page-id}/conversations?
platform=instagram&user_id=...``), which is how a send whose answer was lost is found again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
#: Graph's (code, subcode) for a DM outside the 24-hour messaging window
OUTSIDE_WINDOW = (10, 2534022)
#: Graph's (code, subcode) for a recipient Instagram does not know
NO_SUCH_USER = (100, 2534014)
DM_MAX_CHARS = 1000


@dataclass(frozen=True)
class SentMessage:
    message_id: str
    recipient_id: str


@dataclass(frozen=True)
class ConversationMessage:
    message_id: str
    text: str
    from_id: str
    created: datetime | None


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

    def send_message(self, account_id: str, *, recipient_id: str, text: str) -> SentMessage:
        """An Instagram DM from the clinic's account (``POST /{page-id}/messages``)."""
        def run() -> SentMessage:
            answer = self.api.call("POST", (account_id, "messages"), params={
                "recipient": {"id": recipient_id}, "message": {"text": text}}).json()
            return SentMessage(str(answer["message_id"]), str(answer.get("recipient_id") or recipient_id))
        sent: SentMessage = _call(run, dm_error_reason)
        return sent

    def sent_messages(self, account_id: str, *, user_id: str) -> list[ConversationMessage]:
        """The newest messages of the clinic's Instagram conversation with ``user_id``, both ways."""
        def run() -> list[ConversationMessage]:
            answer = self.api.call("GET", (account_id, "conversations"), params={
                "platform": "instagram", "user_id": user_id,
                "fields": "messages.limit(50){id,message,created_time,from}"}).json()
            out = []
            for conversation in answer.get("data") or []:
                for item in (conversation.get("messages") or {}).get("data") or []:
                    created = item.get("created_time")
                    out.append(ConversationMessage(
                        str(item.get("id")), str(item.get("message") or ""), str((item.get("from") or {}).get("id")),
                        datetime.strptime(created, "%Y-%m-%dT%H:%M:%S%z") if created else None))
            return out
        found: list[ConversationMessage] = _call(run)
        return found


def dm_error_reason(code: int | None, subcode: int | None) -> str | None:
    """What staff read when Meta refuses an Instagram DM (None: the general Graph sentence)."""
    if (code, subcode) == OUTSIDE_WINDOW:
        return ("Instagram only allows replies within 24 hours of the client's last message, so this DM was not "
                "delivered; text the client instead, or reply when they write again.")
    if (code, subcode) == NO_SUCH_USER:
        return ("Instagram cannot find this client's account (it may have been deleted or deactivated), so the DM "
                "was not delivered.")
    if code == 551:
        return "This person is not available on Instagram right now (they may have blocked or restricted the clinic)."
    if code == 190:
        return ("Meta refused the clinic's page token (expired or revoked), so the DM was not sent; an administrator "
                "sets a new one with integrations set.")
    if code in (10, 200) or (code is not None and 200 <= code < 300):
        return ("The clinic's Meta app lacks the permission to send Instagram messages (instagram_manage_messages, "
                "pages_messaging), so the DM was not sent.")
    return None


def _call(fn: Any, reasons: Callable[[int | None, int | None], str | None] | None = None) -> Any:
    try:
        return fn()
    except StopIteration:
        raise
    except FacebookRequestError as exc:
        code = exc.api_error_code()
        subcode = exc.api_error_subcode()
        status = exc.http_status()
        permanent = not (code in _RETRYABLE or (status is not None and status >= 500) or exc.api_transient_error())
        if (code, subcode) == OUTSIDE_WINDOW:
            permanent = True  # code 10 is otherwise a permission error: permanent either way
        specific = reasons(code, subcode) if reasons is not None and permanent else None
        provider = f"{code}/{subcode}" if code is not None and subcode else str(code or status)
        if specific is not None:
            raise TransportError(specific, permanent=True, provider_code=provider[:12]) from None
        if code == 190:
            reason = "Meta refused the clinic's page token (expired or revoked); set a new one with integrations set."
        elif code == 100:
            reason = "Meta says this object does not exist or cannot be read with the clinic's page token."
        elif code in (10, 200) or (code is not None and 200 <= code < 300):
            reason = "The clinic's page token lacks a permission Meta requires (leads_retrieval, pages_messaging...)."
        else:
            reason = f"Meta's Graph API answered error {code or status}."
        raise TransportError(reason, permanent=permanent, provider_code=provider[:12]) from None
    except (requests.RequestException, FacebookError):
        raise TransportError("Meta's Graph API could not be reached; this will be retried.", permanent=False) from None
