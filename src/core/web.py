"""The web layer every controller shares: Jinja templates (full page or one named block for htmx), static
files with long-lived caching, and the error pages."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from functools import cache
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import MediaType, Request, Response
from litestar.datastructures import CacheControlHeader, FormMultiDict
from litestar.exceptions import ClientException, HTTPException, NotFoundException
from litestar.response import Stream
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from litestar.types import Scope

from settings import PROJECT_ROOT
from tenants.tables import Tenant

TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"
HTMX_FILE = "vendor/htmx-2.0.11.min.js"
ONE_YEAR = 365 * 24 * 3600
# Where the accounts middleware leaves the request's principal (core does not import accounts).
PRINCIPAL_SCOPE_KEY = "zhicheng.principal"
# Where the embedding middleware (tenants.embed_controllers) leaves the portal origins that may frame the
# page, the same list as its CSP frame-ancestors; embed.js posts its height only to one of them.
EMBED_ORIGINS_SCOPE_KEY = "zhicheng.embed_origins"
# Where demo.web leaves whether demo data is loaded (the banner of templates/_demo_banner.html).
DEMO_SCOPE_KEY = "zhicheng.demo"
# The principal's session data key that remembers an explicit ?embed=1.
EMBED_SESSION_KEY = "embed"
TENANT_PATH = re.compile(r"^/t/([a-z][a-z0-9-]{1,31})(/|$)")


def tenant_slug_of(path: str) -> str | None:
    """The tenant whose pages ``/t/{slug}/…`` the path is under, or None."""
    match = TENANT_PATH.match(path)
    return match.group(1) if match else None


# C0 control characters and DEL. PostgreSQL refuses NUL in text (a 500), and none of them belongs in what a
# person types; tab, line feed and carriage return do (multi-line text areas send CR LF).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class MalformedForm(ClientException):
    """A form body that cannot be parsed (a broken multipart boundary, bytes that are not UTF-8): 400."""

    def __init__(self) -> None:
        super().__init__("提交的表单内容不完整或格式有误，请刷新页面后重新提交")


class ControlCharacterInForm(HTTPException):
    """A form value with a control character in it (see ``CONTROL_CHARACTERS``): 422."""

    status_code = HTTP_422_UNPROCESSABLE_ENTITY

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__("填写的内容含有不可见的控制字符（常见于从其他文档复制的文字），请删除后重新提交")


class FormRequest(Request[Any, Any, Any]):
    """The app's request class: every form a handler or guard reads passes through ``form``, so a body that
    does not parse is a 400 rather than a 500, and a value with a control character is refused (422) before
    any service or database sees it."""

    async def form(self) -> FormMultiDict:
        try:
            form = await super().form()
        except UnicodeDecodeError as error:
            raise MalformedForm() from error
        except ClientException as error:
            if error.status_code != HTTP_400_BAD_REQUEST:
                raise  # a body over its size limit keeps its 413 and its own page
            raise MalformedForm() from error
        for name, value in form.multi_items():
            if CONTROL_CHARACTERS.search(name) or (
                isinstance(value, str) and CONTROL_CHARACTERS.search(value)
            ):
                raise ControlCharacterInForm(CONTROL_CHARACTERS.sub("", name))
        return form


@cache
def static_url(name: str) -> str:
    """URL of a static file; our own files carry a content hash so they can be cached for a year too."""
    if name.startswith("vendor/"):
        return f"/static/{name}"  # vendored files carry their version in their name
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


def static_files_router() -> Router:
    return create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        name="static",
        cache_control=CacheControlHeader(public=True, max_age=ONE_YEAR, immutable=True),
        include_in_schema=False,
        opt={"access": "public"},
    )


@cache
def templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(("html",)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["static_url"] = static_url
    environment.globals["htmx_url"] = static_url(HTMX_FILE)
    return environment


def content_disposition(kind: str, ascii_name: str, name: str) -> str:
    """``inline`` or ``attachment`` with an ASCII name for old clients and the real (Chinese) one as RFC 5987
    ``filename*``."""
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


# A file someone uploaded is only ever handed over as a download. Should a browser render it anyway (a PDF
# viewer running its /OpenAction script, an HTML file behind a JPEG name), the sandbox policy gives it a
# unique origin with no scripts, no forms and no plug-ins, and it may load nothing. core.security adds this
# policy to its own, so both apply.
UNTRUSTED_FILE_POLICY = "sandbox; default-src 'none'"


UPLOAD_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def uploaded_file(content: bytes, media_type: str, ascii_stem: str, stem: str) -> Response[bytes]:
    """The response for an uploaded file (attachment, seal scan, application form): a download that is
    neither sniffed, nor run, nor cached, named ``stem`` (``ascii_stem`` for old clients) with the extension
    of its checked type."""
    extension = UPLOAD_EXTENSIONS.get(media_type, "bin")
    disposition = content_disposition("attachment", f"{ascii_stem}.{extension}", f"{stem}.{extension}")
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": disposition,
            "Content-Security-Policy": UNTRUSTED_FILE_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    """An htmx request for a part of the page. A boosted link and a history restore (htmx has no snapshot of
    the page to go back to) want the whole page."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-boosted") != "true"
        and headers.get("hx-history-restore-request") != "true"
    )


