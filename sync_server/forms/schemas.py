"""What a web lead form submits (form-encoded or JSON)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

ATTRIBUTION_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "fbclid", "gclid",
                      "gbraid", "wbraid", "landing_page", "referrer")


class LeadSubmission(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    first_name: str = Field(default="", max_length=120)
    last_name: str = Field(default="", max_length=120)
    name: str = Field(default="", max_length=240)
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=254)
    service_interest: str = Field(default="", max_length=160)
    message: str = Field(default="", max_length=4000)
    sms_consent: bool = False
    marketing_consent: bool = False
    #: the honeypot: a field people never see; bots fill it
    website: str = Field(default="", max_length=500)
    #: made by the page once per form view, so that a double submit is one lead
    submission_id: str = Field(default="", max_length=64)
    utm_source: str = Field(default="", max_length=200)
    utm_medium: str = Field(default="", max_length=200)
    utm_campaign: str = Field(default="", max_length=200)
    utm_content: str = Field(default="", max_length=200)
    utm_term: str = Field(default="", max_length=200)
    fbclid: str = Field(default="", max_length=500)
    gclid: str = Field(default="", max_length=500)
    gbraid: str = Field(default="", max_length=500)
    wbraid: str = Field(default="", max_length=500)
    landing_page: str = Field(default="", max_length=2000)
    referrer: str = Field(default="", max_length=2000)

    @field_validator("sms_consent", "marketing_consent", mode="before")
    @classmethod
    def _checkbox(cls, value: Any) -> bool:
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "on", "yes")
        return bool(value)

    @field_validator("*", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value
