"""Sessions and access control on the HTTP side: the session middleware, the session cookie, the one access
guard every route goes through, and CSRF.

Every route handler declares ``opt={"access": Access.…}``; a handler without one is refused (fail closed), and
``tests/integration/accounts/test_access_matrix.py`` asks every route as every kind of user.
"""

from __future__ import annotations

import hmac
from enum import StrEnum
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.response import Redirect
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_303_SEE_OTHER, HTTP_401_UNAUTHORIZED
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from accounts.roles import AccountKind, Role
from accounts.sessions import Principal, load_principal, start_session
from core.web import PRINCIPAL_SCOPE_KEY, FormRequest, is_htmx, tenant_slug_of, wants_json
from tenants.tables import Tenant

SECURE_COOKIE = "__Host-zc_session"
# Plain-http development (make run on localhost) cannot use Secure, __Host- or SameSite=None cookies.
PLAIN_COOKIE = "zc_session"
SET_COOKIE_SCOPE_KEY = "zhicheng.set_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Access(StrEnum):
    public = "public"  # anyone; no session needed to read
    signed_in = "signed_in"  # any account of the route's tenant
    applicant = "applicant"
    staff = "staff"  # any staff account of the tenant
    org_admin = "org_admin"  # an org admin somewhere in the tenant (or the tenant admin)
    tenant_admin = "tenant_admin"


# What a refused visitor should do, by the route's access rule ({authority}: the tenant's authority).
REFUSAL_HINTS = {
    Access.applicant: "此页面供申请人本人使用，请退出后用身份证号登录申请人账号。",
    Access.staff: "此页面供经办机构和用人单位的工作人员使用；如需工作人员账号，请联系本单位的单位管理员。",
    Access.org_admin: "此页面供单位管理员使用；如需开通单位管理员权限，请联系上级单位或{authority}。",
    Access.tenant_admin: "此页面仅供{authority}的系统管理员使用；如需调整相关配置，请联系{authority}。",
}


def refusal_message(rule: Access, tenant_authority: str) -> str:
    """The 403 text of a signed-in visitor whom the route's access rule does not admit."""
    hint = REFUSAL_HINTS.get(rule, "")
    return f"您没有访问此页面的权限。{hint.format(authority=tenant_authority)}"


# Pages a signed-in user who must change the password may still open.
PASSWORD_CHANGE_ROUTES = frozenset({"accounts:password", "accounts:password-change", "accounts:signout"})


class MustChangePassword(NotAuthorizedException):
    """Raised for every other page until the initial or reset password has been changed."""


def cookie_name(scope: Scope, slug: str) -> str:
    """One session cookie per tenant, so that a visit to another region's pages (or signing in there) neither
    replaces nor ends this one."""
    return f"{SECURE_COOKIE if scope.get('scheme') == 'https' else PLAIN_COOKIE}_{slug}"


def session_cookie(scope: Scope, slug: str, token: str | None) -> str:
    """The Set-Cookie value of the tenant's session. Litestar's Cookie has no Partitioned attribute (CHIPS),
    which iframes in portals need, so the header is written here. ``__Host-`` requires ``Path=/``: the
    tenant is in the cookie's name, not its path."""
    name = cookie_name(scope, slug)
    value = token or ""
    expiry = "" if token else "; Max-Age=0"
    if name.startswith(SECURE_COOKIE):
        return f"{name}={value}; Path=/; Secure; HttpOnly; SameSite=None; Partitioned{expiry}"
    return f"{name}={value}; Path=/; HttpOnly; SameSite=Lax{expiry}"


def set_session(request: Request[Any, Any, Any], token: str | None) -> None:
    """Ask the middleware to send the new session cookie (None: clear it) with this response."""
    request.scope[SET_COOKIE_SCOPE_KEY] = token  # type: ignore[literal-required]


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    return connection.scope.get(PRINCIPAL_SCOPE_KEY)  # type: ignore[return-value]


def require_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal of a route whose access rule already required a session (the guard ran first)."""
    principal = principal_of(connection)
    if principal is None:
        raise NotAuthorizedException("请先登录")
    return principal


def session_middleware(app: ASGIApp) -> ASGIApp:
    """The principal of the tenant whose pages are asked for, from that tenant's cookie; other paths (the
    index, the public verification pages, the API) have none."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        # Static files need no principal: no session look-up for them.
        slug = tenant_slug_of(scope["path"]) if scope["type"] == "http" else None
        if slug is None:
            await app(scope, receive, send)
            return
        cookies = SimpleCookie()
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookies.load(value.decode("latin-1"))
        morsel = cookies.get(cookie_name(scope, slug))
        principal = await load_principal(morsel.value) if morsel and morsel.value else None
        scope[PRINCIPAL_SCOPE_KEY] = principal if principal and principal.tenant_slug == slug else None  # type: ignore[literal-required]

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and SET_COOKIE_SCOPE_KEY in scope:
                headers = MutableScopeHeaders.from_message(message)
                headers.add("set-cookie", session_cookie(scope, slug, scope[SET_COOKIE_SCOPE_KEY]))  # type: ignore[literal-required]
            await send(message)

        await app(scope, receive, send_with_cookie)

    return middleware


