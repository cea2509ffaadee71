"""Glowdesk desktop client: encrypted local store, services, sync engine and the Qt UI."""
