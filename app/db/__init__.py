"""app.db."""
