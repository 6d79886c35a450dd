"""Our pages inside the tenants' portals (issue 7 item 1), over HTTP: the CSP frame-ancestors of every
applicant page and of the verification page, no X-Frame-Options, the embed layout (by Sec-Fetch-Dest or by
?embed=1, remembered by the session, cleared by ?embed=0), the partitioned cookie over HTTPS, and the tenant
administrator's page with the snippet. The browser side (resizing, a refused origin) is in tests/browser/."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import httpx
import pytest

from accounts.roles import Role
from settings import get_settings
from tenants.services import _frame_ancestors_cache, get_tenant, list_tenants
from tenants.tables import Tenant
from tests.cases_support import id_number
from tests.people import PASSWORD, Person, SignedIn, csrf_from, signed_in_applicant, signed_in_staff

TENANTS = ("gansu", "ningxia", "guangxi")
IFRAME = {"Sec-Fetch-Dest": "iframe"}
EMBED_SCRIPT = re.compile(r'<script src="/static/embed\.js\?v=[0-9a-f]{12}" defer></script>')


def frame_ancestors(response: httpx.Response) -> set[str]:
    policy = response.headers["content-security-policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    return set(directives["frame-ancestors"])


def embed_origins(page: str) -> set[str] | None:
    match = re.search(r'<html lang="zh-CN" class="embedded" data-embed-origins="([^"]*)">', page)
    return set(html.unescape(match.group(1)).split()) if match else None


def is_embed_layout(page: str) -> bool:
    embedded = 'class="site-header"' not in page and 'class="site-footer"' not in page
    assert embedded == bool(EMBED_SCRIPT.search(page)), "embed.js belongs to the embed layout only"
    assert embedded == (embed_origins(page) is not None)
    return embedded


async def tenant_origins(slug: str) -> set[str]:
    tenant = await get_tenant(slug)
    assert tenant is not None
    return set(tenant.frame_ancestors)


@pytest.fixture(scope="module")
async def ningxia_filer(new_client: Callable[..., httpx.AsyncClient]) -> SignedIn:
    return await signed_in_applicant(
        new_client, "ningxia", "嵌入测试", id_number("640100", "19660707", 71), "640402-employer-school"
    )


# --- CSP frame-ancestors and X-Frame-Options ----------------------------------------------------------


@pytest.mark.parametrize("slug", TENANTS)
async def test_applicant_pages_may_be_framed_by_exactly_the_tenants_portals(
    new_client: Callable[..., httpx.AsyncClient], slug: str
) -> None:
    origins = await tenant_origins(slug)
    assert origins, f"{slug} has no portal origins in its preset"
    async with new_client() as client:
        for path in (
            "/",
            "/signin",
            "/password",
            "/cases",
            "/cases/new?procedure=issuance",
            "/my/certificates",
        ):
            response = await client.get(f"/t/{slug}{path}", headers=IFRAME)
            assert frame_ancestors(response) == {"'self'", *origins}, path
            assert "x-frame-options" not in response.headers, path


async def test_signed_in_pages_carry_the_same_policy(ningxia_filer: SignedIn) -> None:
    origins = await tenant_origins("ningxia")
    for path in ("/me", "/cases", "/my/certificates", "/password", "/cases/new?procedure=digitization"):
        response = await ningxia_filer.get(f"/t/ningxia{path}", headers=IFRAME)
        assert response.status_code == 200, path
        assert frame_ancestors(response) == {"'self'", *origins}, path
        assert "x-frame-options" not in response.headers


async def test_the_verification_page_may_be_framed_by_every_tenants_portals(
    client: httpx.AsyncClient,
) -> None:
    every = set()
    for tenant in await list_tenants():
        every |= set(tenant.frame_ancestors)
    for path in ("/v/AAAA", "/V/AAAA", "/v/"):
        response = await client.get(path, headers=IFRAME)
        assert frame_ancestors(response) == {"'self'", *every}, path
        assert "x-frame-options" not in response.headers
    # …and the page lists the same origins for embed.js (a QR code does not say which portal shows it).
    page = await client.get("/v/AAAA", headers=IFRAME)
    assert embed_origins(page.text) == every


@pytest.mark.parametrize(
    "path", ["/", "/api/v1/tenants/gansu/orgs", "/healthz", "/static/portal.js", "/nope"]
)
async def test_nothing_else_may_be_framed_and_no_x_frame_options(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers=IFRAME)
    assert frame_ancestors(response) == {"'none'"}
    assert "x-frame-options" not in response.headers


# --- the embed layout ----------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", TENANTS)
async def test_sec_fetch_dest_iframe_gives_the_embed_layout(
    new_client: Callable[..., httpx.AsyncClient], slug: str
) -> None:
    tenant = await get_tenant(slug)
    assert tenant is not None
    async with new_client() as client:
        framed = (await client.get(f"/t/{slug}/", headers=IFRAME)).text
        assert is_embed_layout(framed)
        assert embed_origins(framed) == set(tenant.frame_ancestors)
        assert f'<a class="embed-brand" href="/t/{slug}/">{tenant.name}职称电子证书</a>' in framed
        assert tenant.authority_name not in framed  # the site header's second line
        # Not framed: the normal layout, no script, no origins.
        for headers in ({}, {"Sec-Fetch-Dest": "document"}):
            page = (await client.get(f"/t/{slug}/", headers=headers)).text
            assert not is_embed_layout(page)
            assert "embed.js" not in page and "data-embed-origins" not in page
            assert 'class="site-header"' in page and tenant.authority_name in page


async def test_every_applicant_page_has_the_embed_layout(
    ningxia_filer: SignedIn, client: httpx.AsyncClient
) -> None:
    response = await ningxia_filer.post("/t/ningxia/cases", {"procedure": "digitization"})
    assert response.status_code == 303, response.text
    base = response.headers["location"].removesuffix("/parts/0")
    paths = [
        "/t/ningxia/me",
        "/t/ningxia/password",
        "/t/ningxia/cases",
        "/t/ningxia/cases/new?procedure=digitization",
        f"{base}/parts/0",
        f"{base}/parts/1",
        f"{base}/attachments",
        base,
        "/t/ningxia/my/certificates",
        "/t/ningxia/verify-file/",
    ]
    for path in paths:
        response = await ningxia_filer.get(path, headers=IFRAME)
        assert response.status_code == 200, path
        assert is_embed_layout(response.text), path
        assert "Sec-Fetch-Dest" in response.headers["vary"], path
        assert 'action="/t/ningxia/signout"' in response.text, path  # signing out works in the iframe too
    for path in ("/t/ningxia/signin", "/v/AAAA"):
        page = (await client.get(path, headers=IFRAME)).text
        assert is_embed_layout(page), path


async def test_embed_1_is_remembered_by_the_session_and_embed_0_clears_it(
    new_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with new_client() as client:
        # A first visit straight into the iframe, by a browser that sends no Sec-Fetch-Dest.
        first = await client.get("/t/gansu/?embed=1")
        assert is_embed_layout(first.text)
        assert embed_origins(first.text) == await tenant_origins("gansu")
        assert "zc_session_gansu=" in first.headers["set-cookie"]  # an anonymous session remembers it
        for path in ("/t/gansu/signin", "/t/gansu/verify-file/", "/t/gansu/"):
            assert is_embed_layout((await client.get(path)).text), path
        # Redirects inside the site keep it in the address too (signing in or out replaces the session).
        refused = await client.get("/t/gansu/cases")
        assert refused.status_code == 303
        assert refused.headers["location"] == "/t/gansu/signin?next=/t/gansu/cases&embed=1"
        # ?embed=0 turns it off, for this page and the next ones.
        off = await client.get("/t/gansu/signin?embed=0")
        assert not is_embed_layout(off.text)
        assert not is_embed_layout((await client.get("/t/gansu/")).text)
        assert (await client.get("/t/gansu/cases")).headers[
            "location"
        ] == "/t/gansu/signin?next=/t/gansu/cases"
        # The browser's own word still counts.
        assert is_embed_layout((await client.get("/t/gansu/", headers=IFRAME)).text)


async def test_signing_in_and_out_inside_the_iframe_keeps_the_layout(
    new_client: Callable[..., httpx.AsyncClient],
) -> None:
    ningxia_id = id_number("640100", "19660707", 73)
    filer = await signed_in_applicant(new_client, "ningxia", "嵌入登录", ningxia_id, "640402-employer-school")
    await filer.client.aclose()
    async with new_client() as client:
        page = await client.get("/t/ningxia/signin?embed=1")
        assert is_embed_layout(page.text)
        response = await client.post(
            "/t/ningxia/signin/applicant",
            data={
                "_csrf": csrf_from(page.text),
                "id_number": ningxia_id,
                "name": "嵌入登录",
                "password": PASSWORD,
                "next": "/t/ningxia/cases",
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/t/ningxia/cases?embed=1"
        cases = await client.get(response.headers["location"])
        assert cases.status_code == 200 and is_embed_layout(cases.text)
        me = await client.get("/t/ningxia/me")  # the new session remembers it
        assert is_embed_layout(me.text) and "嵌入登录" in me.text
        out = await client.post("/t/ningxia/signout", data={"_csrf": csrf_from(me.text)})
        assert out.status_code == 303 and out.headers["location"] == "/t/ningxia/?embed=1"
        assert is_embed_layout((await client.get(out.headers["location"])).text)


async def test_htmx_redirects_carry_the_layout_too(ningxia_filer: SignedIn) -> None:
    response = await ningxia_filer.post("/t/ningxia/cases", {"procedure": "digitization"})
    part = response.headers["location"]
    page = await ningxia_filer.get(f"{part}?embed=1")
    assert is_embed_layout(page.text)
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    saved = await ningxia_filer.post(
        part,
        {"version": version.group(1), "gender": "女", "employer": "640402-employer-school"},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200
    assert saved.headers["hx-redirect"].endswith("/parts/1?embed=1")
    await ningxia_filer.get("/t/ningxia/me?embed=0")  # leave the shared browser as it was


async def test_the_session_cookie_is_partitioned_over_https(
    new_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with new_client(https=True) as client:
        for path in ("/t/gansu/?embed=1", "/t/gansu/signin"):
            client.cookies.clear()
            cookie = (await client.get(path)).headers["set-cookie"]
            assert cookie.startswith("__Host-zc_session_gansu="), path
            attributes = {part.strip() for part in cookie.split(";")[1:]}
            assert {"Secure", "HttpOnly", "SameSite=None", "Partitioned", "Path=/"} <= attributes, path
        client.cookies.clear()
        await client.get("/t/gansu/?embed=1")
        assert is_embed_layout((await client.get("/t/gansu/signin")).text)  # remembered under HTTPS too
    async with new_client() as client:  # plain http (development): no Secure, so Lax
        cookie = (await client.get("/t/gansu/signin")).headers["set-cookie"]
        assert "SameSite=Lax" in cookie and "Partitioned" not in cookie


# --- the scripts -----------------------------------------------------------------------------------------


async def test_the_scripts_check_origins_both_ways(client: httpx.AsyncClient) -> None:
    embed = (await client.get("/static/embed.js")).text
    portal = (await client.get("/static/portal.js")).text
    for script in (embed, portal):
        assert not re.search(r"postMessage\([^;]*[\"']\*[\"']", script), "never post to any origin"
    # embed.js: only to an allowed parent origin, found from ancestorOrigins, the referrer or the hello.
    assert "data-embed-origins" in embed and "ancestorOrigins" in embed and "document.referrer" in embed
    assert 'window.parent.postMessage({ type: "zhicheng:resize", height: current }, parentOrigin)' in embed
    assert "event.source !== window.parent" in embed
    # portal.js: only messages from the iframe's own window at the iframe's origin, height bounded.
    assert "event.source !== frame.contentWindow || event.origin !== originOf(frame)" in portal
    assert "MIN_HEIGHT = 200" in portal and "MAX_HEIGHT = 10000" in portal
    assert "iframe[data-zhicheng]" in portal


# --- the administrator's page --------------------------------------------------------------------------


async def test_the_admin_page_shows_the_origins_and_the_snippet(people: dict[str, Person]) -> None:
    response = await people["tenant_admin"].get("/t/gansu/admin/embed")
    assert response.status_code == 200
    page = html.unescape(response.text)
    public = get_settings().public_url
    for origin in await tenant_origins("gansu"):
        assert f"<code>{origin}</code>" in page
    snippet = re.search(r'<pre class="snippet" id="snippet"[^>]*><code>(.*?)</code></pre>', page, re.S)
    assert snippet, "no snippet"
    lines = snippet.group(1).splitlines()
    assert re.fullmatch(
        rf'<script src="{re.escape(public)}/static/portal\.js\?v=[0-9a-f]{{12}}" defer></script>', lines[1]
    )
    assert lines[2] == (
        f'<iframe data-zhicheng src="{public}/t/gansu/?embed=1" title="甘肃省职称电子证书" '
        'width="100%" height="640"></iframe>'
    )
    assert f'<iframe data-zhicheng src="{public}/t/gansu/signin?embed=1"' in page
    assert f'<iframe data-zhicheng src="{public}/t/gansu/my/certificates?embed=1"' in page
    # The links to it.
    for path in ("/t/gansu/me", "/t/gansu/"):
        assert 'href="/t/gansu/admin/embed"' in (await people["tenant_admin"].get(path)).text


async def test_the_admin_page_is_refused_to_everyone_else(
    people: dict[str, Person], new_client: Callable[..., httpx.AsyncClient]
) -> None:
    for key in ("applicant", "clerk", "org_admin", "other_tenant_admin"):
        response = await people[key].get("/t/gansu/admin/embed")
        assert response.status_code in (303, 403), key
        if response.status_code == 303:
            assert "/signin" in response.headers["location"]
    async with new_client() as anonymous:
        response = await anonymous.get("/t/gansu/admin/embed")
        assert response.status_code == 303 and response.headers["location"].startswith("/t/gansu/signin")


async def test_the_admin_page_warns_of_no_portals_and_of_plain_http(
    new_client: Callable[..., httpx.AsyncClient],
) -> None:
    admin = await signed_in_staff(new_client, "guangxi", ("450000-province_office", Role.tenant_admin))
    page = (await admin.get("/t/guangxi/admin/embed")).text
    assert "尚未配置允许嵌入的门户网站" not in page and "<code>https://zgb.gxcz.gov.cn</code>" in page
    assert "不是 https" in page  # the test settings' public URL is plain http
    saved = await tenant_origins("guangxi")
    await Tenant.update({Tenant.frame_ancestors: []}).where(Tenant.slug == "guangxi")
    try:
        page = (await admin.get("/t/guangxi/admin/embed")).text
        assert "尚未配置允许嵌入的门户网站" in page and "zgb.gxcz.gov.cn</code></li>" not in page
    finally:
        await Tenant.update({Tenant.frame_ancestors: sorted(saved)}).where(Tenant.slug == "guangxi")
        _frame_ancestors_cache.pop("guangxi", None)
