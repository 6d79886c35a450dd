"""axe-core (vendored, tests/browser/vendor/) on the main pages, on a phone (360×640, touch) and on a desktop:
no violation of serious or critical impact. On the phone every page also fits the screen's width (nothing to
scroll sideways) and its buttons and form controls are at least 44 px high.

One test per audience and screen walks that audience's pages (including the states with errors and the
queue with a case open) and reports every problem found on any of them at once. Each page is kept as a
screenshot in the artefacts directory.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, expect

from tests.browser.harness import (
    AXE_FILE,
    AXE_SHA256,
    Pages,
    Site,
    assert_no_horizontal_scroll,
    axe_violations,
    describe_violations,
    screenshot,
    sign_in_holder,
    sign_in_staff,
    small_touch_targets,
)

pytestmark = pytest.mark.browser

KINDS = ["phone", "desktop"]


def test_vendored_axe_is_the_recorded_file() -> None:
    assert hashlib.sha256(AXE_FILE.read_bytes()).hexdigest() == AXE_SHA256


async def test_the_checks_find_what_is_broken(site: Site, pages: Pages) -> None:
    """The checks themselves: on a real page spoilt on purpose (an unlabelled input, an image without alt
    text, grey on white, a tiny button, a box wider than the phone, an inline style, a script error) each
    one reports its problem."""
    page = await pages.new("phone")
    await page.goto(site.url("/t/gansu/"))
    await page.evaluate(
        """() => {
            const main = document.querySelector("main");
            main.appendChild(document.createElement("input"));
            const image = document.createElement("img");
            image.src = "/static/none.png";
            main.appendChild(image);
            const faint = document.createElement("p");
            faint.textContent = "看不清的文字";
            faint.style.color = "#eeeeee";
            faint.style.background = "#ffffff";
            main.appendChild(faint);
            const tiny = document.createElement("button");
            tiny.textContent = "小";
            tiny.style.height = "20px";
            tiny.style.minHeight = "0";
            tiny.style.padding = "0";
            main.appendChild(tiny);
            const wide = document.createElement("div");
            wide.style.width = "500px";
            wide.style.height = "1px";
            main.appendChild(wide);
        }"""
    )
    found = {violation["id"] for violation in await axe_violations(page)}
    assert {"label", "image-alt", "color-contrast"} <= found, found
    assert any(target.startswith("button") for target in await small_touch_targets(page))
    with pytest.raises(AssertionError, match="scrolls sideways"):
        await assert_no_horizontal_scroll(page, 360)

    # Markup that the CSP refuses (an inline style attribute) and a script that throws.
    async with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        await page.evaluate("() => document.querySelector('main').setAttribute('style', 'color: red')")
    async with page.expect_event("pageerror"):
        await page.evaluate("() => { setTimeout(() => { throw new Error('坏了'); }, 0); }")
    with pytest.raises(AssertionError, match=r"(?s)Content Security Policy.*坏了"):
        pages.assert_no_script_errors()


class Audit:
    """Checks each page it is shown and keeps the problems, so one run names every page that fails."""

    def __init__(self, page: Page, kind: str, audience: str) -> None:
        self.page, self.kind, self.audience = page, kind, audience
        self.problems: list[str] = []
        self.checked: list[str] = []

    async def check(self, name: str) -> None:
        where = f"{self.kind} · {name} ({urlsplit(self.page.url).path})"
        self.checked.append(name)
        violations = await axe_violations(self.page)
        if violations:
            self.problems.append(describe_violations(where, violations))
        if self.kind == "phone":
            try:
                await assert_no_horizontal_scroll(self.page, 360)
            except AssertionError as error:
                self.problems.append(f"{where}: {error}")
            small = await small_touch_targets(self.page)
            if small:
                self.problems.append(f"{where}: touch targets under 44 px high: {small}")
        await screenshot(self.page, f"a11y-{self.kind}-{self.audience}-{len(self.checked):02d}-{name}")

    def assert_clean(self) -> None:
        assert self.checked, "no page was checked"
        assert not self.problems, "\n\n".join(self.problems)


Walk = Callable[[Audit, Site], Awaitable[None]]


async def visitor(audit: Audit, site: Site) -> None:
    page = audit.page
    await page.goto(site.url("/t/gansu/"))
    await audit.check("tenant-home")
    await page.goto(site.url("/t/gansu/signin"))
    await audit.check("signin")
    form = page.locator("form[action$='/signin/applicant']")
    await form.get_by_label("身份证号").fill("123")
    await form.get_by_role("button", name="登录").click()
    await expect(form.locator(".field-error").first).to_be_visible()
    await audit.check("signin-errors")
    await page.goto(site.app.seeded["certificate"]["qr_text"])
    await expect(page.locator(".verdict-label")).to_have_text("有效")
    await audit.check("verification")


async def employer(audit: Audit, site: Site) -> None:
    page = audit.page
    await sign_in_staff(page, site.origin, "employer2")
    await page.goto(site.url("/t/gansu/cases"))
    await audit.check("my-cases")
    await page.goto(site.url("/t/gansu/cases/new?procedure=reissue"))
    await audit.check("new-case")
    await page.get_by_role("button", name="开始填写").click()
    await page.wait_for_url(re.compile(r"/cases/\d+/parts/0$"))
    case_url = page.url.rsplit("/parts/", 1)[0]
    await page.get_by_label("身份证号", exact=True).fill("62010219850130041")
    await page.get_by_role("button", name="保存，下一步").click()
    await expect(page.locator("#id_number-error")).to_be_visible()
    await audit.check("step-errors")
    await page.goto(case_url + "/parts/1")
    await audit.check("step-title")
    await page.goto(case_url + "/attachments")
    await audit.check("attachments")
    await page.goto(case_url)
    await page.get_by_role("button", name="提交申请").click()
    await expect(page.locator("#submit-panel .problems")).to_be_visible()
    await audit.check("case-submit-problems")


async def clerk(audit: Audit, site: Site) -> None:
    page = audit.page
    await sign_in_staff(page, site.origin, "clerk")
    await page.goto(site.url("/t/gansu/queue?procedure=reissue"))
    await audit.check("queue")
    waiting = site.app.seeded["waiting"][0]
    await page.locator(f"#row-{waiting} > a").click()
    await expect(page.locator(f"#queue-pane .case-pane[data-case-id='{waiting}']")).to_be_visible()
    await audit.check("queue-pane")
    await page.get_by_role("button", name="退回修改").click()  # without the reason it needs
    await expect(page.locator("#reason")).to_have_attribute("aria-invalid", "true")
    await audit.check("queue-pane-errors")


async def holder(audit: Audit, site: Site) -> None:
    page = audit.page
    await sign_in_holder(page, site.origin)
    await audit.check("me")
    await page.goto(site.url("/t/gansu/my/certificates"))
    await audit.check("my-certificates")


WALKS: dict[str, Walk] = {"visitor": visitor, "employer": employer, "clerk": clerk, "holder": holder}


@pytest.mark.parametrize("audience", list(WALKS))
@pytest.mark.parametrize("kind", KINDS)
async def test_main_pages_pass_axe(site: Site, pages: Pages, kind: str, audience: str) -> None:
    audit = Audit(await pages.new(kind), kind, audience)
    await WALKS[audience](audit, site)
    audit.assert_clean()
