"""Glowdesk core: the shared vocabulary of the desktop and the server.

Pure Python (stdlib, pydantic, phonenumbers). Never imports Qt, SQLAlchemy, FastAPI or httpx,
and never imports ``app`` or ``sync_server`` (enforced by import-linter contracts).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
