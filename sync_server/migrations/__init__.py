"""Alembic history of the server database (independent of the desktop's)."""
