"""Rows exported as CSV only (no FHIR resource fits them): message templates, read receipts and
possible-duplicate reviews. A later feature that maps one of them to FHIR moves it to its own
module."""

from __future__ import annotations

from core.export.base import Exporter, catalogue_csv

TEMPLATES = Exporter(
    source="message_template",
    csv=catalogue_csv("message_templates", "message_template"),
    about="the clinic's text templates",
)
READ_RECEIPTS = Exporter(
    source="message_read",
    csv=catalogue_csv("read_receipts", "message_read"),
    about="who read a client's thread up to when",
)
MERGE_REVIEWS = Exporter(
    source="merge_review",
    csv=catalogue_csv("merge_reviews", "merge_review"),
    about="possible duplicate clients found, and how each was resolved",
)
