"""The server's own writes to synced records (leads from webhooks, consents from STOP...)."""
