"""The rough edges applicants and employer clerks meet (issue #11), over real HTTP: 我的电子证书 reachable
from everywhere and listed by 获得职称年度 and 职称名称, locked fields refilled after an error, eligibility
told at the step where its value is entered, drafts withdrawn, the share link, the review page, the
applicant's history, the clerk's full ID number and the search of 我的申请."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date

import httpx
import pytest

from accounts.roles import Role
from audit.services import SYSTEM
from certificates.services import Holder, Title, issue_certificate
from tenants import calendar
from tests.cases_support import ensure_seal, id_number, tenant
from tests.filing_support import hidden_version
from tests.people import SignedIn, signed_in_applicant, signed_in_staff

TODAY = date(2021, 6, 15)
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar, "today_in_china", lambda: TODAY)


def text_of(response: httpx.Response) -> str:
    return html.unescape(response.text)


async def start(filer: SignedIn, slug: str, procedure: str, **extra: str) -> int:
    response = await filer.post(f"/t/{slug}/cases", {"procedure": procedure, **extra})
    assert response.status_code == 303, response.text
    match = re.fullmatch(rf"/t/{slug}/cases/(\d+)/parts/0", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


async def save(filer: SignedIn, url: str, values: dict[str, str], **kwargs: object) -> httpx.Response:
    page = await filer.get(url)
    assert page.status_code == 200, page.text
    return await filer.post(url, {"version": hidden_version(page.text), **values}, **kwargs)


# --- 我的电子证书 ---------------------------------------------------------------------------------------


async def test_my_certificates_is_linked_from_the_header_the_home_page_and_my_account(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    holder = await signed_in_applicant(
        new_client, "gansu", "陈明", id_number("620100", "19800111", 31), "620102-employer-school"
    )
    link = 'href="/t/gansu/my/certificates"'
    for url in ("/t/gansu/", "/t/gansu/me", "/t/gansu/cases"):
        page = text_of(await holder.get(url))
        header = page.split('<main id="main"')[0]
        assert f"<a {link}>我的电子证书</a>" in header, url
    assert (
        f"<a {link}>我的电子证书</a>" in text_of(await holder.get("/t/gansu/me")).split('<main id="main"')[1]
    )
    assert f"<a {link}>我的电子证书</a>" in text_of(await holder.get("/t/gansu/")).split('<main id="main"')[1]
    # Staff have no certificates of their own here: their header does not offer the page.
    clerk = await signed_in_staff(new_client, "gansu", ("620102-employer-school", Role.clerk))
    assert link not in text_of(await clerk.get("/t/gansu/cases")).split('<main id="main"')[0]


async def test_my_certificates_are_listed_and_chosen_by_year_obtained_and_title(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    number = id_number("620100", "19800212", 33)
    holder = await signed_in_applicant(new_client, "gansu", "赵华", number, "620102-employer-school")
    gansu = await tenant("gansu")
    await ensure_seal("gansu", "620000-province_office")
    person = Holder("赵华", number, "男")
    issued = {}
    for title_name, obtained, issued_on in (
        ("一级教师", date(2008, 9, 1), date(2021, 3, 25)),
        ("高级教师", date(2016, 12, 30), date(2020, 6, 28)),
    ):
        row = await issue_certificate(
            gansu,
            SYSTEM,
            authority_code="620000-province_office",
            holder=person,
            title=Title("中小学教师系列", title_name, "数学", obtained, "甘肃省中小学教师系列评审委员会"),
            issue_date=issued_on,
        )
        issued[title_name] = row
    page = text_of(await holder.get("/t/gansu/my/certificates"))
    # By the year obtained (甘职改办〔2020〕2号 (七) 第三步), newest first — not by issue year.
    assert re.search(r"<h2>2016年度 · 高级教师</h2>.*<h2>2008年度 · 一级教师</h2>", page, re.S)
    assert "2021年 ·" not in page and "2020年 ·" not in page
    # The GET form picks them by 获得职称年度 and 获得职称名称.
    assert '<form method="get" action="/t/gansu/my/certificates"' in page
    assert (
        '<label for="f-year">获得职称年度</label>' in page
        and '<label for="f-title">获得职称名称</label>' in page
    )
    assert (
        '<option value="2008">2008年度</option>' in page
        and '<option value="高级教师">高级教师</option>' in page
    )
    chosen = text_of(await holder.get("/t/gansu/my/certificates", params={"year": "2008"}))
    assert "<h2>2008年度 · 一级教师</h2>" in chosen and "高级教师</h2>" not in chosen
    assert '<option value="2008" selected>2008年度</option>' in chosen
    chosen = text_of(await holder.get("/t/gansu/my/certificates", params={"title": "高级教师"}))
    assert "<h2>2016年度 · 高级教师</h2>" in chosen and "一级教师</h2>" not in chosen
    none = text_of(await holder.get("/t/gansu/my/certificates", params={"year": "2008", "title": "高级教师"}))
    assert "没有符合条件的证书" in none
    # With htmx only the list is swapped.
    partial = await holder.get("/t/gansu/my/certificates", params={"year": "2016"}, headers=HTMX)
    assert "<html" not in partial.text and partial.text.lstrip().startswith('<div id="certificate-list"')


async def test_the_share_link_reads_as_a_link_with_a_copy_button(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    number = id_number("620100", "19800313", 35)
    holder = await signed_in_applicant(new_client, "gansu", "孙丽", number, "620102-employer-school")
    await ensure_seal("gansu", "620000-province_office")
    row = await issue_certificate(
        await tenant("gansu"),
        SYSTEM,
        authority_code="620000-province_office",
        holder=Holder("孙丽", number, "女"),
        title=Title("卫生系列", "主治医师", "内科", date(2012, 5, 1), "甘肃省卫生系列评审委员会"),
        issue_date=TODAY,
    )
    page = text_of(await holder.get("/t/gansu/my/certificates"))
    qr = row["qr_text"]
    # The link itself, to tap; a read-only box to select by hand without JavaScript; a copy button for it.
    assert f'<a href="{qr}" class="share-link"' in page
    assert re.search(rf'<input id="share-{row["id"]}" [^>]*readonly value="{re.escape(qr)}"', page)
    assert f'<button type="button" class="button secondary copy-button" data-copy="share-{row["id"]}"' in page
    assert re.search(r'<script src="/static/copy\.js\?v=\w+" defer>', page)
    script = await holder.get(re.search(r'src="(/static/copy\.js\?v=\w+)"', page).group(1))  # type: ignore[union-attr]
    assert script.status_code == 200 and "navigator.clipboard" in script.text
