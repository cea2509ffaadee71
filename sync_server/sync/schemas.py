"""Request and response bodies of the sync protocol (added by the sync step).

The wire format itself (outbox entries, change pages, versions) lives in ``core`` because the
desktop speaks it too; the models here wrap it for FastAPI.
"""
