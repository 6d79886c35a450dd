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
from audit.tables import AuditEvent
from cases.workflow import Action
from certificates.services import Holder, Title, issue_certificate
from tenants import calendar
from tenants.vocabulary import Procedure
from tests.cases_support import (
    REISSUE_TITLE,
    build_case,
    decide,
    ensure_seal,
    id_number,
    pdf_file,
    photo,
    tenant,
    version,
)
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


# --- filing: the form, the review page, the history ---------------------------------------------------

NINGXIA_CERTIFICATE = {
    "series": "卫生系列",
    "title_name": "主任医师",
    "specialty": "内科",
    "level": "senior",
    "highest_level": "senior",
    "certificate_no": "NX2015-0031",
    "qualification_doc_no": "宁人社函[2019]210号",
    "obtained_on": "2019-03-20",
    "issuing_body": "宁夏回族自治区人力资源和社会保障厅",
    "limited_scope": "false",
}
NINGXIA_PARTS = [{"gender": "女", "employer": "640402-employer-school"}, NINGXIA_CERTIFICATE]
NINGXIA_FILES = {"cover_1": photo(), "cover_2": photo()}


async def ningxia_applicant(new_client: Callable[[], httpx.AsyncClient], name: str, serial: int) -> SignedIn:
    return await signed_in_applicant(
        new_client, "ningxia", name, id_number("640100", "19700315", serial), "640402-employer-school"
    )