def embed_choice(scope: Scope) -> bool | None:
    """The request's explicit ``?embed=1`` / ``?embed=0``; None without one."""
    for pair in scope.get("query_string", b"").decode("latin-1").split("&"):
        name, _, value = pair.partition("=")
        if name == "embed" and value in ("0", "1"):
            return value == "1"
    return None


def is_embedded(scope: Scope) -> bool:
    """Whether the page is shown inside a portal's iframe, and so drawn without our header and footer: an
    explicit ``?embed=1`` / ``?embed=0`` first, then the browser's ``Sec-Fetch-Dest: iframe`` (Chromium,
    Firefox and Safari 16.4+ send it on every navigation inside a frame, links and form posts included),
    then what the session remembers of an earlier ``?embed=1`` (older browsers, app web views)."""
    choice = embed_choice(scope)
    if choice is not None:
        return choice
    for name, value in scope.get("headers", ()):
        if name == b"sec-fetch-dest" and value in (b"iframe", b"frame"):
            return True
    principal = scope.get(PRINCIPAL_SCOPE_KEY)
    data = getattr(principal, "data", None) or {}
    return bool(data.get(EMBED_SESSION_KEY))


def _page_context(
    request: Request[Any, Any, Any], context: dict[str, Any], *, partial: bool
) -> dict[str, Any]:
    embed = is_embedded(request.scope)
    return {
        "principal": request.scope.get(PRINCIPAL_SCOPE_KEY),
        "embed": embed,
        "demo_data": bool(request.scope.get(DEMO_SCOPE_KEY)),
        "embed_origins": request.scope.get(EMBED_ORIGINS_SCOPE_KEY, []) if embed else [],
        # Only a block for htmx: its out-of-band updates of the page's status regions (_forms.live_update).
        "htmx_partial": partial and is_htmx(request),
        **context,
        "request": request,
    }


# A whole page's layout depends on being framed.
FULL_PAGE_VARY = "HX-Request, Sec-Fetch-Dest"


def render(
    request: Request[Any, Any, Any],
    template: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status_code: int = 200,
) -> Response[str]:
    """The full page, or — for an htmx request — only the named block ``partial`` of the same template,
    so one template holds each piece of HTML."""
    page = templates().get_template(template)
    full_context = _page_context(request, context, partial=partial is not None)
    if full_context["htmx_partial"]:
        block = page.blocks[partial]  # type: ignore[index]
        html = "".join(block(page.new_context(full_context)))
        vary = "HX-Request"
    else:
        html = page.render(full_context)
        vary = FULL_PAGE_VARY
    return Response(html, media_type=MediaType.HTML, status_code=status_code, headers={"Vary": vary})


def wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/")


# Each error page's heading and what to do, when the error carries no message of ours (Litestar's own are
# English: "Not Found", "Method Not Allowed"…).
ERROR_PAGES = {
    400: ("请求有误", "请求的内容不正确，请返回上一页检查后重试。"),
    403: ("无权访问", "您没有访问此页面的权限。"),
    404: ("页面不存在", "您访问的页面不存在或已被移除。"),
    405: ("不支持的访问方式", "此页面不支持这种访问方式，请从页面上的链接或按钮进入。"),
    409: ("操作冲突", "该记录刚被他人处理或修改，请刷新页面后重试。"),
    413: ("提交的内容过大", "上传的文件或提交的内容超过了允许的大小。"),
    422: ("无法处理", "提交的内容无法处理，请返回上一页检查后重试。"),
    429: ("操作过于频繁", "请稍后再试。"),
    500: ("服务器内部错误", "服务器出了点问题，请稍后再试。"),
}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


async def _tenant_of(path: str) -> Tenant | None:
    """The tenant whose pages the path is under, for the error page's branding; none when the database
    itself is what failed."""
    slug = tenant_slug_of(path)
    if slug is None:
        return None
    try:
        return await Tenant.objects().get(Tenant.slug == slug).output(load_json=True)
    except Exception:  # an error page must not fail in turn
        return None


def error_page(
    request: Request[Any, Any, Any], status: int, detail: str | None, headers: dict[str, str] | None = None
) -> Response[Any]:
    """A Chinese error page under the tenant's name and colour with a link to its home. Exception handlers
    cannot await, so the page is a one-chunk stream that looks the tenant up first."""
    title, advice = ERROR_PAGES.get(status, ERROR_PAGES[500 if status >= 500 else 400])
    message = detail if detail and CHINESE.search(detail) else advice
    page = templates().get_template("errors/error.html")

    async def body() -> AsyncIterator[str]:
        tenant = await _tenant_of(request.url.path)
        context = {"status": status, "title": title, "detail": message, "tenant": tenant}
        yield page.render(_page_context(request, context, partial=False))

    return Stream(
        body(),
        media_type=MediaType.HTML,
        status_code=status,
        headers={**(headers or {}), "Vary": FULL_PAGE_VARY},
    )


def not_found_handler(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
    if wants_json(request):
        return Response({"error": exc.detail or "未找到"}, status_code=HTTP_404_NOT_FOUND)
    return error_page(request, HTTP_404_NOT_FOUND, exc.detail)


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if wants_json(request):
        return Response({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    return error_page(request, exc.status_code, exc.detail, exc.headers)


def server_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    request.logger.exception("unhandled error", exc_info=exc)
    if wants_json(request):
        return Response({"error": "服务器内部错误"}, status_code=HTTP_500_INTERNAL_SERVER_ERROR)
    return error_page(request, HTTP_500_INTERNAL_SERVER_ERROR, None)
