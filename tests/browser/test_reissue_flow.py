"""A Gansu reissue (甘职改办〔2020〕2号) from end to end in Chromium, as its people use it:

1. the employer's clerk files it on a phone (360×640, touch): each form step (one with an error shown next
   to its field), the photo and two PDFs with the upload progress bar, submit → 审核中;
2. the Lanzhou city office works it through the queue with the keyboard (j/k, Enter, r + reason, a): the
   clerk returns it once, the employer fixes it on the phone and resubmits, the clerk and the reviewer
   approve, the sealer is told the next batch day on the 23rd and seals on the 25th (the server's case clock
   is the test's, see serve_app.py);
3. the holder signs in with ID number, name and password, downloads the certificate PDF, and opens the
   verification page from the QR code's URL: 有效.

The tests run in file order and hand the case on through ``FLOW``; a later step is skipped when an earlier
one failed. Screenshots of each page go to the artefacts directory (harness.ARTIFACTS).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest
from playwright.async_api import Dialog, Page, expect

from tests.browser.harness import (
    BATCH_DAY,
    HOLDER_ID,
    HOLDER_NAME,
    START_DAY,
    Pages,
    Site,
    assert_no_horizontal_scroll,
    queue_page,
    screenshot,
    sign_in_holder,
    sign_in_staff,
)
from tests.cases_support import pdf_file, photo

pytestmark = pytest.mark.browser

FLOW: dict[str, Any] = {}
RETURN_REASON = "资格文件号与扫描件不一致，请核对"


def need(key: str) -> Any:
    if key not in FLOW:
        pytest.fail(
            f"needs the earlier step of the flow, which did not get as far as {key!r}: run the module"
        )
    return FLOW[key]


TITLE = {
    "取得方式": "review",
    "级别": "intermediate",
    "职称系列": "中小学教师系列",
}
TEXTS = {
    "资格名称": "一级教师",
    "专业名称": "数学",
    "取得资格时间": "2012-09-01",
    "评审（认定）机构名称": "兰州市城关区中小学教师系列中级职称评审委员会",
    "资格文件号": "甘职改办〔2013〕12号",
    "老证书管理号": "-1",
}
FILES = {
    # slot → (file name, content, media type): a 25×35 mm colour portrait (250×350 px) and two PDFs
    "photo": ("王小明.jpg", photo(25, 35, scale=10), "image/jpeg"),
    "qualification_doc": ("资格文件.pdf", pdf_file(), "application/pdf"),
    "review_form": ("审批表.pdf", pdf_file(2), "application/pdf"),
}


async def fits(page: Page, name: str) -> None:
    """On a phone: nothing scrolls sideways; the page is kept as a screenshot."""
    await assert_no_horizontal_scroll(page, 360)
    await screenshot(page, name)


# --- 1. the employer's clerk files it on a phone ---------------------------------------------------------


async def test_employer_clerk_files_a_reissue_on_a_phone(site: Site, pages: Pages) -> None:
    page = await pages.new("phone")
    await sign_in_staff(page, site.origin, "employer")
    await page.goto(site.url("/t/gansu/cases"))
    await expect(page.get_by_role("heading", name="我的申请", exact=True)).to_be_visible()
    await fits(page, "phone-01-my-cases")

    offers = page.locator("section[aria-labelledby='offers-title']")
    await offers.get_by_role("link", name=re.compile("遗失纸质证书补办电子证书")).click()
    await page.wait_for_url(re.compile(r"/t/gansu/cases/new\?procedure=reissue$"))
    await fits(page, "phone-02-new-reissue")
    await page.get_by_role("button", name="开始填写").click()
    await page.wait_for_url(re.compile(r"/t/gansu/cases/\d+/parts/0$"))
    match = re.search(r"/cases/(\d+)/parts/0$", page.url)
    assert match
    case_id = int(match.group(1))

    # Step 1: the holder. A mistyped ID number is refused next to its field; the rest is kept.
    await page.get_by_label("姓名", exact=True).fill(HOLDER_NAME)
    await page.get_by_label("身份证号", exact=True).fill(
        HOLDER_ID[:-1] + ("1" if HOLDER_ID[-1] != "1" else "2")
    )
    await page.get_by_label("性别", exact=True).select_option("男")
    await page.get_by_role("button", name="保存，下一步").click()
    id_field = page.get_by_label("身份证号", exact=True)
    await expect(id_field).to_have_attribute("aria-invalid", "true")
    error = page.locator("#id_number-error")
    await expect(error).to_be_visible()
    await expect(id_field).to_have_attribute("aria-describedby", re.compile(r"\bid_number-error\b"))
    await expect(page.get_by_label("姓名", exact=True)).to_have_value(HOLDER_NAME)
    assert await page.evaluate(
        """() => {
            const field = document.getElementById("f-id_number").closest(".field");
            return field.contains(document.getElementById("id_number-error"));
        }"""
    ), "the error is not next to its field"
    await fits(page, "phone-03-step-error")
    await id_field.fill(HOLDER_ID)
    await page.get_by_role("button", name="保存，下一步").click()
    await page.wait_for_url(re.compile(rf"/cases/{case_id}/parts/1$"))

    # Step 2: the lost certificate.
    for label, value in TITLE.items():
        await page.get_by_label(label, exact=True).select_option(value)
    for label, value in TEXTS.items():
        await page.get_by_label(label, exact=True).fill(value)
    await fits(page, "phone-04-step-title")
    await page.get_by_role("button", name=re.compile("保存，下一步")).click()
    await page.wait_for_url(re.compile(rf"/cases/{case_id}/attachments$"))

    # Step 3: the files, each with its progress bar.
    await page.evaluate(
        """() => {
            window.uploadProgress = [];
            document.addEventListener("htmx:xhr:progress", (event) => {
                const form = event.target.closest && event.target.closest("form[data-upload]");
                const box = form && form.querySelector("[data-progress-box]");
                const bar = form && form.querySelector("progress[data-progress]");
                if (box && bar) window.uploadProgress.push({visible: !box.hidden, value: bar.value});
            });
        }"""
    )
    for slot, (name, content, media_type) in FILES.items():
        section = page.locator(f"#slot-{slot}")
        await expect(section.locator("progress[data-progress]")).to_have_count(1)
        await section.locator("input[type=file]").set_input_files(
            {"name": name, "mimeType": media_type, "buffer": content}
        )
        await section.get_by_role("button", name="上传").click()
        await expect(section.locator(".notice")).to_have_text("上传成功")
        await expect(section.locator(".current-file")).to_contain_text(name)
    progress = await page.evaluate("() => window.uploadProgress")
    assert any(item["visible"] and item["value"] > 0 for item in progress), progress
    await fits(page, "phone-05-attachments")

    # Check and submit.
    await page.get_by_role("link", name="下一步：核对并提交").click()
    await page.wait_for_url(re.compile(rf"/cases/{case_id}$"))
    await page.get_by_role("button", name="提交申请").click()
    await expect(page.locator(".state-label")).to_have_text("审核中")
    await fits(page, "phone-06-submitted")
    pages.assert_no_script_errors()
    FLOW["case_id"] = case_id


# --- 2. the city office works it through the queue with the keyboard --------------------------------------


async def open_with_keyboard(page: Page, case_id: int) -> None:
    """j until the case's row has the focus (k back and j again on the way), then Enter opens its pane (and
    its URL is pushed, so reload and back keep it)."""
    link = page.locator(f"#row-{case_id} > a")
    await expect(link).to_be_visible()
    rows = await page.locator("#queue-list .q-row > a").count()
    for _ in range(rows):
        await page.keyboard.press("j")
        if await link.evaluate("(a) => a === document.activeElement"):
            break
    await expect(link).to_be_focused()
    if rows > 1:
        await page.keyboard.press("k")
        await expect(link).not_to_be_focused()
        await page.keyboard.press("j")
        await expect(link).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator(f"#queue-pane .case-pane[data-case-id='{case_id}']")).to_be_visible()
    await expect(page).to_have_url(re.compile(rf"/t/gansu/queue/{case_id}\b"))
    await expect(page.locator(f"#row-{case_id}")).to_have_attribute("aria-current", "true")


async def approve_with_a(page: Page, case_id: int) -> None:
    await page.keyboard.press("a")
    await expect(page.locator(f"#row-{case_id}")).to_have_count(0)


async def test_city_office_works_the_case_through_the_queue_with_the_keyboard(
    site: Site, pages: Pages
) -> None:
    case_id = need("case_id")

    # The office clerk returns it: r puts the cursor in the reason box, the reason is typed, Tab reaches
    # the return button.
    clerk = await queue_page(pages, site, "clerk")
    # Switched off (WCAG 2.1.4), the single keys do nothing; switched on again, they work.
    await clerk.locator("#shortcuts-toggle").uncheck()
    await clerk.keyboard.press("j")
    await expect(clerk.locator(f"#row-{case_id} > a")).not_to_be_focused()
    await clerk.reload()
    await expect(clerk.locator("#shortcuts-toggle")).not_to_be_checked()
    await clerk.locator("#shortcuts-toggle").check()
    await open_with_keyboard(clerk, case_id)
    await clerk.keyboard.press("r")
    await expect(clerk.locator("#reason")).to_be_focused()
    await clerk.keyboard.type(RETURN_REASON)
    back = clerk.get_by_role("button", name="退回修改")
    for _ in range(4):
        await clerk.keyboard.press("Tab")
        if await back.evaluate("(button) => button === document.activeElement"):
            break
    await expect(back).to_be_focused()
    await clerk.keyboard.press("Enter")
    await expect(clerk.locator(f"#row-{case_id}")).to_have_count(0)

    # The employer sees 已退回 with the reason on the phone, fixes the document number and resubmits.
    employer = await pages.new("phone")
    await sign_in_staff(employer, site.origin, "employer")
    await employer.goto(site.url(f"/t/gansu/cases/{case_id}"))
    await expect(employer.locator(".state-label")).to_have_text("已退回")
    await expect(employer.locator(".state-reason")).to_contain_text(RETURN_REASON)
    await fits(employer, "phone-07-returned")
    await employer.get_by_role("link", name="修改“原职称证书信息”").click()
    await employer.wait_for_url(re.compile(rf"/cases/{case_id}/parts/1$"))
    await employer.get_by_label("资格文件号", exact=True).fill("甘职改办〔2013〕121号")
    await employer.get_by_role("button", name=re.compile("保存，下一步")).click()
    await employer.wait_for_url(re.compile(rf"/cases/{case_id}/attachments$"))
    await employer.get_by_role("link", name="下一步：核对并提交").click()
    await employer.get_by_role("button", name="修改完毕，重新提交").click()
    await expect(employer.locator(".state-label")).to_have_text("审核中")

    # The clerk approves with a; so does the reviewer (another person: separation of duties).
    await clerk.goto(site.url("/t/gansu/queue?procedure=reissue"))
    await open_with_keyboard(clerk, case_id)
    await approve_with_a(clerk, case_id)

    reviewer = await queue_page(pages, site, "reviewer")
    await open_with_keyboard(reviewer, case_id)
    await assert_no_horizontal_scroll(reviewer)
    await screenshot(reviewer, "desktop-01-queue-pane")
    await approve_with_a(reviewer, case_id)

    # The sealer on the 23rd: reissues are sealed on the batch day only, and the pane says which day.
    site.set_day(START_DAY)
    sealer = await queue_page(pages, site, "sealer")
    # (The sealer's rows sit in the batch form, whose hx-push-url="false" the row links inherit.)
    await open_with_keyboard(sealer, case_id)
    # The seal button is disabled, with the reason and the next batch day up front; a does nothing.
    await expect(sealer.locator("#queue-pane")).to_contain_text("下一个集中办理日是2026年11月25日")
    await expect(sealer.locator("#approve-button")).to_be_disabled()
    await sealer.keyboard.press("a")
    await expect(sealer.locator(f"#row-{case_id}")).to_have_count(1)
    await screenshot(sealer, "desktop-02-sealer-not-batch-day")

    # On the 25th the same key seals it.
    site.set_day(BATCH_DAY)
    await sealer.goto(site.url("/t/gansu/queue?procedure=reissue"))
    await expect(sealer.locator(f"#row-{case_id} input[type=checkbox]")).to_have_count(1)  # batch sealing
    await open_with_keyboard(sealer, case_id)
    # Sealing cannot be undone: it asks first (hx-confirm), and goes ahead once accepted.
    asked: list[str] = []

    async def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    sealer.once("dialog", accept)
    await approve_with_a(sealer, case_id)
    assert asked and "用印" in asked[0], asked

    await employer.goto(site.url(f"/t/gansu/cases/{case_id}"))
    await expect(employer.locator(".state-label")).to_have_text("已办结")
    await fits(employer, "phone-08-completed")
    pages.assert_no_script_errors()
    FLOW["sealed"] = True


# --- 3. the holder downloads the certificate and verifies it ---------------------------------------------


def issued_qr_text(site: Site) -> str:
    with sqlite3.connect(site.app.database) as db:
        rows = db.execute(
            "SELECT qr_text FROM certificate WHERE holder_name = ? AND status = 'valid'", (HOLDER_NAME,)
        ).fetchall()
    assert len(rows) == 1, rows
    return rows[0][0]


async def test_holder_downloads_the_certificate_and_verifies_it(site: Site, pages: Pages) -> None:
    need("sealed")
    page = await pages.new("phone")
    await sign_in_holder(page, site.origin)
    await page.goto(site.url("/t/gansu/my/certificates"))
    certificate = page.locator("main section.panel").filter(has_text="一级教师")
    await expect(certificate).to_have_count(1)
    await expect(certificate).to_contain_text("有效")
    await fits(page, "phone-09-my-certificates")

    async with page.expect_download() as started:
        await certificate.get_by_role("link", name="下载").click()
    download = await started.value
    assert download.suggested_filename.endswith(".pdf")
    path = await download.path()
    content = path.read_bytes()
    assert content.startswith(b"%PDF-") and b"/ByteRange" in content  # signed (PAdES)

    # The QR code's URL (written upper-case, as the QR holds it) opens the verification page.
    shared = await certificate.get_by_label("核验链接").input_value()
    qr_text = issued_qr_text(site)
    assert shared == qr_text
    await page.goto(qr_text)
    await expect(page.locator(".verdict-label")).to_have_text("有效")
    facts = page.locator("dl.facts").first  # the holder's facts; the identifiers follow folded away
    await expect(facts).to_contain_text(HOLDER_NAME)
    await expect(facts).to_contain_text("一级教师")
    await expect(page.locator("body")).not_to_contain_text(HOLDER_ID)  # masked for the public
    await fits(page, "phone-10-verification")
    pages.assert_no_script_errors()
