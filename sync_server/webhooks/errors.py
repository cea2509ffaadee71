"""Webhook refusals: nothing is stored for either."""

from __future__ import annotations

from core.errors import GlowdeskError
from sync_server.errors import Unauthenticated


class SignatureMissing(Unauthenticated):
    """No provider signature on the request (401)."""

    code = "signature_missing"


class SignatureInvalid(GlowdeskError):
    """A signature that does not match the body, or one no connected clinic can verify (403)."""

    code = "signature_invalid"
    status = 403


class PayloadTooLarge(GlowdeskError):
    code = "payload_too_large"
    status = 413
