"""Our pages inside a government portal's iframe, in Chromium: the portal is another origin
(https://127.0.0.1:<port>, another site than the app's https://localhost:<port>) that gansu's
``frame_ancestors`` lists; a third origin that nobody listed is refused by the browser itself.

Inside the allowed portal: the page loads in the embed layout (no site header or footer), the response's
``Content-Security-Policy: frame-ancestors`` names exactly the allowed origins and no ``X-Frame-Options``
contradicts it, signing in works (the session cookie is partitioned: the same browser outside the portal is
not signed in), a form step shows its error next to the field, and the iframe's height follows the page in it
(static/embed.js posts ``{type: "zhicheng:resize", height}``, static/portal.js sizes the iframe).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, Response, expect

from tests.browser.harness import (
    HOLDER_ID,
    HOLDER_NAME,
    Pages,
    Site,
    assert_frame_fits,
    assert_no_horizontal_scroll,
    portal_frame,
    resize_messages,
    screenshot,
    sign_in_holder,
    sign_in_staff,
)

pytestmark = pytest.mark.browser


def frame_ancestors(response: Response, headers: dict[str, str]) -> set[str]:
    assert "x-frame-options" not in headers, f"X-Frame-Options on {response.url}"
    policy = headers.get("content-security-policy", "")
    for directive in policy.split(";"):
        name, _, value = directive.strip().partition(" ")
        if name == "frame-ancestors":
            return set(value.split())
    raise AssertionError(f"no frame-ancestors in the CSP of {response.url}: {policy!r}")


async def open_in_portal(page: Page, site: Site, src: str) -> Response:
    """The allowed portal's page framing ``src``; returns the framed page's response."""
    async with page.expect_response(lambda response: response.url == site.url(src)) as framed:
        await page.goto(site.portal.url(src))
    return await framed.value


async def test_filing_inside_an_allowed_portal(site: Site, pages: Pages) -> None:
    page = await pages.new("desktop")
    response = await open_in_portal(page, site, "/t/gansu/signin?embed=1")
    headers = await response.all_headers()
    assert frame_ancestors(response, headers) == {"'self'", site.portal.origin}
    frame = await portal_frame(page)
    await expect(frame.get_by_role("heading", name="登录", exact=True)).to_be_visible()
    await expect(frame.locator("html")).to_have_class(re.compile(r"\bembedded\b"))
    await expect(frame.locator(".site-header")).to_have_count(0)
    await expect(frame.locator(".site-footer")).to_have_count(0)
    signin_height = await assert_frame_fits(page, frame)

    # Signing in inside the portal: the session cookie lives in the portal's partition only.
    await sign_in_staff(frame, site.origin, "employer2", go=False)
    await expect(frame.locator("html")).to_have_class(re.compile(r"\bembedded\b"))
    outside = await page.context.new_page()
    await outside.goto(site.url("/t/gansu/cases"))
    await expect(outside).to_have_url(re.compile(r"/t/gansu/signin\b"))
    await outside.close()

    # A form step inside the frame: the error next to its field, the frame grown to show it.
    await frame.goto(site.url("/t/gansu/cases/new?procedure=reissue"))
    await frame.get_by_role("button", name="开始填写").click()
    await frame.wait_for_url(re.compile(r"/t/gansu/cases/\d+/parts/0\b"))
    match = re.search(r"/cases/(\d+)/", frame.url)
    assert match
    case_id = int(match.group(1))
    await frame.get_by_label("姓名", exact=True).fill("嵌入测试")
    await frame.get_by_label("身份证号", exact=True).fill("62010219850130041")
    await frame.get_by_role("button", name="保存，下一步").click()
    id_field = frame.get_by_label("身份证号", exact=True)
    await expect(id_field).to_have_attribute("aria-invalid", "true")
    await expect(frame.locator("#id_number-error")).to_be_visible()
    form_height = await assert_frame_fits(page, frame)
    assert form_height > signin_height, (signin_height, form_height)
    await screenshot(page, "desktop-03-portal-form-error")

    # The case page, and back to a short page: the frame shrinks with it.
    await frame.goto(site.url(f"/t/gansu/cases/{case_id}"))
    await expect(frame.locator(".state-label")).to_have_text("草稿")
    await assert_frame_fits(page, frame)
    await frame.goto(site.url("/t/gansu/me"))
    await expect(frame.locator("main h1")).to_be_visible()
    short_height = await assert_frame_fits(page, frame)
    assert short_height < form_height, (form_height, short_height)

    heights = await resize_messages(page, site.origin)
    assert heights and all(isinstance(message["height"], int | float) for message in heights), heights
    pages.assert_no_script_errors()


async def test_holder_signs_in_inside_a_portal_on_a_phone(site: Site, pages: Pages) -> None:
    """Without ?embed=1 in the iframe's address: the browser's Sec-Fetch-Dest: iframe alone gives the embed
    layout, on every page the visitor goes on to."""
    page = await pages.new("phone")
    await open_in_portal(page, site, "/t/gansu/signin")
    frame = await portal_frame(page)
    await expect(frame.locator("html")).to_have_class(re.compile(r"\bembedded\b"))
    await sign_in_holder(frame, site.origin, go=False)
    await expect(frame.locator("html")).to_have_class(re.compile(r"\bembedded\b"))
    await expect(frame.locator("main")).to_contain_text(HOLDER_NAME)
    await expect(frame.locator("main")).to_contain_text(HOLDER_ID)  # the holder's own page: in full
    await frame.goto(site.url("/t/gansu/my/certificates"))
    await expect(frame.get_by_role("heading", name="我的电子证书")).to_be_visible()
    await assert_no_horizontal_scroll(frame)
    await assert_no_horizontal_scroll(page, 360)
    await assert_frame_fits(page, frame)
    await screenshot(page, "phone-11-portal-my-certificates")
    pages.assert_no_script_errors()


async def test_verification_page_inside_a_portal(site: Site, pages: Pages) -> None:
    """The QR code's page may be framed by every tenant's portals (a QR code does not say which portal)."""
    path = urlsplit(site.app.seeded["certificate"]["qr_text"]).path
    page = await pages.new("phone")
    response = await open_in_portal(page, site, path)
    assert site.portal.origin in frame_ancestors(response, await response.all_headers())
    frame = await portal_frame(page)
    await expect(frame.locator(".verdict-label")).to_have_text("有效")
    await expect(frame.locator("html")).to_have_class(re.compile(r"\bembedded\b"))
    await assert_frame_fits(page, frame)
    await assert_no_horizontal_scroll(page, 360)


async def test_admin_snippet_pasted_into_a_portal_sizes_the_frame(site: Site, pages: Pages) -> None:
    """The tenant administrator copies the snippet from /t/gansu/admin/embed; pasted into the portal's
    page, it shows our tenant home in an iframe as tall as its content."""
    admin = await pages.new("desktop")
    await sign_in_staff(admin, site.origin, "admin")
    await admin.goto(site.url("/t/gansu/admin/embed"))
    await expect(admin.locator("main")).to_contain_text(site.portal.origin)
    snippet = await admin.locator("#snippet").text_content()
    assert snippet and "portal.js" in snippet and "data-zhicheng" in snippet, snippet
    await screenshot(admin, "desktop-04-admin-embed")

    site.portal.snippet = snippet
    page = await pages.new("desktop")
    await page.goto(f"{site.portal.origin}/pasted")
    frame = await portal_frame(page)
    await expect(frame.locator("main h1")).to_be_visible()
    await assert_frame_fits(page, frame)
    assert await resize_messages(page, site.origin)
    pages.assert_no_script_errors()


@pytest.mark.parametrize("src", ["/t/gansu/signin?embed=1", "verification"])
async def test_a_portal_not_allowed_is_refused_by_the_browser(site: Site, pages: Pages, src: str) -> None:
    if src == "verification":
        src = urlsplit(site.app.seeded["certificate"]["qr_text"]).path
    page = await pages.new("desktop")
    async with page.expect_console_message(lambda message: "frame-ancestors" in message.text) as refused:
        await page.goto(site.stranger.url(src))
    message = await refused.value
    assert "violates" in message.text, message.text
    frame = await portal_frame(page)
    assert not frame.url.startswith(site.origin), frame.url
    assert await page.evaluate("() => window.zhichengMessages.length") == 0
