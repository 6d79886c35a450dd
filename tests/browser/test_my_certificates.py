"""The holder's way to 我的电子证书 on a phone (issue #11): signed in, the header's link opens the page;
the certificate is listed by 获得职称年度 and 职称名称 and picked with the form (htmx swaps the list);
the share link is a link, and the copy button (shown by static/copy.js) copies it with one tap.
Nothing scrolls sideways, no script error, nothing refused by the CSP."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.harness import (
    SEALED_HOLDER_ID,
    SEALED_HOLDER_NAME,
    Pages,
    Site,
    assert_no_horizontal_scroll,
    screenshot,
    sign_in_holder,
)
from tests.cases_support import REISSUE_TITLE

pytestmark = pytest.mark.browser


async def test_the_holder_reaches_my_certificates_from_the_header_on_a_phone(
    site: Site, pages: Pages
) -> None:
    page = await pages.new("phone")
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.origin)
    await sign_in_holder(page, site.origin, name=SEALED_HOLDER_NAME, id_number=SEALED_HOLDER_ID)
    await page.goto(site.url("/t/gansu/"))
    link = page.locator("header.site-header").get_by_role("link", name="我的电子证书")
    await expect(link).to_be_visible()
    box = await link.bounding_box()
    assert box is not None and box["height"] >= 44  # a touch target
    await assert_no_horizontal_scroll(page, 360)
    await link.tap()
    await page.wait_for_url(re.compile(r"/t/gansu/my/certificates$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("我的电子证书")

    year = REISSUE_TITLE["obtained_on"][:4]
    title = REISSUE_TITLE["title_name"]
    certificate = page.locator("#certificate-list section.panel")
    await expect(certificate).to_have_count(1)
    await expect(certificate.get_by_role("heading", level=2)).to_have_text(f"{year}年度 · {title}")
    await assert_no_horizontal_scroll(page, 360)
    await screenshot(page, "phone-my-certificates")

    # 第三步: pick the year and the title; htmx swaps the list and the address follows.
    await page.get_by_label("获得职称年度").select_option(year)
    await page.wait_for_url(re.compile(rf"year={year}"))
    await expect(certificate).to_have_count(1)
    await page.get_by_label("获得职称名称").select_option(title)
    await page.wait_for_url(re.compile(r"title="))
    await expect(certificate).to_have_count(1)

    # The share link reads as a link; one tap on 复制链接 puts it on the clipboard.
    shared = await certificate.get_by_label("核验链接").input_value()
    await expect(certificate.locator("a.share-link")).to_have_attribute("href", shared)
    copy = certificate.get_by_role("button", name="复制链接")
    await expect(copy).to_be_visible()
    await copy.tap()
    await expect(certificate.get_by_role("status")).to_have_text("已复制链接")
    assert await page.evaluate("navigator.clipboard.readText()") == shared
    await assert_no_horizontal_scroll(page, 360)
    pages.assert_no_script_errors()
