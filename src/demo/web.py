"""The demo banner: while any tenant carries demo data (a ``demo_load`` row), every page says so."""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send

from core.web import DEMO_SCOPE_KEY
from demo.loader import demo_loaded

# Requests that never render a page: no need to look.
NO_PAGE_PREFIXES = ("/static/", "/api/", "/healthz")


def demo_banner_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(NO_PAGE_PREFIXES):
            scope[DEMO_SCOPE_KEY] = await demo_loaded()  # type: ignore[literal-required]
        await app(scope, receive, send)

    return middleware
