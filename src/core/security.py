"""Security headers on every response (OWASP ASVS 5.0 level 2 as the yardstick).

``frame-ancestors`` is per tenant: pages under ``/t/<slug>/`` may be framed by that tenant's portal origins
(tenant setting), everything else by nobody. No X-Frame-Options: it cannot list origins and would contradict
the CSP in browsers that honour both.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

TENANT_PATH = re.compile(r"^/t/([a-z][a-z0-9-]{1,31})(/|$)")
BASE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; object-src 'none'; base-uri 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"

FrameAncestors = Callable[[str], Awaitable[list[str]]]


def content_security_policy(ancestors: list[str]) -> str:
    framing = " ".join(["'self'", *ancestors]) if ancestors else "'none'"
    return f"{BASE_POLICY}; frame-ancestors {framing}"


def security_headers_middleware(frame_ancestors: FrameAncestors) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            match = TENANT_PATH.match(scope["path"])
            ancestors = await frame_ancestors(match.group(1)) if match else []

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableScopeHeaders.from_message(message)
                    headers["content-security-policy"] = content_security_policy(ancestors)
                    headers["x-content-type-options"] = "nosniff"
                    headers["referrer-policy"] = "same-origin"
                    headers["permissions-policy"] = "geolocation=(), microphone=(), payment=()"
                    if scope.get("scheme") == "https":
                        headers["strict-transport-security"] = HSTS
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware

    return wrap
