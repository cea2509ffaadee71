"""Repositories: every read and write of the local store, with its outbox and audit side."""
