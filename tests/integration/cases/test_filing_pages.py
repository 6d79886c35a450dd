"""The filing pages over real HTTP (issue 4 items 5 and 6): an applicant on a phone files a Ningxia
digitization case part by part, an employer's clerk files a Gansu reissue for a staff member, the uploads
are judged by content with the refusal next to its slot, a return shows its reason and is resubmitted, and
nobody sees a case that is not theirs."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date

import httpx
import pytest

from accounts.roles import Role
from cases.controllers import UPLOAD_BODY_LIMIT
from cases.services import act, attachments_of, form_values, load_case
from cases.workflow import Action, State
from tenants import calendar
from tenants.vocabulary import Procedure
from tests.cases_support import build_case, id_number, pdf_file, photo, staff, tenant, version
from tests.filing_support import hidden_version, jpeg_of_size, pdf_of_size
from tests.hostile_pdfs import pdf_of
from tests.people import Person, SignedIn, signed_in_applicant, signed_in_staff

TODAY = date(2021, 6, 15)
HTMX = {"HX-Request": "true"}

NINGXIA_CERTIFICATE = {
    "series": "卫生系列",
    "title_name": "主任医师",
    "specialty": "内科",
    "level": "senior",
    "highest_level": "senior",
    "certificate_no": "NX2015-0031",
    "qualification_doc_no": "宁人社函［2019］210号",  # full-width brackets, stored as 宁人社函[2019]210号
    "obtained_on": "2019-03-20",
    "issuing_body": "宁夏回族自治区人力资源和社会保障厅",
    "limited_scope": "false",
}


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar, "today_in_china", lambda: TODAY)


def text_of(response: httpx.Response) -> str:
    return html.unescape(response.text)


def error_of(page: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="{re.escape(name)}-error"[^>]*>([^<]*)</p>', page)
    assert match, f"no error shown for {name}"
    return match.group(1)


def slot_section(page: str, slot: str) -> str:
    match = re.search(rf'<section class="panel slot[^"]*" id="slot-{slot}".*?</section>', page, re.S)
    assert match, f"no section for slot {slot}"
    return match.group(0)


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


async def upload(
    filer: SignedIn, slug: str, case_id: int, slot: str, name: str, content: bytes, **kwargs: object
) -> httpx.Response:
    return await filer.post(
        f"/t/{slug}/cases/{case_id}/attachments/{slot}",
        files={"file": (name, content, "application/octet-stream")},
        **kwargs,
    )


async def submit(filer: SignedIn, slug: str, case_id: int) -> httpx.Response:
    page = await filer.get(f"/t/{slug}/cases/{case_id}")
    return await filer.post(f"/t/{slug}/cases/{case_id}/submit", {"version": hidden_version(page.text)})


async def ningxia_applicant(new_client: Callable[[], httpx.AsyncClient], name: str, serial: int) -> SignedIn:
    return await signed_in_applicant(
        new_client, "ningxia", name, id_number("640100", "19700315", serial), "640402-employer-school"
    )


# --- Ningxia digitization, filed by the applicant (原人社函〔2021〕85号) -----------------------------


async def test_applicant_files_a_ningxia_digitization_case(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    filer = await ningxia_applicant(new_client, "马文", 11)
    mine = text_of(await filer.get("/t/ningxia/cases"))
    assert "我的申请" in mine and "/t/ningxia/cases/new?procedure=digitization" in mine
    start_page = text_of(await filer.get("/t/ningxia/cases/new?procedure=digitization"))
    assert "高级职称证书电子化换发" in start_page and "原人社函〔2021〕85号" in start_page
    assert "就高换发" in start_page and "共3步" in start_page

    case_id = await start(filer, "ningxia", "digitization")
    base = f"/t/ningxia/cases/{case_id}"

    # Part 1: the applicant's own name and ID number come from the account and are read-only.
    first = text_of(await filer.get(f"{base}/parts/0"))
    assert "第1步，共3步" in first and "个人信息" in first
    assert re.search(r'id="f-holder_name" type="text" value="马文" readonly', first)
    assert re.search(r'id="f-id_number" type="text" value="640100197003150\d{3}" readonly', first)
    # The employer is picked in the org tree: the employers under their offices, which cannot be chosen.
    assert 'id="f-employer-picker" data-org-picker' in first
    assert '<option value="640402-county_hr" data-depth="2" disabled>' in first
    school = '<option value="640402-employer-school" data-depth="3" selected>　　　原州区第一中学</option>'
    assert school in first
    assert 'href="/t/ningxia/cases/' in first and "返回申请" in first
    response = await save(
        filer, f"{base}/parts/0", {"gender": "外星", "employer": "640402-employer-school", "id_number": "1"}
    )
    assert response.status_code == 422
    page = text_of(response)
    assert error_of(page, "gender") == "请从列表中选择性别"
    assert '<option value="640402-employer-school" data-depth="3" selected>' in page  # the choice is kept
    response = await save(filer, f"{base}/parts/0", {"gender": "男", "employer": "640402-employer-school"})
    assert response.status_code == 303 and response.headers["location"] == f"{base}/parts/1"

    # Part 2: one bad value of each kind, each answered next to its field, every input refilled as typed.
    second = text_of(await filer.get(f"{base}/parts/1"))
    assert "第2步，共3步" in second and 'aria-current="step"' in second
    assert 'type="date"' in second and 'max="2021-06-15"' in second
    assert 'type="radio" name="limited_scope" value="true"' in second
    bad = {
        **NINGXIA_CERTIFICATE,
        "qualification_doc_no": "宁人社函2019-210",
        "obtained_on": "2022-01-01",
        "level": "junior",
        "series": "不存在系列",
        "limited_scope": "maybe",
        "title_name": "主任医师" * 10,
    }
    response = await save(filer, f"{base}/parts/1", bad)
    assert response.status_code == 422
    page = text_of(response)
    assert "格式应为“宁人社函[XXXX]XX号”" in error_of(page, "qualification_doc_no")
    assert error_of(page, "obtained_on") == "发证时间不能晚于今天"
    assert error_of(page, "level") == "请从列表中选择级别"
    assert error_of(page, "series") == "请从列表中选择系列名称"
    assert (
        error_of(page, "limited_scope")
        == "请选择“证书封二印有“在全区非公有制经济组织范围内有效”或“所属范围内有效”字样”：是或否"
    )
    assert error_of(page, "title_name") == "资格名称最多32个字"
    assert 'value="宁人社函2019-210"' in page and 'value="2022-01-01"' in page
    assert f'value="{"主任医师" * 10}"' in page
    assert 'value="NX2015-0031"' in page and 'value="内科"' in page  # the good ones too
    assert 'aria-invalid="true" aria-describedby="obtained_on-error"' in page
    # The valid values of that post were kept: reloading the part shows them.
    reloaded = text_of(await filer.get(f"{base}/parts/1"))
    assert 'value="NX2015-0031"' in reloaded and 'value="宁人社函2019-210"' not in reloaded

    response = await save(filer, f"{base}/parts/1", NINGXIA_CERTIFICATE)
    assert response.status_code == 303 and response.headers["location"] == f"{base}/attachments"

    # Attachments: the slots as the preset names them, each with its own upload form and progress bar.
    attachments = text_of(await filer.get(f"{base}/attachments"))
    assert "第3步，共3步" in attachments
    cover_1 = slot_section(attachments, "cover_1")
    assert "职称证书照片（封面1）" in cover_1 and "JPG、PNG，不超过1MB" in cover_1 and "必传" in cover_1
    assert 'enctype="multipart/form-data"' in cover_1 and 'hx-encoding="multipart/form-data"' in cover_1
    assert '<progress max="100" value="0" data-progress' in cover_1 and 'data-max-bytes="1048576"' in cover_1
    assert re.search(r'<script src="/static/upload\.js\?v=\w+" defer>', attachments)

    # Submitting too early lists what is missing, each with a link to where it is.
    response = await submit(filer, "ningxia", case_id)
    assert response.status_code == 422
    page = text_of(response)
    assert "请上传职称证书照片（封面1）" in page and f'href="{base}/attachments#slot-cover_1"' in page

    # A 1 MB photo passes (the slot's whole allowance); refusals keep everything else.
    response = await upload(filer, "ningxia", case_id, "cover_2", "封面2.jpg", jpeg_of_size(1024 * 1024))
    assert response.status_code == 303 and response.headers["location"].endswith("/attachments#slot-cover_2")
    response = await upload(filer, "ningxia", case_id, "cover_1", "封面1.jpg", pdf_file())
    assert response.status_code == 422
    page = text_of(response)
    section = slot_section(page, "cover_1")
    assert "文件不是 JPG 或 PNG（内容是 PDF 文件）" in section and 'role="alert"' in section
    assert "封面2.jpg" in slot_section(page, "cover_2") and "1MB" in slot_section(page, "cover_2")
    response = await upload(filer, "ningxia", case_id, "cover_1", "大.jpg", jpeg_of_size(1024 * 1024 + 1))
    assert response.status_code == 422
    assert "超过上限" in slot_section(text_of(response), "cover_1")
    case_page = text_of(await filer.get(base))
    assert "主任医师" in case_page and "宁人社函[2019]210号" in case_page  # the form survived the refusals

    # With htmx, only the slot comes back: refused (422) or accepted (200) — the page keeps its other parts.
    response = await upload(filer, "ningxia", case_id, "cover_1", "x.png", b"not a picture", headers=HTMX)
    assert response.status_code == 422 and "<html" not in response.text
    assert response.text.lstrip().startswith('<section class="panel slot slot-error" id="slot-cover_1"')
    response = await upload(filer, "ningxia", case_id, "cover_1", "封面1.png", photo(fmt="PNG"), headers=HTMX)
    assert response.status_code == 200 and "<html" not in response.text
    assert "上传成功" in response.text and "封面1.png" in text_of(response)

    # The files come back as what they are, as downloads that a browser must not sniff or run.
    response = await filer.get(f"{base}/files/cover_1")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content == photo(fmt="PNG")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith('attachment; filename="cover_1.png"')
    assert response.headers["content-security-policy"].endswith(", sandbox; default-src 'none'")
    assert "filename*=UTF-8''%E5%B0%81%E9%9D%A21.png" in response.headers["content-disposition"]

    response = await submit(filer, "ningxia", case_id)
    assert response.status_code == 303 and response.headers["location"] == base
    page = text_of(await filer.get(base))
    assert '<p class="state-label" id="state-title">审核中</p>' in page
    assert "当前由原州区第一中学办理：单位管理员审核" in page
    assert "<strong>提交</strong> → 审核中" in page  # the history
    assert "/submit" not in page and "修改“" not in page  # nothing to change while in review
    # The applicant is the holder: the full ID number is theirs to see.
    assert re.search(r"<dd>640100197003150\d{3}</dd>", page)
    mine = text_of(await filer.get("/t/ningxia/cases"))
    assert "审核中" in mine and f'href="/t/ningxia/cases/{case_id}"' in mine
    # In review the form is closed to the applicant.
    refused = await filer.get(f"{base}/parts/0")
    assert refused.status_code == 403 and "审核中" in text_of(refused)
    response = await upload(filer, "ningxia", case_id, "cover_1", "again.png", photo(fmt="PNG"))
    assert response.status_code == 403


async def test_htmx_form_swaps_only_the_form_and_a_stale_version_keeps_the_input(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    filer = await ningxia_applicant(new_client, "杨柳", 13)
    case_id = await start(filer, "ningxia", "digitization")
    url = f"/t/ningxia/cases/{case_id}/parts/1"
    response = await save(filer, url, {**NINGXIA_CERTIFICATE, "obtained_on": "2019-02-30"}, headers=HTMX)
    assert response.status_code == 422 and "<html" not in response.text
    assert response.text.lstrip().startswith('<form id="part-form"')
    assert error_of(text_of(response), "obtained_on") == "发证时间应为日期，如 2015-06-30"
    assert 'value="2019-02-30"' in response.text
    # The form that came back carries the new version: saving from it works.
    fixed = {**NINGXIA_CERTIFICATE, "version": hidden_version(response.text)}
    response = await filer.post(url, fixed, headers=HTMX)
    assert (
        response.status_code == 200
        and response.headers["hx-redirect"] == f"/t/ningxia/cases/{case_id}/attachments"
    )
    # An old version (another tab, a colleague) is told to reload; what was typed stays in the form.
    response = await filer.post(url, {**NINGXIA_CERTIFICATE, "specialty": "心内科", "version": "1"})
    assert response.status_code == 409
    page = text_of(response)
    assert "刷新页面后再保存" in page and 'value="心内科"' in page


# --- Gansu reissue, filed by the employer's clerk for a member of staff (甘职改办〔2020〕2号) -----


async def test_employer_clerk_files_a_gansu_reissue_for_staff(
    new_client: Callable[[], httpx.AsyncClient], people: dict[str, Person]
) -> None:
    clerk = await signed_in_staff(new_client, "gansu", ("620102-employer-school", Role.clerk), name="王经办")
    mine = text_of(await clerk.get("/t/gansu/cases"))
    assert "遗失纸质证书补办电子证书" in mine and "procedure=collection" not in mine  # applicants file that
    start_page = text_of(await clerk.get("/t/gansu/cases/new?procedure=reissue"))
    assert "以 <strong>城关区第一中学</strong> 的名义" in start_page and "每月25日集中办理" in start_page
    case_id = await start(clerk, "gansu", "reissue", filer_org="620102-employer-school")
    base = f"/t/gansu/cases/{case_id}"
    holder_id = id_number("620100", "19800101", 5)

    # The holder is typed by the clerk: a bad ID number and an over-long name come back with their messages.
    first = text_of(await clerk.get(f"{base}/parts/0"))
    assert re.search(
        r'id="f-id_number" name="id_number" type="text" value="" maxlength="18" autocomplete="off"', first
    )
    wrong_id = holder_id[:-1] + ("0" if holder_id[-1] != "0" else "1")
    response = await save(
        clerk, f"{base}/parts/0", {"holder_name": "李" * 33, "id_number": wrong_id, "gender": "男"}
    )
    assert response.status_code == 422
    page = text_of(response)
    assert error_of(page, "id_number") == "身份证号校验位不正确，请核对"
    assert error_of(page, "holder_name") == "姓名最多32个字"
    assert f'value="{wrong_id}"' in page and f'value="{"李" * 33}"' in page
    assert '<option value="男" selected>男</option>' in page
    response = await save(
        clerk, f"{base}/parts/0", {"holder_name": "李 四", "id_number": holder_id.lower(), "gender": "男"}
    )
    assert response.status_code == 303

    second = text_of(await clerk.get(f"{base}/parts/1"))
    assert "（“取得方式”为“以考代评”时必填）" in second  # 以考代评证书类别, required only for exams
    assert "（选填）" in second  # 评审委员会
    assert "<optgroup" not in second and "兰州市城关区中小学教师系列中级职称评审委员会" in second
    title = {
        "route": "review",
        "certificate": "",
        "level": "intermediate",
        "series": "中小学教师系列",
        "title_name": "一级教师",
        "specialty": "数学",
        "obtained_on": "2012-09-01",
        "committee": "",
        "review_body": "兰州市城关区中小学教师系列中级职称评审委员会",
        "qualification_doc_no": "甘职改办(2013)121号",
        "old_certificate_no": "!!",
    }
    response = await save(clerk, f"{base}/parts/1", {**title, "obtained_on": "2012年9月"})
    assert response.status_code == 422
    page = text_of(response)
    assert "无法提供时填写 -1" in error_of(page, "old_certificate_no")
    assert error_of(page, "obtained_on") == "取得资格时间应为日期，如 2015-06-30"
    assert 'value="!!"' in page and 'value="2012年9月"' in page
    response = await save(clerk, f"{base}/parts/1", {**title, "old_certificate_no": "-1"})
    assert response.status_code == 303 and response.headers["location"] == f"{base}/attachments"

    attachments = text_of(await clerk.get(f"{base}/attachments"))
    assert "PDF，不超过2MB" in slot_section(attachments, "qualification_doc")
    assert "1吋照：25mm×35mm" in slot_section(attachments, "photo")
    assert "JPG、PNG，不超过512KB" in slot_section(attachments, "photo")

    response = await upload(clerk, "gansu", case_id, "photo", "照片.jpg", photo())
    assert response.status_code == 303
    # A PNG named .pdf is refused by its content; the photo already uploaded stays.
    response = await upload(clerk, "gansu", case_id, "qualification_doc", "资格文件.pdf", photo(fmt="PNG"))
    assert response.status_code == 422
    page = text_of(response)
    assert "文件不是 PDF（内容是 PNG 图片）：只接受 PDF 文件（按内容判断，不看扩展名）" in slot_section(
        page, "qualification_doc"
    )
    assert "照片.jpg" in slot_section(page, "photo")
    response = await upload(
        clerk, "gansu", case_id, "qualification_doc", "大.pdf", pdf_of_size(2048 * 1024 + 1)
    )
    assert response.status_code == 422
    assert "文件大小 2097153 字节 超过上限 2097152 字节" in slot_section(
        text_of(response), "qualification_doc"
    )
    # A PDF that would run a script when a reviewer opens it is refused next to the field.
    scripted = pdf_of(b"/OpenAction 4 0 R", b"<< /S /JavaScript /JS (app.alert(1)) >>")
    response = await upload(clerk, "gansu", case_id, "qualification_doc", "资格文件.pdf", scripted)
    assert response.status_code == 422
    assert "PDF 含有脚本或自动动作，请另存为普通 PDF 后上传" in slot_section(
        text_of(response), "qualification_doc"
    )
    # A 2 MB PDF (the seed's limit) passes the body limit and the checks.
    response = await upload(
        clerk, "gansu", case_id, "qualification_doc", "资格文件.pdf", pdf_of_size(2048 * 1024)
    )
    assert response.status_code == 303
    response = await upload(clerk, "gansu", case_id, "review_form", "审批表.pdf", pdf_file(2))
    assert response.status_code == 303
    assert set(await attachments_of(await tenant("gansu"), case_id)) == {
        "photo",
        "qualification_doc",
        "review_form",
    }

    response = await clerk.get(f"{base}/files/qualification_doc")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert len(response.content) == 2048 * 1024

    page = text_of(await clerk.get(base))
    # The filing clerk must check the holder's identity: the full ID number; the bracket style was normalised.
    assert f"<dd>{holder_id}</dd>" in page
    assert "甘职改办〔2013〕121号" in page and "李 四" in page
    response = await submit(clerk, "gansu", case_id)
    assert response.status_code == 303
    page = text_of(await clerk.get(base))
    assert "审核中" in page and "当前由兰州市职称改革办公室办理：职改办录入员审核编辑并提交" in page
    assert "王经办 · 录入员 · 城关区第一中学" in page

    # Someone else's case: the Gansu applicant 张三 sees none of it.
    stranger = people["applicant"]
    for url in (base, f"{base}/parts/0", f"{base}/attachments", f"{base}/files/photo"):
        response = await stranger.client.get(url)
        assert response.status_code == 403, url
        assert "您无权查看该申请" in text_of(response)
    response = await stranger.post(f"{base}/submit", {"version": "1"})
    assert response.status_code == 403
    response = await stranger.client.get("/t/gansu/cases/99999999")
    assert response.status_code == 404 and "案件不存在" in text_of(response)
    assert f"/cases/{case_id}" not in text_of(await stranger.client.get("/t/gansu/cases"))


async def test_the_holder_id_number_of_an_older_person_is_accepted_in_the_filing_form(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    """Born in 1972 in 兰州市城关区, a district stdnum lists only from 1983: the ID is real and accepted."""
    clerk = await signed_in_staff(new_client, "gansu", ("620102-employer-school", Role.clerk))
    case_id = await start(clerk, "gansu", "reissue", filer_org="620102-employer-school")
    url = f"/t/gansu/cases/{case_id}/parts/0"
    refused = {
        "620102197202300251": "身份证号中的出生日期无效",  # 30 February
        "990101197203150256": "身份证号中的地区码 990101 不存在，请核对前6位",
        "620102203001010010": "身份证号中的出生日期晚于今天，请核对",
    }
    for typed, message in refused.items():
        response = await save(clerk, url, {"holder_name": "兰某", "id_number": typed, "gender": "男"})
        assert response.status_code == 422
        assert error_of(text_of(response), "id_number") == message
    older = {"holder_name": "兰某", "id_number": "620102197203150259", "gender": "男"}
    response = await save(clerk, url, older)
    assert response.status_code == 303, text_of(response)
    where = await tenant("gansu")
    assert form_values(where, await load_case(where, case_id))["id_number"] == "620102197203150259"


async def test_start_refusals_are_told_in_chinese(
    new_client: Callable[[], httpx.AsyncClient], people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    applicant = people["applicant"]
    # Reissue is entered by the employer's clerk (甘职改办〔2020〕2号 六(三)).
    response = await applicant.client.get("/t/gansu/cases/new?procedure=reissue")
    assert response.status_code == 403
    assert "由用人单位、档案托管机构的录入员填报" in text_of(response)
    response = await applicant.post("/t/gansu/cases", {"procedure": "reissue"})
    assert response.status_code == 403 and "录入员填报，您的账号不能发起该事项" in text_of(response)
    # Gansu's collection window closed on 31 May 2021 (甘人社通〔2021〕166号 一).
    monkeypatch.setattr(calendar, "today_in_china", lambda: date(2021, 6, 1))
    page = text_of(await applicant.client.get("/t/gansu/cases"))
    assert "职称评审信息采集填报" in page and "已于2021年05月31日截止" in page
    response = await applicant.post("/t/gansu/cases", {"procedure": "collection"})
    assert response.status_code == 422
    assert "“职称评审信息采集填报”已于2021年05月31日截止" in text_of(response)
    closed = text_of(await applicant.client.get("/t/gansu/cases/new?procedure=collection"))
    # The title once, not before its own window text.
    assert '<p class="form-error">“职称评审信息采集填报”已于2021年05月31日截止</p>' in closed
    # A procedure this region does not offer.
    response = await applicant.client.get("/t/gansu/cases/new?procedure=digitization")
    assert response.status_code == 404 and "本地区未开通该事项" in text_of(response)
    response = await applicant.post("/t/gansu/cases", {"procedure": "nonsense"})
    assert response.status_code == 422 and "本地区未开通该事项" in text_of(response)
    # A clerk of two employers says for which one.
    clerk = await signed_in_staff(
        new_client,
        "gansu",
        ("620102-employer-school", Role.clerk),
        ("620102-employer-hospital", Role.clerk),
    )
    page = text_of(await clerk.get("/t/gansu/cases/new?procedure=reissue"))
    assert '<option value="620102-employer-hospital">城关区第一人民医院</option>' in page
    response = await clerk.post("/t/gansu/cases", {"procedure": "reissue"})
    assert (
        response.status_code == 422
        and error_of(text_of(response), "filer_org") == "请选择以哪个单位的名义填报"
    )
    case_id = await start(clerk, "gansu", "reissue", filer_org="620102-employer-hospital")
    case = await load_case(await tenant("gansu"), case_id)
    assert case.code(case.row["filer_org"]) == "620102-employer-hospital"


async def test_body_past_the_upload_ceiling_is_refused_in_chinese(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    filer = await ningxia_applicant(new_client, "海燕", 15)
    case_id = await start(filer, "ningxia", "digitization")
    response = await upload(
        filer, "ningxia", case_id, "cover_1", "huge.jpg", b"\xff\xd8\xff" + b"0" * UPLOAD_BODY_LIMIT
    )
    assert response.status_code == 413
    page = text_of(response)
    assert "文件过大" in page and "20MB" in page and f"/t/ningxia/cases/{case_id}/attachments" in page
    assert await attachments_of(await tenant("ningxia"), case_id) == {}


# --- a return: the reason shown, the case edited and resubmitted ----------------------------------------


async def test_returned_case_shows_the_reason_and_is_resubmitted(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    filer = await ningxia_applicant(new_client, "冯雪", 17)
    parts = [{"gender": "女", "employer": "640402-employer-school"}, NINGXIA_CERTIFICATE]
    files = {"cover_1": photo(), "cover_2": photo()}
    case_id = await build_case("ningxia", Procedure.digitization, filer.principal, parts, files)
    base = f"/t/ningxia/cases/{case_id}"
    assert (await submit(filer, "ningxia", case_id)).status_code == 303
    unit_admin = await staff("ningxia", ("640402-employer-school", Role.org_admin), name="单位管理员甲")
    reason = "封面2照片不清晰，请重新拍摄上传"
    outcome = await act(
        await tenant("ningxia"),
        unit_admin,
        case_id,
        Action.return_,
        version=await version("ningxia", case_id),
        reason=reason,
    )
    assert outcome.state is State.returned

    mine = text_of(await filer.get("/t/ningxia/cases"))
    assert "已退回" in mine and f"<strong>退回理由：</strong>{reason}" in mine and "修改并重新提交" in mine
    page = text_of(await filer.get(base))
    assert '<p class="state-label" id="state-title">已退回</p>' in page
    assert f"<strong>退回理由：</strong>{reason}" in page
    assert f"理由：{reason}" in page and "单位管理员甲 · 单位管理员 · 原州区第一中学" in page  # the history
    assert "修改完毕，重新提交" in page and f'href="{base}/parts/1"' in page

    response = await save(filer, f"{base}/parts/1", {**NINGXIA_CERTIFICATE, "specialty": "心血管内科"})
    assert response.status_code == 303
    response = await upload(filer, "ningxia", case_id, "cover_2", "封面2-清晰.jpg", photo(30, 42))
    assert response.status_code == 303
    page = text_of(await filer.get(base))
    assert "心血管内科" in page and "封面2-清晰.jpg" in page
    response = await submit(filer, "ningxia", case_id)
    assert response.status_code == 303
    page = text_of(await filer.get(base))
    assert (
        '<p class="state-label" id="state-title">审核中</p>' in page
        and "退回理由" not in page.split("办理记录")[0]
    )
    assert (await load_case(await tenant("ningxia"), case_id)).state is State.in_review


async def test_submit_refusal_from_the_seed_is_shown(new_client: Callable[[], httpx.AsyncClient]) -> None:
    # 原人社函〔2021〕85号 一(三): a certificate valid only within non-public organisations is not exchanged.
    filer = await ningxia_applicant(new_client, "石磊", 19)
    parts = [
        {"gender": "男", "employer": "640402-employer-school"},
        {**NINGXIA_CERTIFICATE, "limited_scope": "true"},
    ]
    case_id = await build_case(
        "ningxia", Procedure.digitization, filer.principal, parts, {"cover_1": photo(), "cover_2": photo()}
    )
    response = await submit(filer, "ningxia", case_id)
    assert response.status_code == 422
    assert (
        "职称证书封二中印有“在全区非公有制经济组织范围内有效或所属范围内有效”字样的证书不予换发"
        in text_of(response)
    )
    htmx = await filer.post(
        f"/t/ningxia/cases/{case_id}/submit",
        {"version": str(await version("ningxia", case_id))},
        headers=HTMX,
    )
    assert htmx.status_code == 422 and htmx.text.lstrip().startswith('<section id="submit-panel"')
