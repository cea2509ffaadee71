"""Response headers and CSRF tokens for the web pages.

Headers (:func:`headers`): a Content-Security-Policy that allows only our own origin, inline
code only with the response's nonce, and no framing (``frame-ancestors 'none'``) unless a page
is made to be embedded; ``X-Content-Type-Options``, ``Referrer-Policy: same-origin`` (no
patient-bearing URL ever leaks to another site), HSTS when the request came over TLS, and
``Cache-Control: no-store`` on private pages (anything showing a person's data).

CSRF (:class:`Csrf`): every form carries a token tied to a random per-browser value kept in an
HttpOnly cookie (``glowdesk_csrf``) and, for signed-in pages, to the session: the token is
``HMAC(secret, purpose | cookie value | session id)``. A post whose token does not match is
refused (403) before it is read any further. The cookie alone proves nothing (another site can
make the browser send it but cannot read it to compute the token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from core.errors import GlowdeskError

CSRF_COOKIE = "glowdesk_csrf"
CSRF_FIELD = "csrf_token"
HSTS = "max-age=31536000; includeSubDomains"


class CsrfRefused(GlowdeskError):
    code = "csrf_refused"
    status = 403

    def __init__(self) -> None:
        super().__init__("This form has expired or did not come from this site; reload the page and try again.")


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def is_tls(request: Request) -> bool:
    """Whether the visitor reached us over HTTPS (directly, or through the TLS proxy in front)."""
    if request.url.scheme == "https":
        return True
    return request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower() == "https"


def headers(request: Request, *, nonce: str, private: bool, frame_ancestors: str = "'none'") -> dict[str, str]:
    csp = "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self' https://checkout.stripe.com",
        f"frame-ancestors {frame_ancestors}",
    ))
    out = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    }
    if frame_ancestors == "'none'":
        out["X-Frame-Options"] = "DENY"
    if is_tls(request):
        out["Strict-Transport-Security"] = HSTS
    out["Cache-Control"] = "no-store" if private else "no-cache"
    return out


class Csrf:
    """CSRF tokens signed with the server's secret key (see the module docstring)."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"glowdesk-csrf|" + secret.encode()).digest()

    def _mac(self, browser: str, purpose: str, session_id: str) -> str:
        msg = f"{purpose}|{browser}|{session_id}".encode()
        return base64.urlsafe_b64encode(hmac.new(self._key, msg, hashlib.sha256).digest()).decode().rstrip("=")

    @staticmethod
    def browser_value(request: Request) -> str | None:
        value = request.cookies.get(CSRF_COOKIE)
        return value if value and 16 <= len(value) <= 64 and value.isascii() else None

    def token(self, request: Request, response: Response | None = None, *, purpose: str = "form",
              session_id: str = "") -> tuple[str, str | None]:
        """A token for a form on this page, and the new cookie value to set (None: keep the
        browser's). :func:`pages.respond` sets the cookie."""
        browser = self.browser_value(request)
        fresh = None
        if browser is None:
            browser = fresh = secrets.token_urlsafe(24)
        return self._mac(browser, purpose, session_id), fresh

    def check(self, request: Request, submitted: str | None, *, purpose: str = "form", session_id: str = "") -> None:
        browser = self.browser_value(request)
        if not browser or not submitted:
            raise CsrfRefused()
        if not hmac.compare_digest(self._mac(browser, purpose, session_id), submitted):
            raise CsrfRefused()


def set_csrf_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(CSRF_COOKIE, value, httponly=True, secure=is_tls(request), samesite="lax", path="/")