async def test_the_locked_name_and_id_number_come_back_after_an_error(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    filer = await ningxia_applicant(new_client, "田野", 41)
    case_id = await start(filer, "ningxia", "digitization")
    url = f"/t/ningxia/cases/{case_id}/parts/0"
    for headers in ({}, HTMX):
        response = await save(
            filer, url, {"gender": "", "employer": "640402-employer-school"}, headers=headers
        )
        assert response.status_code == 422
        page = text_of(response)
        assert re.search(r'id="f-holder_name" type="text" value="田野" readonly', page)
        assert re.search(r'id="f-id_number" type="text" value="640100197003150\d{3}" readonly', page)


async def test_the_review_page_shows_the_data_before_the_submit_button(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    filer = await ningxia_applicant(new_client, "白云", 43)
    case_id = await build_case(
        "ningxia", Procedure.digitization, filer.principal, NINGXIA_PARTS, NINGXIA_FILES
    )
    page = text_of(await filer.get(f"/t/ningxia/cases/{case_id}"))
    data, files, button, history = (
        page.index("NX2015-0031"),
        page.index('id="files-title"'),
        page.index(f'action="/t/ningxia/cases/{case_id}/submit"'),
        page.index('id="history-title"'),
    )
    assert data < files < button < history


async def test_the_applicant_history_shows_what_matters_to_them(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    filer = await ningxia_applicant(new_client, "林涛", 45)
    case_id = await build_case(
        "ningxia", Procedure.digitization, filer.principal, NINGXIA_PARTS, NINGXIA_FILES
    )
    await submit_case_as(filer, "ningxia", case_id)
    unit_admin = await signed_in_staff(new_client, "ningxia", ("640402-employer-school", Role.org_admin))
    await decide("ningxia", unit_admin.principal, case_id, Action.return_, "封面2照片不清晰")
    history = text_of(await filer.get(f"/t/ningxia/cases/{case_id}")).split('id="history-title"')[1]
    assert "<strong>提交</strong> → 审核中" in history
    assert "<strong>退回</strong> → 已退回" in history and "理由：封面2照片不清晰" in history
    assert "<strong>保存</strong>" not in history and "<strong>上传附件</strong>" not in history
    # Staff on the case still see every change.
    staff_history = text_of(await unit_admin.get(f"/t/ningxia/cases/{case_id}")).split('id="history-title"')[
        1
    ]
    assert "<strong>保存</strong>" in staff_history and "<strong>上传附件</strong>" in staff_history


async def submit_case_as(filer: SignedIn, slug: str, case_id: int) -> None:
    page = await filer.get(f"/t/{slug}/cases/{case_id}")
    response = await filer.post(f"/t/{slug}/cases/{case_id}/submit", {"version": hidden_version(page.text)})
    assert response.status_code == 303, text_of(response)


# --- employer clerks ---------------------------------------------------------------------------------


async def test_the_clerk_filing_or_checking_a_case_sees_the_full_id_number(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    holder_id = id_number("620100", "19800404", 47)
    masked = f"{holder_id[:6]}********{holder_id[-4:]}"
    filer = await signed_in_staff(new_client, "gansu", ("620102-employer-school", Role.clerk))
    parts = [{"holder_name": "郑重", "id_number": holder_id, "gender": "男"}, REISSUE_TITLE]
    case_id = await build_case(
        "gansu",
        Procedure.reissue,
        filer.principal,
        parts,
        {"photo": photo(), "qualification_doc": pdf_file(), "review_form": pdf_file()},
        filer_org="620102-employer-school",
    )
    url = f"/t/gansu/cases/{case_id}"
    assert f"<dd>{holder_id}</dd>" in text_of(await filer.get(url))  # the filer checks what was typed
    await submit_case_as(filer, "gansu", case_id)
    office_clerk = await signed_in_staff(new_client, "gansu", ("620100-city_office", Role.clerk))
    reviewer = await signed_in_staff(new_client, "gansu", ("620100-city_office", Role.reviewer))
    # The office clerk acts on it now (核对): the full number. The reviewer, whose turn has not come: masked.
    assert f"<dd>{holder_id}</dd>" in text_of(await office_clerk.get(url))
    page = text_of(await reviewer.get(url))
    assert f"<dd>{masked}</dd>" in page and holder_id not in page


# --- eligibility at the step where its value is entered ----------------------------------------------


async def test_a_reissue_of_a_2019_title_is_refused_at_the_title_step_and_again_at_submit(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    clerk = await signed_in_staff(new_client, "gansu", ("620102-employer-school", Role.clerk))
    case_id = await start(clerk, "gansu", "reissue", filer_org="620102-employer-school")
    base = f"/t/gansu/cases/{case_id}"
    holder = {"holder_name": "钱进", "id_number": id_number("620100", "19800505", 49), "gender": "男"}
    assert (await save(clerk, f"{base}/parts/0", holder)).status_code == 303
    late = {**REISSUE_TITLE, "obtained_on": "2019-03-01"}
    refusal = "2019年起取得的职称已发放电子证书，无需补办；只有2018年底前取得的纸质证书可以补办"
    for headers in ({}, HTMX):
        response = await save(clerk, f"{base}/parts/1", late, headers=headers)
        assert response.status_code == 422  # told here, before any upload, and the step does not move on
        page = text_of(response)
        assert f'<p class="form-error" role="alert">{refusal}</p>' in page
        assert 'value="2019-03-01"' in page
    # Submitting (before any upload) gives the same refusal, from the same rules.
    response = await clerk.post(f"{base}/submit", {"version": hidden_version((await clerk.get(base)).text)})
    assert response.status_code == 422
    page = text_of(response)
    assert refusal in page and "请上传" not in page
    response = await save(clerk, f"{base}/parts/1", REISSUE_TITLE)
    assert response.status_code == 303 and response.headers["location"] == f"{base}/attachments"


async def test_a_procedure_refusal_is_told_next_to_its_field_at_its_step(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    # 原人社函〔2021〕85号 一(三): the 封二 remark makes a certificate ineligible; it is asked on step 2.
    filer = await ningxia_applicant(new_client, "马驰", 51)
    case_id = await start(filer, "ningxia", "digitization")
    base = f"/t/ningxia/cases/{case_id}"
    assert (await save(filer, f"{base}/parts/0", NINGXIA_PARTS[0])).status_code == 303
    response = await save(filer, f"{base}/parts/1", {**NINGXIA_CERTIFICATE, "limited_scope": "true"})
    assert response.status_code == 422
    page = text_of(response)
    refusal = "职称证书封二中印有“在全区非公有制经济组织范围内有效或所属范围内有效”字样的证书不予换发"
    assert f'<p class="field-error" id="limited_scope-error">{refusal}</p>' in page
    response = await save(filer, f"{base}/parts/1", NINGXIA_CERTIFICATE)
    assert response.status_code == 303


async def test_my_cases_are_searched_by_name_id_tail_procedure_and_state(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    clerk = await signed_in_staff(new_client, "gansu", ("620102-employer-hospital", Role.clerk))
    ids = {}
    for name, serial in (("欧阳修", 53), ("欧阳询", 55), ("苏轼", 57)):
        number = id_number("620100", "19800606", serial)
        parts = [{"holder_name": name, "id_number": number, "gender": "男"}, REISSUE_TITLE]
        ids[name] = (
            await build_case(
                "gansu", Procedure.reissue, clerk.principal, parts, {}, "620102-employer-hospital"
            ),
            number[-4:],
        )
    files = {"photo": photo(), "qualification_doc": pdf_file(), "review_form": pdf_file()}
    submitted = await build_case(
        "gansu",
        Procedure.reissue,
        clerk.principal,
        [
            {"holder_name": "苏辙", "id_number": id_number("620100", "19800606", 59), "gender": "男"},
            REISSUE_TITLE,
        ],
        files,
        "620102-employer-hospital",
    )
    await submit_case_as(clerk, "gansu", submitted)

    def listed(page: str) -> set[int]:
        return {int(found) for found in re.findall(r'<h3><a href="/t/gansu/cases/(\d+)">', page)}

    page = text_of(await clerk.get("/t/gansu/cases"))
    assert '<form method="get" action="/t/gansu/cases"' in page and 'role="search"' in page
    assert '<label for="f-q">姓名或身份证后四位</label>' in page
    assert listed(page) == {case_id for case_id, _ in ids.values()} | {submitted}
    by_surname = text_of(await clerk.get("/t/gansu/cases", params={"q": "欧阳"}))
    assert listed(by_surname) == {ids["欧阳修"][0], ids["欧阳询"][0]}
    assert 'value="欧阳"' in by_surname  # the form keeps the search
    case_id, tail = ids["苏轼"]
    assert listed(text_of(await clerk.get("/t/gansu/cases", params={"q": tail}))) == {case_id}
    assert f"（身份证后四位 {tail}）" in text_of(await clerk.get("/t/gansu/cases"))
    in_review = text_of(await clerk.get("/t/gansu/cases", params={"state": "in_review"}))
    assert (
        listed(in_review) == {submitted} and '<option value="in_review" selected>审核中</option>' in in_review
    )
    assert listed(text_of(await clerk.get("/t/gansu/cases", params={"procedure": "collection"}))) == set()
    drafts = await clerk.get("/t/gansu/cases", params={"procedure": "reissue", "state": "draft", "q": "苏"})
    assert listed(text_of(drafts)) == {ids["苏轼"][0]}
    nothing = text_of(await clerk.get("/t/gansu/cases", params={"q": "无此人"}))
    assert listed(nothing) == set() and "没有符合条件的申请" in nothing
    # With htmx only the list is swapped; an unknown procedure or state filters nothing.
    partial = await clerk.get("/t/gansu/cases", params={"q": "欧阳"}, headers=HTMX)
    assert partial.text.lstrip().startswith('<div id="case-list"') and "<html" not in partial.text
    assert (
        len(listed(text_of(await clerk.get("/t/gansu/cases", params={"state": "x", "procedure": "y"})))) == 4
    )


# --- withdrawing --------------------------------------------------------------------------------------


async def audit_actions(case_id: int) -> list[str]:
    rows = await AuditEvent.select(AuditEvent.action).where(AuditEvent.subject == f"case:{case_id}")
    return [row["action"] for row in rows]


async def test_a_draft_is_deleted_after_confirmation_and_the_audit_log_keeps_it(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    filer = await ningxia_applicant(new_client, "吴桐", 61)
    case_id = await build_case(
        "ningxia", Procedure.digitization, filer.principal, NINGXIA_PARTS, NINGXIA_FILES
    )
    base = f"/t/ningxia/cases/{case_id}"
    page = text_of(await filer.get(base))
    assert f'<a class="button secondary" href="{base}/withdraw">删除草稿</a>' in page
    confirm = text_of(await filer.get(f"{base}/withdraw"))
    assert "已填写的内容和上传的附件将一并删除，不能恢复" in confirm and "确定删除" in confirm
    assert f'<form method="post" action="{base}/withdraw"' in confirm and f'href="{base}">取消</a>' in confirm
    # Somebody else cannot, and a stale version changes nothing.
    stranger = await ningxia_applicant(new_client, "路人", 63)
    assert (await stranger.post(f"{base}/withdraw", {"version": hidden_version(confirm)})).status_code == 403
    assert (await filer.post(f"{base}/withdraw", {"version": "0"})).status_code == 409
    response = await filer.post(f"{base}/withdraw", {"version": hidden_version(confirm)})
    assert response.status_code == 303 and response.headers["location"] == "/t/ningxia/cases"
    assert (await filer.get(base)).status_code == 404
    assert f'href="{base}"' not in text_of(await filer.get("/t/ningxia/cases"))
    assert (await audit_actions(case_id))[-1] == "case.delete"


async def test_a_submitted_case_is_withdrawn_only_while_nobody_has_acted_on_it(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    filer = await ningxia_applicant(new_client, "周全", 65)
    case_id = await build_case(
        "ningxia", Procedure.digitization, filer.principal, NINGXIA_PARTS, NINGXIA_FILES
    )
    base = f"/t/ningxia/cases/{case_id}"
    await submit_case_as(filer, "ningxia", case_id)
    page = text_of(await filer.get(base))
    assert f'<a class="button secondary" href="{base}/withdraw">撤回申请</a>' in page
    confirm = text_of(await filer.get(f"{base}/withdraw"))
    assert "撤回后申请退出审核、回到草稿" in confirm
    response = await filer.post(f"{base}/withdraw", {"version": hidden_version(confirm)})
    assert response.status_code == 303 and response.headers["location"] == base
    page = text_of(await filer.get(base))
    assert '<p class="state-label" id="state-title">草稿</p>' in page
    assert "<strong>撤回</strong> → 草稿" in page.split('id="history-title"')[1]
    assert "case.withdraw" in await audit_actions(case_id)
    unit_admin = await signed_in_staff(new_client, "ningxia", ("640402-employer-school", Role.org_admin))
    assert f"/queue/{case_id}" not in text_of(await unit_admin.get("/t/ningxia/queue"))
    # Submitted again and acted on (returned, resubmitted): no withdrawing any more.
    await submit_case_as(filer, "ningxia", case_id)
    await decide("ningxia", unit_admin.principal, case_id, Action.return_, "请补充")
    await submit_case_as(filer, "ningxia", case_id)
    await decide("ningxia", unit_admin.principal, case_id, Action.approve)
    page = text_of(await filer.get(base))
    assert f"{base}/withdraw" not in page
    response = await filer.get(f"{base}/withdraw")
    assert response.status_code == 403
    response = await filer.post(f"{base}/withdraw", {"version": str(await version("ningxia", case_id))})
    assert response.status_code == 403 and "已有工作人员办理，不能撤回" in text_of(response)