def client_address(request: Request[Any, Any, Any]) -> str:
    """What per-client rate limits count by: the address uvicorn took from a trusted proxy's
    X-Forwarded-For, else the peer's."""
    return request.client.host if request.client else "unknown"


async def ensure_session(request: Request[Any, Any, Any], tenant: Tenant) -> Principal:
    """The visitor's session for this tenant, starting an anonymous one (for the CSRF token of a form)."""
    principal = principal_of(request)
    if principal is not None and principal.tenant_id == tenant.id:
        return principal
    token = await start_session(tenant, None)
    set_session(request, token)
    principal = await load_principal(token)
    assert principal is not None
    request.scope[PRINCIPAL_SCOPE_KEY] = principal  # type: ignore[literal-required]
    return principal


async def _submitted_csrf(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = connection.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await FormRequest(connection.scope, connection.receive).form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def allows(rule: Access, principal: Principal) -> bool:
    """Whether a signed-in principal of the route's tenant passes the route's access rule."""
    if rule is Access.signed_in:
        return True
    if rule is Access.applicant:
        return principal.kind is AccountKind.applicant
    if rule is Access.staff:
        return principal.kind is AccountKind.staff
    if rule is Access.org_admin:
        return bool(principal.roles & {Role.org_admin, Role.tenant_admin})
    if rule is Access.tenant_admin:
        return Role.tenant_admin in principal.roles
    return False


async def access_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    try:
        # core's routes (health, static files) cannot import Access and declare the plain string.
        rule = Access(handler.opt.get("access"))
    except ValueError:
        raise PermissionDeniedException("该页面未声明访问规则") from None
    principal = principal_of(connection)
    slug = connection.path_params.get("slug")
    in_tenant = principal is not None and (slug is None or principal.tenant_slug == slug)
    if connection.scope.get("method") in UNSAFE_METHODS:
        submitted = await _submitted_csrf(connection)
        if not (
            in_tenant and principal and submitted and hmac.compare_digest(submitted, principal.csrf_token)
        ):
            raise PermissionDeniedException("页面已过期或来源不明（CSRF 校验失败），请刷新页面后重试")
    if rule is Access.public:
        return
    if not in_tenant or principal is None or not principal.signed_in:
        raise NotAuthorizedException("请先登录")
    if principal.must_change_password and handler.name not in PASSWORD_CHANGE_ROUTES:
        raise MustChangePassword("首次登录或密码被重置后，须先修改密码")
    if not allows(rule, principal):
        tenant = await Tenant.objects().get(Tenant.id == principal.tenant_id)
        authority = tenant.authority_name if tenant else "本地区职称管理部门"
        raise PermissionDeniedException(refusal_message(rule, authority))


def may_open(request: Request[Any, Any, Any], route_name: str) -> bool:
    """Whether the visitor would be let into the named route (for showing only the links one may use):
    the route's own access rule, read from its handler, as the guard reads it."""
    rule = Access(request.app.get_handler_index_by_name(route_name)["handler"].opt["access"])  # type: ignore[index]
    if rule is Access.public:
        return True
    principal = principal_of(request)
    if principal is None or not principal.signed_in or principal.must_change_password:
        return False
    return allows(rule, principal)


def sign_in_url(slug: str, next_path: str) -> str:
    return f"/t/{slug}/signin?next={quote(next_path, safe='/')}"


def unauthorized_handler(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    """Pages send the visitor to the tenant's sign-in (htmx via HX-Redirect); the API answers 401."""
    slug = request.path_params.get("slug")
    if wants_json(request) or not slug:
        return Response({"error": exc.detail}, status_code=HTTP_401_UNAUTHORIZED)
    if isinstance(exc, MustChangePassword):
        target = f"/t/{slug}/password"
    else:
        target = sign_in_url(slug, request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if is_htmx(request):
        return Response("", status_code=HTTP_204_NO_CONTENT, headers={"HX-Redirect": target})
    return Redirect(target, status_code=HTTP_303_SEE_OTHER)
