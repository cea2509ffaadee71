"""The base of every provider transport: errors are permanent or retryable (Healthchecks'
``TransportError(message, permanent=)``). A permanent error fails its job at once with the
reason recorded; a retryable one is retried with backoff."""

from __future__ import annotations

from sync_server.jobs.service import JobError


class TransportError(JobError):
    """A provider call failed. ``user_message`` is a sentence staff can read (no patient data);
    ``provider_code`` the provider's own error code (Twilio 21610, Graph 190...)."""

    code = "transport_error"

    def __init__(self, message: str, *, permanent: bool, provider_code: str | None = None) -> None:
        super().__init__(message, permanent=permanent)
        self.provider_code = provider_code
