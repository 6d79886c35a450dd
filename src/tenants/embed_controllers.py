"""Our pages inside the tenants' portals (seed 002: 职称信息系统; seed 003: 高层次人才工作网;
seed 004: 数字人社).

- ``embed_middleware`` keeps the embed layout (``core.web.is_embedded``) across a visit: an explicit
  ``?embed=1`` / ``?embed=0`` is written into the session data, starting an anonymous session when there is
  none, so that links and form posts inside the iframe keep the layout in browsers that do not send
  ``Sec-Fetch-Dest``; in that mode our redirects carry ``embed=1`` too (signing out ends the session that
  remembered it). It also leaves, for the page's ``data-embed-origins``, the portal origins that may frame
  the page: the same list as the page's CSP ``frame-ancestors``, so embed.js posts its height to no one else.
- ``EmbedAdminController``: the tenant administrator's page with the allowed origins and the snippet a portal
  pastes (portal.js and the iframes). ``docs/embedding.md`` describes both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import MutableScopeHeaders
from litestar.di import NamedDependency
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from accounts.sessions import load_principal, save_session_data, start_session
from accounts.web import Access, set_session
from core.web import (
    EMBED_ORIGINS_SCOPE_KEY,
    EMBED_SESSION_KEY,
    PRINCIPAL_SCOPE_KEY,
    embed_choice,
    is_embedded,
    render,
    static_url,
)
from settings import get_settings
from tenants.controllers import TENANT_DEPENDENCIES
from tenants.services import frame_ancestors_for_path, get_tenant
from tenants.tables import Tenant

REDIRECT_HEADERS = ("location", "hx-redirect", "hx-location")


def with_embed(location: str) -> str:
    """A redirect target inside our site with ``embed=1`` added (other targets unchanged)."""
    if not location.startswith("/") or location.startswith("//"):
        return location
    target, hash_mark, fragment = location.partition("#")
    path, _, query = target.partition("?")
    if any(pair.partition("=")[0] == "embed" for pair in query.split("&") if pair):
        return location
    query = f"{query}&embed=1" if query else "embed=1"
    return f"{path}?{query}{hash_mark}{fragment}"


async def _remember(scope: Scope, wanted: bool) -> None:
    """Write an explicit ?embed= into the session data (the principal's data too, for this request)."""
    principal = scope.get(PRINCIPAL_SCOPE_KEY)  # type: ignore[call-overload]
    if principal is not None:
        if bool(principal.data.get(EMBED_SESSION_KEY)) == wanted:
            return
        data = {key: value for key, value in principal.data.items() if key != EMBED_SESSION_KEY}
        if wanted:
            data[EMBED_SESSION_KEY] = True
        await save_session_data(principal, data)
        principal.data.clear()
        principal.data.update(data)
        return
    slug = (scope.get("path_params") or {}).get("slug")
    if not wanted or not slug or scope.get("method") not in ("GET", "HEAD"):
        return
    tenant = await get_tenant(slug)
    if tenant is None:
        return
    # A first visit straight into the iframe: an anonymous session (as the sign-in page starts one) that
    # remembers the layout until the visitor signs in or the session expires.
    token = await start_session(tenant, None, data={EMBED_SESSION_KEY: True})
    set_session(Request(scope), token)
    scope[PRINCIPAL_SCOPE_KEY] = await load_principal(token)  # type: ignore[literal-required]


def embed_middleware(app: ASGIApp) -> ASGIApp:
    """Runs inside accounts.web.session_middleware (it needs the principal)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await app(scope, receive, send)
            return
        choice = embed_choice(scope)
        if choice is not None:
            await _remember(scope, choice)
        embedded = is_embedded(scope)
        if not embedded:
            await app(scope, receive, send)
            return
        scope[EMBED_ORIGINS_SCOPE_KEY] = await frame_ancestors_for_path(scope["path"])  # type: ignore[literal-required]
        principal = scope.get(PRINCIPAL_SCOPE_KEY)  # type: ignore[call-overload]
        remembered = choice is True or (
            choice is None and principal is not None and bool(principal.data.get(EMBED_SESSION_KEY))
        )
        if not remembered:  # framed, as the browser says on every navigation: nothing to carry
            await app(scope, receive, send)
            return

        async def send_carrying_embed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name in REDIRECT_HEADERS:
                    value = headers.get(name)
                    if value:
                        headers[name] = with_embed(value)
            await send(message)

        await app(scope, receive, send_carrying_embed)

    return middleware


# --- the administrator's page ---------------------------------------------------------------------------

# The pages a portal may open in an iframe (the applicant's entry points), with the iframe's title.
ENTRY_PAGES = (
    ("", "办理事项"),
    ("signin", "登录"),
    ("cases", "我的申请"),
    ("my/certificates", "我的电子证书"),
    ("verify-file/", "核验电子证书文件"),
)
DEFAULT_IFRAME_HEIGHT = 640


@dataclass(frozen=True)
class EntryPage:
    title: str
    url: str
    iframe: str


def iframe_tag(url: str, title: str) -> str:
    return (
        f'<iframe data-zhicheng src="{url}" title="{title}" '
        f'width="100%" height="{DEFAULT_IFRAME_HEIGHT}"></iframe>'
    )


def entry_pages(tenant: Tenant, public_url: str) -> list[EntryPage]:
    pages = []
    for path, label in ENTRY_PAGES:
        url = f"{public_url}/t/{tenant.slug}/{path}?embed=1"
        title = f"{tenant.name}职称电子证书 · {label}"
        pages.append(EntryPage(label, url, iframe_tag(url, title)))
    return pages


def portal_script_url(public_url: str) -> str:
    return f"{public_url}{static_url('portal.js')}"


def portal_snippet(tenant: Tenant, public_url: str) -> str:
    """The HTML a portal pastes where our pages should appear: the resize script and one iframe."""
    home = entry_pages(tenant, public_url)[0]
    return "\n".join(
        [
            f"<!-- {tenant.name}职称电子证书：嵌入代码（iframe 高度随内容自动调整） -->",
            f'<script src="{portal_script_url(public_url)}" defer></script>',
            iframe_tag(home.url, f"{tenant.name}职称电子证书"),
        ]
    )


class EmbedAdminController(Controller):
    path = "/t/{slug:str}/admin/embed"
    dependencies = TENANT_DEPENDENCIES

    @get("/", name="tenants:embed", opt={"access": Access.tenant_admin})
    async def page(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        """The allowed portal origins and the exact snippet to paste, with our public address."""
        public_url = get_settings().public_url
        return render(
            request,
            "tenants/embed.html",
            {
                "tenant": tenant,
                "origins": list(tenant.frame_ancestors or []),
                "public_url": public_url,
                "secure": public_url.startswith("https://"),
                "script_url": portal_script_url(public_url),
                "snippet": portal_snippet(tenant, public_url),
                "entries": entry_pages(tenant, public_url),
            },
        )
