"""Sync: the per-clinic change sequence, the versioned row store, idempotent pushes, conflicts.

This package holds the tables and the sequencing primitive; the protocol endpoints (push, pull,
live channel) are added in ``endpoints.py`` / ``service.py`` by the sync step.
"""
