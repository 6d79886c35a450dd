"""Every procedure of every tenant end to end over HTTP, as its people use it: the filer fills the form
part by part, uploads the files and submits; each office in the chain opens the case in its queue and
decides; the last step seals and the certificate exists (or the record is collected). Every return branch
goes back to the filer with its reason and comes back in, and every refusal the seeds name is answered with
its message."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import date

import httpx
import pytest

from accounts.roles import Role
from cases.services import load_case
from cases.workflow import State
from certificates.tables import Certificate
from tenants import calendar
from tests.cases_support import ensure_seal, id_number, pdf_file, photo, tenant
from tests.filing_support import hidden_version
from tests.people import SignedIn, signed_in_applicant, signed_in_staff

_serial = itertools.count(100)

JPEG = "image/jpeg"
PDF = "application/pdf"


def new_id(region: str) -> str:
    serial = next(_serial)
    return id_number(region, f"1972{serial % 12 + 1:02d}0{serial % 9 + 1}", serial)


@pytest.fixture
def on_day(monkeypatch: pytest.MonkeyPatch) -> Callable[[date], None]:
    def set_day(day: date) -> None:
        monkeypatch.setattr(calendar, "today_in_china", lambda: day)

    return set_day


# --- the filer's side ---------------------------------------------------------------------------------------


async def file_case(
    filer: SignedIn,
    slug: str,
    procedure: str,
    parts: list[dict[str, str]],
    files: dict[str, tuple[str, bytes, str]],
    filer_org: str = "",
    refused: str = "",
) -> int:
    """A case filled in and its files uploaded over HTTP. With ``refused``, a form step must tell that
    eligibility refusal where its value is entered (the values are kept, so filling in goes on)."""
    told = False
    started = await filer.post(f"/t/{slug}/cases", {"procedure": procedure, "filer_org": filer_org})
    assert started.status_code == 303, started.text
    match = re.search(r"/cases/(\d+)/parts/0$", started.headers["location"])
    assert match, started.headers["location"]
    case_id = int(match.group(1))
    for index, values in enumerate(parts):
        url = f"/t/{slug}/cases/{case_id}/parts/{index}"
        page = await filer.get(url)
        saved = await filer.post(url, {**values, "version": hidden_version(page.text)})
        if refused and saved.status_code == 422 and refused in saved.text:
            told = True
            continue
        assert saved.status_code == 303, saved.text
    assert told or not refused, f"no form step told “{refused}”"
    for slot, file in files.items():
        uploaded = await filer.post(f"/t/{slug}/cases/{case_id}/attachments/{slot}", files={"file": file})
        assert uploaded.status_code in (200, 303), uploaded.text
    return case_id


async def submit(filer: SignedIn, slug: str, case_id: int) -> httpx.Response:
    page = await filer.get(f"/t/{slug}/cases/{case_id}")
    return await filer.post(f"/t/{slug}/cases/{case_id}/submit", {"version": hidden_version(page.text)})


async def submitted(filer: SignedIn, slug: str, case_id: int) -> None:
    response = await submit(filer, slug, case_id)
    assert response.status_code == 303, response.text
    page = await filer.get(f"/t/{slug}/cases/{case_id}")
    assert "审核中" in page.text


async def refused_on_submit(filer: SignedIn, slug: str, case_id: int, message: str) -> None:
    response = await submit(filer, slug, case_id)
    assert response.status_code == 422, response.text
    assert message in response.text
    assert (await load_case(await tenant(slug), case_id)).state is State.draft


# --- the offices' side --------------------------------------------------------------------------------------


async def decide(actor: SignedIn, slug: str, case_id: int, action: str, reason: str = "") -> httpx.Response:
    pane = await actor.get(f"/t/{slug}/queue/{case_id}", headers={"HX-Request": "true"})
    assert pane.status_code == 200, pane.text
    return await actor.post(
        f"/t/{slug}/queue/{case_id}/decision",
        {"action": action, "reason": reason, "version": hidden_version(pane.text)},
    )


async def approve_through(chain: list[SignedIn], slug: str, case_id: int) -> None:
    for actor in chain:
        response = await decide(actor, slug, case_id, "approve")
        assert response.status_code == 303, response.text


async def returned_and_resubmitted(
    filer: SignedIn, reviewer: SignedIn, slug: str, case_id: int, reason: str, fix: tuple[int, dict[str, str]]
) -> None:
    """A return with its reason reaches the filer (已退回 + reason); edited and resubmitted, it is back in."""
    refused = await decide(reviewer, slug, case_id, "return")
    assert refused.status_code == 422 and "必须注明原因" in refused.text
    returned = await decide(reviewer, slug, case_id, "return", reason)
    assert returned.status_code == 303, returned.text
    mine = await filer.get(f"/t/{slug}/cases")
    assert "已退回" in mine.text and reason in mine.text
    part, values = fix
    url = f"/t/{slug}/cases/{case_id}/parts/{part}"
    page = await filer.get(url)
    saved = await filer.post(url, {**values, "version": hidden_version(page.text)})
    assert saved.status_code == 303, saved.text
    await submitted(filer, slug, case_id)


async def staff(new_client: Callable[[], httpx.AsyncClient], slug: str, code: str, role: Role) -> SignedIn:
    return await signed_in_staff(new_client, slug, (code, role))


# --- Gansu reissue (甘职改办〔2020〕2号) --------------------------------------------------------------------


def reissue_parts(level: str = "intermediate", **title: str) -> list[dict[str, str]]:
    return [
        {"holder_name": "卫一", "id_number": new_id("620100"), "gender": "男"},
        {
            "route": "review",
            "certificate": "",
            "level": level,
            "series": "工程系列",
            "title_name": "工程师",
            "specialty": "机械",
            "obtained_on": "2011-11-11",
            "committee": "",
            "review_body": "兰州市工程系列中级职称评审委员会",
            "qualification_doc_no": "兰职改发〔2011〕45号",
            "old_certificate_no": "-1",
            **title,
        },
    ]


REISSUE_FILES = {
    "photo": ("照片.jpg", photo(), JPEG),
    "qualification_doc": ("资格文件.pdf", pdf_file(), PDF),
    "review_form": ("审批表.pdf", pdf_file(), PDF),
}


async def test_gansu_reissue_end_to_end(new_client, on_day) -> None:
    on_day(date(2026, 11, 24))
    employer = await staff(new_client, "gansu", "620102-employer-hospital", Role.clerk)
    clerk = await staff(new_client, "gansu", "620100-city_office", Role.clerk)
    reviewer = await staff(new_client, "gansu", "620100-city_office", Role.reviewer)
    sealer = await staff(new_client, "gansu", "620100-city_office", Role.sealer)
    province = await staff(new_client, "gansu", "620000-province_office", Role.reviewer)
    await ensure_seal("gansu", "620100-city_office")

    case_id = await file_case(employer, "gansu", "reissue", reissue_parts(), REISSUE_FILES)
    await submitted(employer, "gansu", case_id)
    # The office clerk's step returns it: the employer fixes the document number and resubmits.
    await returned_and_resubmitted(
        employer,
        clerk,
        "gansu",
        case_id,
        "资格文件号与扫描件不一致",
        (1, {**reissue_parts()[1], "qualification_doc_no": "兰职改发〔2011〕46号"}),
    )
    await approve_through([clerk], "gansu", case_id)
    # The reviewer cannot verify the old number: recheck at the province office (五(三)), then the sealer.
    recheck = await decide(reviewer, "gansu", case_id, "recheck", "号段记录查无此号")
    assert recheck.status_code == 303, recheck.text
    await approve_through([province], "gansu", case_id)
    refused = await decide(sealer, "gansu", case_id, "approve")  # not the 25th
    assert refused.status_code == 422 and "下一个集中办理日是2026年11月25日" in refused.text
    on_day(date(2026, 11, 25))
    await approve_through([sealer], "gansu", case_id)
    case = await load_case(await tenant("gansu"), case_id)
    assert case.state is State.completed
    certificate = await Certificate.select().where(Certificate.id == case.row["certificate"]).first()
    assert certificate["replaces_paper_number"] == "-1" and certificate["holder_name"] == "卫一"
    page = await employer.get(f"/t/gansu/cases/{case_id}")
    assert "已办结" in page.text


async def test_gansu_reissue_return_by_the_reviewer_and_the_sealer(new_client, on_day) -> None:
    on_day(date(2026, 11, 25))
    employer = await staff(new_client, "gansu", "620102-employer-hospital", Role.clerk)
    clerk = await staff(new_client, "gansu", "620100-city_office", Role.clerk)
    reviewer = await staff(new_client, "gansu", "620100-city_office", Role.reviewer)
    sealer = await staff(new_client, "gansu", "620100-city_office", Role.sealer)
    case_id = await file_case(employer, "gansu", "reissue", reissue_parts(), REISSUE_FILES)
    await submitted(employer, "gansu", case_id)
    await approve_through([clerk], "gansu", case_id)
    fix = (1, {**reissue_parts()[1], "specialty": "机械设计"})
    await returned_and_resubmitted(employer, reviewer, "gansu", case_id, "专业名称有误", fix)
    await approve_through([clerk, reviewer], "gansu", case_id)
    await returned_and_resubmitted(employer, sealer, "gansu", case_id, "照片不清晰", fix)
    # A refusal ends it.
    await approve_through([clerk], "gansu", case_id)
    refused = await decide(reviewer, "gansu", case_id, "refuse", "经核实，该证书不属于遗失补办范围")
    assert refused.status_code == 303
    mine = await employer.get("/t/gansu/cases")
    assert "不予办理" in mine.text and "经核实，该证书不属于遗失补办范围" in mine.text


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ({"route": "exam", "certificate": "national"}, "请按省人力资源考试中心的相关要求补办"),
        ({"obtained_on": "2019-06-01"}, "只有2018年底前取得的纸质证书可以补办"),
        (
            {"route": "exam", "certificate": "provincial", "level": "associate_senior"},
            "以考代评“省证”只有中、初级",
        ),
        ({"route": "recognition", "level": "senior"}, "不在甘职改办〔2020〕2号列明的补办权限内"),
    ],
)
async def test_gansu_reissue_refusals(new_client, on_day, title: dict[str, str], message: str) -> None:
    on_day(date(2026, 11, 24))
    employer = await staff(new_client, "gansu", "620102-employer-hospital", Role.clerk)
    case_id = await file_case(
        employer, "gansu", "reissue", reissue_parts(**title), REISSUE_FILES, refused=message
    )
    await refused_on_submit(employer, "gansu", case_id, message)


# --- Gansu collection (甘人社通〔2021〕166号) ---------------------------------------------------------------


def collection_parts(
    level: str = "intermediate", highest: str = "", **documents: str
) -> list[dict[str, str]]:
    return [
        {"gender": "女", "employer": "620102-employer-school"},
        {
            "obtained_where": "我省评审或认定",
            "route": "recognition",
            "series": "中小学教师系列",
            "level": level,
            "highest_level": highest or level,
            "title_name": "一级教师",
            "specialty": "物理",
            "obtained_on": "2009-09-01",
            "committee": "",
            "qualification_doc_no": "甘职改办〔2013〕121号",
        },
        {
            "certificate_status": "有",
            "review_form_status": "有",
            "qualification_doc_status": "有",
            "certificate_no_known": "",
            "certificate_no": "GS-2009-771",
            **documents,
        },
    ]


COLLECTION_FILES = {
    "certificate_scan": ("证书.pdf", pdf_file(), PDF),
    "review_form": ("评审表.pdf", pdf_file(), PDF),
    "qualification_doc": ("资格文件.pdf", pdf_file(), PDF),
}


async def test_gansu_collection_end_to_end_with_a_return_at_every_level(new_client, on_day) -> None:
    on_day(date(2021, 5, 20))
    person = await signed_in_applicant(
        new_client, "gansu", "蒋二", new_id("620100"), "620102-employer-school"
    )
    chain = [
        await staff(new_client, "gansu", "620102-employer-school", Role.org_admin),
        await staff(new_client, "gansu", "620102-county_hr", Role.reviewer),
        await staff(new_client, "gansu", "620100-city_office", Role.reviewer),
        await staff(new_client, "gansu", "620000-province_office", Role.reviewer),
    ]
    # 二(二)2: the certificate is lost and its number forgotten — the number is synthesised.
    lost = {"certificate_status": "遗失", "certificate_no_known": "false", "certificate_no": ""}
    files = {**COLLECTION_FILES, "certificate_statement": ("情况说明.pdf", pdf_file(), PDF)}
    case_id = await file_case(person, "gansu", "collection", collection_parts(**lost), files)
    page = await person.get(f"/t/gansu/cases/{case_id}")
    tail = (await load_case(await tenant("gansu"), case_id)).row["holder_id_tail"]
    assert f"甘职改办〔2013〕121{tail}号" in page.text
    await submitted(person, "gansu", case_id)
    # 三: any level may return it, with a reason, straight back to the applicant.
    for level, reviewer in enumerate(chain):
        await approve_through(chain[:level], "gansu", case_id)
        await returned_and_resubmitted(
            person,
            reviewer,
            "gansu",
            case_id,
            f"第{level + 1}级审核：请补充说明",
            (0, {"gender": "女", "employer": "620102-employer-school"}),
        )
    await approve_through(chain, "gansu", case_id)
    case = await load_case(await tenant("gansu"), case_id)
    assert case.state is State.completed and case.row["certificate"] is None
    exported = await chain[-1].get("/t/gansu/exports/collection/csv")
    assert exported.status_code == 200 and f"甘职改办〔2013〕121{tail}号" in exported.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"review_form_status": "缺失", "qualification_doc_status": "缺失"}, "均缺失的，不予采集"),
        (
            {
                "certificate_status": "遗失",
                "certificate_no_known": "true",
                "level": "associate_senior",
                "highest_level": "associate_senior",
            },
            "遗失证书补办",
        ),
        ({"obtained_where": "外省评审"}, "不列入信息采集填报范围"),
        ({"route": "exam"}, "以考代评"),
        ({"level": "intermediate", "highest_level": "associate_senior"}, "请先填报本系列最高层级"),
    ],
)
async def test_gansu_collection_refusals(new_client, on_day, overrides: dict[str, str], message: str) -> None:
    on_day(date(2021, 5, 20))
    person = await signed_in_applicant(
        new_client, "gansu", "沈三", new_id("620100"), "620102-employer-school"
    )
    parts = collection_parts()
    for index, part in enumerate(parts):
        parts[index] = {**part, **{key: value for key, value in overrides.items() if key in part}}
    files = {
        **COLLECTION_FILES,
        "certificate_statement": ("说明.pdf", pdf_file(), PDF),
        "review_form_statement": ("说明.pdf", pdf_file(), PDF),
        "other": ("说明.pdf", pdf_file(), PDF),
    }
    case_id = await file_case(person, "gansu", "collection", parts, files, refused=message)
    await refused_on_submit(person, "gansu", case_id, message)


async def test_gansu_collection_closes_on_its_date(new_client, on_day) -> None:
    on_day(date(2021, 6, 1))
    person = await signed_in_applicant(
        new_client, "gansu", "韩四", new_id("620100"), "620102-employer-school"
    )
    started = await person.post("/t/gansu/cases", {"procedure": "collection", "filer_org": ""})
    assert started.status_code == 422 and "已于2021年05月31日截止" in started.text


# --- Gansu issuance (甘人社明电〔2019〕90号 附件2) ----------------------------------------------------------


def gansu_issuance_parts(route: str = "review", **extra: str) -> list[dict[str, str]]:
    return [
        {
            "holder_name": "杨五",
            "id_number": new_id("620100"),
            "gender": "女",
            "employer": "620102-employer-school",
        },
        {
            "route": route,
            "objection": "公示期满无异议" if route == "review" else "",
            "approval_doc_no": "" if route == "review" else "城人社发〔2025〕9号",
            "level": "intermediate",
            "series": "中小学教师系列",
            "title_name": "一级教师",
            "specialty": "化学",
            "obtained_on": "2025-12-20",
            "committee": "620102-committee-teacher-mid" if route == "review" else "",
            "review_body": "兰州市城关区中小学教师系列中级职称评审委员会",
            **extra,
        },
    ]


async def test_gansu_issuance_end_to_end(new_client, on_day) -> None:
    on_day(date(2026, 11, 23))
    filer = await staff(new_client, "gansu", "620102-committee-teacher-mid", Role.clerk)
    reviewer = await staff(new_client, "gansu", "620100-city_office", Role.reviewer)
    sealer = await staff(new_client, "gansu", "620100-city_office", Role.sealer)
    await ensure_seal("gansu", "620100-city_office")
    files = {"photo": ("二寸照.jpg", photo(35, 45), JPEG)}
    case_id = await file_case(filer, "gansu", "issuance", gansu_issuance_parts(), files)
    await submitted(filer, "gansu", case_id)
    await returned_and_resubmitted(
        filer,
        reviewer,
        "gansu",
        case_id,
        "专业名称请与评审结果一致",
        (1, {**gansu_issuance_parts()[1], "specialty": "化学教育"}),
    )
    await approve_through([reviewer], "gansu", case_id)
    await returned_and_resubmitted(
        filer,
        sealer,
        "gansu",
        case_id,
        "照片背景不符",
        (1, {**gansu_issuance_parts()[1], "specialty": "化学"}),
    )
    await approve_through([reviewer, sealer], "gansu", case_id)
    assert (await load_case(await tenant("gansu"), case_id)).state is State.completed

    upheld = await file_case(
        filer,
        "gansu",
        "issuance",
        gansu_issuance_parts(objection="有异议经核查成立"),
        files,
        refused="不予发放职称证书",
    )
    await refused_on_submit(filer, "gansu", upheld, "不予发放职称证书")
    junior_review = await file_case(
        filer, "gansu", "issuance", gansu_issuance_parts(level="junior"), files, refused="请联系省职改办确认"
    )
    await refused_on_submit(filer, "gansu", junior_review, "请联系省职改办确认")


# --- Ningxia digitization (原人社函〔2021〕85号) ------------------------------------------------------------


def digitization_parts(**extra: str) -> list[dict[str, str]]:
    return [
        {"gender": "男", "employer": "640402-employer-hospital"},
        {
            "series": "卫生系列",
            "title_name": "主任医师",
            "specialty": "内科",
            "level": "senior",
            "highest_level": "senior",
            "certificate_no": "NX-2016-3301",
            "qualification_doc_no": "宁人社函[2016]88号",
            "obtained_on": "2016-12-30",
            "issuing_body": "宁夏回族自治区人事厅",
            "limited_scope": "false",
            **extra,
        },
    ]


COVERS = {"cover_1": ("封面1.jpg", photo(148, 105), JPEG), "cover_2": ("封面2.jpg", photo(148, 105), JPEG)}


async def test_ningxia_digitization_end_to_end(new_client, on_day) -> None:
    on_day(date(2026, 11, 23))
    person = await signed_in_applicant(
        new_client, "ningxia", "马六", new_id("640100"), "640402-employer-hospital"
    )
    chain = [
        await staff(new_client, "ningxia", "640402-employer-hospital", Role.org_admin),
        await staff(new_client, "ningxia", "640402-county_hr", Role.reviewer),
        await staff(new_client, "ningxia", "640000-province_office", Role.reviewer),
        await staff(new_client, "ningxia", "640000-province_office", Role.sealer),
    ]
    await ensure_seal("ningxia", "640000-province_office")
    case_id = await file_case(person, "ningxia", "digitization", digitization_parts(), COVERS)
    await submitted(person, "ningxia", case_id)
    for level, reviewer in enumerate(chain):
        await approve_through(chain[:level], "ningxia", case_id)
        await returned_and_resubmitted(
            person,
            reviewer,
            "ningxia",
            case_id,
            f"第{level + 1}步：请核对证书编号",
            (1, digitization_parts(certificate_no=f"NX-2016-330{level}")[1]),
        )
    await approve_through(chain, "ningxia", case_id)
    case = await load_case(await tenant("ningxia"), case_id)
    assert case.state is State.completed
    certificate = await Certificate.select().where(Certificate.id == case.row["certificate"]).first()
    assert certificate["issuer_name"] == "宁夏回族自治区人力资源和社会保障厅"
    # 一(二): a 正高 holder gets no 副高 certificate.
    lower = await file_case(
        person,
        "ningxia",
        "digitization",
        digitization_parts(
            level="associate_senior", highest_level="associate_senior", title_name="副主任医师"
        ),
        COVERS,
        refused="不再换发高级职称证书",
    )
    await refused_on_submit(person, "ningxia", lower, "不再换发高级职称证书")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"level": "associate_senior", "highest_level": "senior"}, "仅换发正高级职称证书"),
        ({"limited_scope": "true"}, "不予换发"),
        ({"obtained_on": "2020-03-01"}, "只换发2020年以前"),
    ],
)
async def test_ningxia_digitization_refusals(new_client, on_day, extra: dict[str, str], message: str) -> None:
    on_day(date(2026, 11, 23))
    person = await signed_in_applicant(
        new_client, "ningxia", "丁七", new_id("640100"), "640402-employer-hospital"
    )
    case_id = await file_case(
        person, "ningxia", "digitization", digitization_parts(**extra), COVERS, refused=message
    )
    await refused_on_submit(person, "ningxia", case_id, message)


# --- Guangxi issuance (钦人社发〔2020〕1号) -----------------------------------------------------------------


def guangxi_parts(**extra: str) -> list[dict[str, str]]:
    return [
        {
            "holder_name": "黄八",
            "id_number": new_id("450100"),
            "gender": "男",
            "employer": "450700-city_office",
        },
        {
            "route": "reconfirmation",
            "objection": "",
            "approval_doc_no": "桂人社函〔2025〕17号",
            "level": "associate_senior",
            "series": "工程系列",
            "title_name": "高级工程师",
            "specialty": "港口工程",
            "obtained_on": "2025-08-08",
            "committee": "",
            "review_body": "广西壮族自治区人力资源和社会保障厅",
            "review_office": "450000-province_office",
            **extra,
        },
    ]


async def test_guangxi_issuance_end_to_end(new_client, on_day) -> None:
    on_day(date(2026, 11, 23))
    filer = await staff(new_client, "guangxi", "450700-city_office", Role.clerk)
    reviewer = await staff(new_client, "guangxi", "450000-province_office", Role.reviewer)
    sealer = await staff(new_client, "guangxi", "450000-province_office", Role.sealer)
    await ensure_seal("guangxi", "450000-province_office")
    files = {"photo": ("二寸照.jpg", photo(35, 45), JPEG)}
    case_id = await file_case(filer, "guangxi", "issuance", guangxi_parts(), files)
    await submitted(filer, "guangxi", case_id)
    await returned_and_resubmitted(
        filer,
        reviewer,
        "guangxi",
        case_id,
        "请填写确认批准文号全称",
        (1, guangxi_parts(approval_doc_no="桂人社函〔2025〕18号")[1]),
    )
    await approve_through([reviewer], "guangxi", case_id)
    await returned_and_resubmitted(
        filer, sealer, "guangxi", case_id, "照片不符合二寸照要求", (1, guangxi_parts()[1])
    )
    await approve_through([reviewer, sealer], "guangxi", case_id)
    case = await load_case(await tenant("guangxi"), case_id)
    assert case.state is State.completed and case.row["certificate"]

    # An eligibility refusal is told at its form step; the chain's office only at submit, where it is planned.
    for extra, message, at_step in (
        (
            {
                "route": "review",
                "objection": "有异议经核查成立",
                "committee": "450700-committee-engineering-mid",
            },
            "不能发行电子证书",
            True,
        ),
        ({"review_office": "450100-city_office"}, "不是本级或上级机构", False),
    ):
        refused = await file_case(
            filer, "guangxi", "issuance", guangxi_parts(**extra), files, refused=message if at_step else ""
        )
        await refused_on_submit(filer, "guangxi", refused, message)
