"""app.sync."""
