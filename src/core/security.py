"""Security headers on every response (OWASP ASVS 5.0 level 2 as the yardstick).

``frame-ancestors`` comes from the tenants (``FrameAncestors`` is given the request path): pages under
``/t/<slug>/`` may be framed by that tenant's portal origins, the public verification pages by any tenant's,
everything else by nobody. No X-Frame-Options: it cannot list origins and would contradict the CSP in
browsers that honour both.

``Cache-Control: no-store`` on every response to a signed-in visitor, whatever the handler said, and on every
response whose handler chose no caching of its own (so also every page that starts, ends or carries a session
and the verification pages, which show a name and a masked ID number). What stays cacheable: static files
(with their own header, and never a principal) and what a handler declares cacheable for anonymous visitors
(the tenant's theme). Applied in a ``before_send`` hook rather than a middleware so that it also covers
the responses Litestar makes before any middleware runs (unknown paths, 405s).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from core.web import PRINCIPAL_SCOPE_KEY

BASE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; object-src 'none'; base-uri 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"

FrameAncestors = Callable[[str], Awaitable[list[str]]]
BeforeSend = Callable[[Message, Scope], Awaitable[None]]


def content_security_policy(ancestors: list[str]) -> str:
    framing = " ".join(["'self'", *ancestors]) if ancestors else "'none'"
    return f"{BASE_POLICY}; frame-ancestors {framing}"


def signed_in(scope: Scope) -> bool:
    principal = scope.get(PRINCIPAL_SCOPE_KEY)
    return bool(getattr(principal, "signed_in", False))


def security_headers(frame_ancestors: FrameAncestors) -> BeforeSend:
    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        ancestors = await frame_ancestors(scope["path"])
        headers = MutableScopeHeaders.from_message(message)
        # A response may bring a policy of its own (core.web.UNTRUSTED_FILE_POLICY): sent as a second,
        # comma-separated policy it can only restrict further, since a browser enforces every policy given.
        own = headers.get("content-security-policy")
        policy = content_security_policy(ancestors)
        headers["content-security-policy"] = f"{policy}, {own}" if own else policy
        headers["x-content-type-options"] = "nosniff"
        headers["referrer-policy"] = "same-origin"
        headers["permissions-policy"] = "geolocation=(), microphone=(), payment=()"
        if "cache-control" not in headers or signed_in(scope):
            headers["cache-control"] = "no-store"
        if scope.get("scheme") == "https":
            headers["strict-transport-security"] = HSTS

    return before_send
