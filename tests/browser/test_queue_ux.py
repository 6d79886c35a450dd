"""The sealer's and reviewer's rough edges in Chromium (issue 11), on a 1366×900 desktop:

- off the batch day the sealing controls are disabled, with the reason and the next batch day in view;
- the pane's action buttons are in view without scrolling, and stay in view while the case's data scrolls;
- 批量用印 asks first: dismissed, nothing is posted; accepted, the batch runs with its busy state;
- the main pages, with htmx at work on them, log no script error and nothing refused by the CSP.

The cases come from tests/browser/seed.py (``at_sealer``: two reissues waiting for the city sealer); the
server's case clock is moved with ``Site.set_day`` and put back on the flow's start day afterwards.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Dialog, Page, Request, expect

from tests.browser.harness import (
    BATCH_DAY,
    START_DAY,
    Pages,
    Site,
    queue_page,
    screenshot,
    sign_in_staff,
)

pytestmark = pytest.mark.browser

LAPTOP = {"viewport": {"width": 1366, "height": 900}}


@pytest.fixture
async def day(site: Site) -> AsyncIterator[Site]:
    """The site, whose clock a test may move; back on the start day afterwards (the flow expects it)."""
    yield site
    site.set_day(START_DAY)


async def in_view(page: Page, selector: str) -> list[str]:
    """The elements matching ``selector`` not fully inside the viewport, or covered by something else where
    they are (a person could not see or click them without scrolling)."""
    return await page.evaluate(
        """(selector) => {
            const hidden = [];
            for (const element of document.querySelectorAll(selector)) {
                const box = element.getBoundingClientRect();
                const inside = box.width > 0 && box.top >= 0 && box.left >= 0
                    && box.bottom <= window.innerHeight && box.right <= window.innerWidth;
                const x = box.left + box.width / 2, y = box.top + box.height / 2;
                const found = inside && document.elementFromPoint(x, y);
                if (!found || !(found === element || element.contains(found))) {
                    hidden.push((element.textContent || element.id).trim() + " top=" + Math.round(box.top));
                }
            }
            return hidden;
        }""",
        selector,
    )


async def test_off_the_batch_day_sealing_is_disabled_and_the_buttons_are_in_view(
    day: Site, pages: Pages
) -> None:
    day.set_day(START_DAY)  # the 23rd: reissues are sealed on the 25th
    case_id = day.app.seeded["at_sealer"][0]
    sealer = await queue_page(pages, day, "sealer", **LAPTOP)
    batch = sealer.get_by_role("button", name="批量用印")
    await expect(batch).to_be_disabled()
    await expect(sealer.locator("#batch-closed")).to_contain_text("下一个集中办理日是2026年11月25日")
    await expect(batch).to_have_attribute("aria-describedby", "batch-closed")
    await expect(sealer.locator(f"#row-{case_id} input[type=checkbox]")).to_be_disabled()

    await sealer.locator(f"#row-{case_id} > a").click()
    await expect(sealer.locator(f"#queue-pane .case-pane[data-case-id='{case_id}']")).to_be_visible()
    seal = sealer.get_by_role("button", name="核对无误，用印")
    await expect(seal).to_be_disabled()
    await expect(sealer.locator("#sealing-closed")).to_contain_text("下一个集中办理日是2026年11月25日")
    await expect(sealer.get_by_role("button", name="退回修改")).to_be_enabled()
    preview = sealer.locator("#queue-pane img[src$='/files/qualification_doc/preview']")
    await expect(preview).to_have_attribute("alt", re.compile("第一页预览$"))
    await preview.scroll_into_view_if_needed()
    await expect(preview).to_have_js_property("complete", True)
    assert await preview.evaluate("(img) => img.naturalWidth") > 0, "the PDF's preview did not load"
    await sealer.locator("#queue-pane").evaluate("(pane) => { pane.scrollTop = 0; }")

    # 1366×900, nothing scrolled: the reason, the reason box and every action button are in view.
    assert await sealer.evaluate("() => window.scrollY") == 0
    assert await in_view(sealer, "#decision-form .decision-buttons button, #sealing-closed, #reason") == []
    await screenshot(sealer, "desktop-03-sealer-pane-1366", full_page=False)
    # The case's data scrolls inside the pane; the action bar stays in view above it.
    await sealer.locator("#queue-pane").evaluate("(pane) => { pane.scrollTop = pane.scrollHeight; }")
    await expect(sealer.locator("#queue-pane .history")).to_be_in_viewport()
    assert await in_view(sealer, "#decision-form .decision-buttons button") == []
    pages.assert_no_script_errors()


async def test_batch_sealing_asks_first_and_a_dismissed_dialog_posts_nothing(day: Site, pages: Pages) -> None:
    day.set_day(BATCH_DAY)
    first, second = day.app.seeded["at_sealer"]
    sealer = await queue_page(pages, day, "sealer", **LAPTOP)
    posted: list[str] = []

    def keep(request: Request) -> None:
        if request.method == "POST":
            posted.append(request.url)

    sealer.on("request", keep)
    # What the page looks like while the batch runs: the button disabled, the spinner shown.
    await sealer.evaluate(
        """() => {
            window.busy = [];
            document.addEventListener("htmx:beforeSend", () => {
                const button = document.getElementById("batch-button");
                const spinner = document.getElementById("batch-busy");
                window.busy.push({
                    disabled: !!button && button.disabled,
                    spinning: !!spinner && getComputedStyle(spinner).visibility === "visible",
                });
            });
        }"""
    )
    batch = sealer.get_by_role("button", name="批量用印")
    await expect(batch).to_be_enabled()
    await sealer.locator(f"#row-{first} input[type=checkbox]").check()

    asked: list[str] = []

    async def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.dismiss()

    sealer.once("dialog", dismiss)
    await batch.click()
    # Dismissed: nothing posted (counted at the end: one POST for the two clicks), nothing sealed.
    await expect(sealer.locator(f"#row-{first}")).to_have_count(1)
    await expect(sealer.locator(".batch-results")).to_have_count(0)
    assert len(asked) == 1 and "批量用印" in asked[0], asked

    async def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    sealer.once("dialog", accept)
    await batch.click()
    results = sealer.locator("#queue-pane .batch-results")
    await expect(results).to_contain_text("已用印 1 件")
    await expect(sealer.locator(f"#row-{first}")).to_have_count(0)
    await expect(sealer.locator(f"#row-{second}")).to_have_count(1)
    assert len(asked) == 2 and posted == [day.url("/t/gansu/queue/seal-batch")]
    assert await sealer.evaluate("() => window.busy") == [{"disabled": True, "spinning": True}]
    await screenshot(sealer, "desktop-04-batch-sealed", full_page=False)
    pages.assert_no_script_errors()


async def test_main_pages_log_no_script_errors_and_nothing_refused_by_the_csp(
    day: Site, pages: Pages
) -> None:
    """htmx's own indicator <style> is off (base.html's htmx-config) and app.css styles .htmx-indicator: with
    htmx swapping on the pages, the console has no error at all (no CSP refusal, no failed image)."""
    day.set_day(START_DAY)
    visitor = await pages.new("desktop")
    for path in ("/", "/t/gansu/", "/t/gansu/signin"):
        await visitor.goto(day.url(path))
    await visitor.goto(day.app.seeded["certificate"]["qr_text"])  # the verification page

    clerk = await queue_page(pages, day, "clerk", **LAPTOP)
    waiting = day.app.seeded["waiting"][0]
    await clerk.locator(f"#row-{waiting} > a").click()  # an htmx swap, with its request classes
    await expect(clerk.locator(f"#queue-pane .case-pane[data-case-id='{waiting}']")).to_be_visible()
    photo = clerk.locator("#queue-pane img[src$='/files/photo/preview']")
    await photo.scroll_into_view_if_needed()
    await expect(photo).to_have_js_property("complete", True)
    await clerk.get_by_role("button", name="退回修改").click()  # no reason: a 422 swapped in
    await expect(clerk.locator("#reason")).to_have_attribute("aria-invalid", "true")
    await clerk.locator("#f-q").fill("赵一")
    await clerk.get_by_role("button", name="筛选").click()
    await expect(clerk).to_have_url(re.compile(r"q=%E8%B5%B5%E4%B8%80"))

    admin = await pages.new("desktop")
    await sign_in_staff(admin, day.origin, "admin")
    for path in ("/t/gansu/admin/certificates/", "/t/gansu/admin/calendar", "/t/gansu/admin/rules"):
        await admin.goto(day.url(path))
        await expect(admin.locator("h1")).to_be_visible()

    # Chromium logs every 4xx answer as an error; a form re-rendered with its errors (422) is by design.
    problems = [
        f"{page.url}: {message}"
        for page, messages in pages.console.items()
        for message in messages
        if (message.startswith(("error:", "pageerror:")) and "status of 422" not in message)
        or "Content Security Policy" in message
    ]
    assert problems == []
    styles = await clerk.evaluate("() => document.querySelectorAll('style').length")
    assert styles == 0, "an inline <style> was added to the page"
    assert await visitor.evaluate("() => htmx.config.includeIndicatorStyles") is False
