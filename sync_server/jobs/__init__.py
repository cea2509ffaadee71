"""Durable jobs: the database is the queue (see :mod:`sync_server.jobs.service`)."""
