"""Every procedure of every tenant through the case services: the chain of steps, each refusal of the seeds,
returns and resubmission, refusals by a reviewer, recheck, separation of duties, and what completion does."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from accounts.roles import Role
from cases.services import CaseError, FormInvalid, load_case, start_case
from cases.workflow import Action, State
from certificates.tables import Certificate
from tenants import calendar
from tenants.vocabulary import Procedure
from tests.cases_support import (
    applicant,
    build_case,
    decide,
    ensure_seal,
    id_number,
    pdf_file,
    photo,
    staff,
    submit,
    tenant,
)

_births = itertools.count(1)


def new_id(region: str) -> str:
    return id_number(region, f"1975{(next(_births) % 12) + 1:02d}15", next(_births))


@pytest.fixture
def on_day(monkeypatch: pytest.MonkeyPatch):
    def set_day(day: date) -> None:
        monkeypatch.setattr(calendar, "today_in_china", lambda: day)

    return set_day


async def state_of(slug: str, case_id: int) -> State:
    return (await load_case(await tenant(slug), case_id)).state


# --- Gansu collection (甘人社通〔2021〕166号) ---------------------------------------------------------------

COLLECTION_WINDOW_DAY = date(2021, 5, 20)


def collection_parts(
    level: str = "intermediate", highest: str | None = None, **documents: str
) -> list[dict[str, str]]:
    statuses = {
        "certificate_status": "有",
        "review_form_status": "有",
        "qualification_doc_status": "有",
        "certificate_no_known": "",
        "certificate_no": "GS2010-0012",
        **documents,
    }
    return [
        {"gender": "女", "employer": "620102-employer-school"},
        {
            "obtained_where": "我省评审或认定",
            "route": "review",
            "series": "中小学教师系列",
            "level": level,
            "highest_level": highest or level,
            "title_name": "一级教师",
            "specialty": "语文",
            "obtained_on": "2010-09-01",
            "committee": "",
            "qualification_doc_no": "甘职改办〔2013〕121号",
        },
        statuses,
    ]


COMPLETE_FILES = {"certificate_scan": pdf_file(), "review_form": pdf_file(), "qualification_doc": pdf_file()}


async def test_collection_climbs_every_level_and_is_collected(on_day) -> None:
    on_day(COLLECTION_WINDOW_DAY)
    person = await applicant("gansu", "赵六", new_id("620100"), "620102-employer-school")
    # 二(二)2: a lost intermediate certificate — the employer's statement instead, the number synthesised.
    parts = collection_parts(certificate_status="遗失", certificate_no_known="false", certificate_no="")
    case_id = await build_case(
        "gansu",
        Procedure.collection,
        person,
        parts,
        {"certificate_statement": pdf_file(), "review_form": pdf_file(), "qualification_doc": pdf_file()},
    )
    case = await load_case(await tenant("gansu"), case_id)
    id_tail = case.row["holder_id_tail"]
    assert case.values["certificate_no"] == f"甘职改办〔2013〕121{id_tail}号"
    first = await submit("gansu", person, case_id)
    assert (first.org, first.role) == ("620102-employer-school", Role.org_admin)
    chain = [
        await staff("gansu", ("620102-employer-school", Role.org_admin)),
        await staff("gansu", ("620102-county_hr", Role.reviewer)),
        await staff("gansu", ("620100-city_office", Role.reviewer)),
        await staff("gansu", ("620000-province_office", Role.reviewer)),
    ]
    for actor in chain[:-1]:
        outcome = await decide("gansu", actor, case_id, Action.approve)
        assert outcome.state is State.in_review
    outcome = await decide("gansu", chain[-1], case_id, Action.approve)
    assert outcome.state is State.completed and outcome.certificate_id is None


async def test_collection_return_goes_straight_back_and_is_resubmitted(on_day) -> None:
    on_day(COLLECTION_WINDOW_DAY)
    person = await applicant("gansu", "钱七", new_id("620100"), "620102-employer-school")
    case_id = await build_case("gansu", Procedure.collection, person, collection_parts(), COMPLETE_FILES)
    await submit("gansu", person, case_id)
    unit_admin = await staff("gansu", ("620102-employer-school", Role.org_admin))
    county = await staff("gansu", ("620102-county_hr", Role.reviewer))
    await decide("gansu", unit_admin, case_id, Action.approve)
    with pytest.raises(CaseError, match="必须注明原因"):
        await decide("gansu", county, case_id, Action.return_, reason="  ")
    await decide("gansu", county, case_id, Action.return_, reason="评审表扫描件不清晰，请重新上传")
    case = await load_case(await tenant("gansu"), case_id)
    assert case.state is State.returned and case.row["return_reason"] == "评审表扫描件不清晰，请重新上传"
    assert case.row["current_org"] is None
    # The applicant fixes it and resubmits; the case starts the chain again at the employer.
    first = await submit("gansu", person, case_id)
    assert first.org == "620102-employer-school"
    await decide("gansu", unit_admin, case_id, Action.approve)
    await decide("gansu", county, case_id, Action.refuse, reason="资格文件与评审表信息不一致，经核实不予采集")
    assert await state_of("gansu", case_id) is State.refused
    with pytest.raises(CaseError, match="不在审核中"):
        await decide("gansu", county, case_id, Action.approve)


@pytest.mark.parametrize(
    ("documents", "message"),
    [
        ({"review_form_status": "缺失", "qualification_doc_status": "缺失"}, "均缺失的，不予采集"),
        ({"certificate_status": "遗失", "certificate_no_known": "true"}, None),
    ],
)
async def test_collection_missing_documents(on_day, documents: dict[str, str], message: str | None) -> None:
    on_day(COLLECTION_WINDOW_DAY)
    person = await applicant("gansu", "孙八", new_id("620100"), "620102-employer-school")
    files = {
        "certificate_statement": pdf_file(),
        "review_form": pdf_file(),
        "qualification_doc": pdf_file(),
        "review_form_statement": pdf_file(),
        "other": pdf_file(),
    }
    case_id = await build_case("gansu", Procedure.collection, person, collection_parts(**documents), files)
    if message is None:
        await submit("gansu", person, case_id)
        assert await state_of("gansu", case_id) is State.in_review
    else:
        with pytest.raises(CaseError, match=message):
            await submit("gansu", person, case_id)


async def test_collection_lost_senior_certificate_goes_to_reissue(on_day) -> None:
    on_day(COLLECTION_WINDOW_DAY)
    person = await applicant("gansu", "周九", new_id("620100"), "620102-employer-school")
    parts = collection_parts("associate_senior", certificate_status="遗失", certificate_no_known="true")
    case_id = await build_case(
        "gansu", Procedure.collection, person, parts, {"certificate_statement": pdf_file(), **COMPLETE_FILES}
    )
    with pytest.raises(CaseError, match="遗失证书补办"):
        await submit("gansu", person, case_id)


async def test_collection_missing_qualification_document_needs_its_substitutes(on_day) -> None:
    on_day(COLLECTION_WINDOW_DAY)
    person = await applicant("gansu", "吴十", new_id("620100"), "620102-employer-school")
    parts = collection_parts(qualification_doc_status="缺失")
    case_id = await build_case("gansu", Procedure.collection, person, parts, COMPLETE_FILES)
    with pytest.raises(FormInvalid) as invalid:
        await submit("gansu", person, case_id)
    assert list(invalid.value.errors) == ["other"]  # 二(四): the statement under “其他”


async def test_collection_highest_level_first(on_day) -> None:
    on_day(COLLECTION_WINDOW_DAY)
    person = await applicant("gansu", "郑一", new_id("620100"), "620102-employer-school")
    lower = await build_case(
        "gansu",
        Procedure.collection,
        person,
        collection_parts("intermediate", highest="associate_senior"),
        COMPLETE_FILES,
    )
    with pytest.raises(CaseError, match="请先填报本系列最高层级") as refused:
        await submit("gansu", person, lower)
    assert "副高级" in refused.value.message
    wrong = await build_case(
        "gansu",
        Procedure.collection,
        person,
        collection_parts("associate_senior", highest="intermediate"),
        COMPLETE_FILES,
    )
    with pytest.raises(CaseError, match="最高级别不能低于"):
        await submit("gansu", person, wrong)
    higher = await build_case(
        "gansu",
        Procedure.collection,
        person,
        collection_parts("associate_senior", highest="associate_senior"),
        COMPLETE_FILES,
    )
    await submit("gansu", person, higher)
    await submit("gansu", person, lower)  # one level per submission, the highest already in
    assert await state_of("gansu", lower) is State.in_review


async def test_collection_window_closes(on_day) -> None:
    on_day(date(2021, 6, 1))
    person = await applicant("gansu", "王二", new_id("620100"), "620102-employer-school")
    with pytest.raises(CaseError, match="已于2021年05月31日截止"):
        await start_case(await tenant("gansu"), person, Procedure.collection)


async def test_collection_out_of_scope_titles(on_day) -> None:
    on_day(COLLECTION_WINDOW_DAY)
    person = await applicant("gansu", "冯三", new_id("620100"), "620102-employer-school")
    parts = collection_parts()
    parts[1] = {**parts[1], "route": "exam"}
    case_id = await build_case("gansu", Procedure.collection, person, parts, COMPLETE_FILES)
    with pytest.raises(CaseError, match="以考代评"):
        await submit("gansu", person, case_id)


async def test_collection_transfer_through_the_archive_agency(on_day) -> None:
    on_day(COLLECTION_WINDOW_DAY)
    person = await applicant("gansu", "陈四", new_id("620100"), "620102-employer-school")
    parts = collection_parts()
    parts[0] = {**parts[0], "employer": "620100-archive_agency-rcsc"}  # 三: 省内调动，通过档案托管机构采集
    case_id = await build_case("gansu", Procedure.collection, person, parts, COMPLETE_FILES)
    first = await submit("gansu", person, case_id)
    assert (first.org, first.role) == ("620100-archive_agency-rcsc", Role.org_admin)


# --- Gansu reissue (甘职改办〔2020〕2号) ------------------------------------------------------------

REISSUE_BATCH_DAY = date(2026, 11, 25)


def reissue_parts(level: str = "junior", **title: str) -> list[dict[str, str]]:
    return [
        {"holder_name": "褚五", "id_number": new_id("620100"), "gender": "男"},
        {
            "route": "review",
            "level": level,
            "series": "卫生系列",
            "title_name": "医士",
            "specialty": "临床",
            "obtained_on": "2008-07-01",
            "committee": "",
            "review_body": "城关区卫生系列初级评审委员会",
            "qualification_doc_no": "城人社发〔2008〕12号",
            "old_certificate_no": "A0012345",
            **title,
        },
    ]


REISSUE_FILES = {"photo": photo(), "qualification_doc": pdf_file(), "review_form": pdf_file()}


async def test_reissue_recheck_at_the_province_office_then_sealed_by_the_county(on_day) -> None:
    on_day(REISSUE_BATCH_DAY)
    filer = await staff("gansu", ("620102-employer-hospital", Role.clerk))
    case_id = await build_case("gansu", Procedure.reissue, filer, reissue_parts(), REISSUE_FILES)
    first = await submit("gansu", filer, case_id)
    assert (first.org, first.role) == ("620102-county_hr", Role.clerk)  # 三(一)
    clerk = await staff("gansu", ("620102-county_hr", Role.clerk))
    reviewer = await staff("gansu", ("620102-county_hr", Role.reviewer))
    province = await staff("gansu", ("620000-province_office", Role.reviewer))
    sealer = await staff("gansu", ("620102-county_hr", Role.sealer))
    await ensure_seal("gansu", "620102-county_hr")
    await decide("gansu", clerk, case_id, Action.approve)
    outcome = await decide("gansu", reviewer, case_id, Action.recheck, reason="号段记录中查不到该编号")
    assert "甘肃省职称改革办公室" in outcome.message
    with pytest.raises(CaseError, match="不在您的待办中"):
        await decide("gansu", sealer, case_id, Action.approve)
    await decide("gansu", province, case_id, Action.approve)
    outcome = await decide("gansu", sealer, case_id, Action.approve)
    assert outcome.state is State.completed
    certificate = await Certificate.select().where(Certificate.id == outcome.certificate_id).first()
    assert certificate["replaces_paper_number"] == "A0012345"
    authority = (await load_case(await tenant("gansu"), case_id)).row["authority"]
    assert certificate["authority"] == authority


async def test_reissue_reviewer_and_sealer_must_differ(on_day) -> None:
    on_day(REISSUE_BATCH_DAY)
    filer = await staff("gansu", ("620102-employer-hospital", Role.clerk))
    case_id = await build_case(
        "gansu", Procedure.reissue, filer, reissue_parts("intermediate"), REISSUE_FILES
    )
    await submit("gansu", filer, case_id)
    clerk = await staff("gansu", ("620100-city_office", Role.clerk))
    both = await staff("gansu", ("620100-city_office", Role.reviewer), ("620100-city_office", Role.sealer))
    await decide("gansu", clerk, case_id, Action.approve)
    await decide("gansu", both, case_id, Action.approve)
    with pytest.raises(CaseError, match="审核员和用印员不得为同一人"):
        await decide("gansu", both, case_id, Action.approve)


async def test_a_reviewer_cannot_seal_the_case_in_a_later_round(on_day) -> None:
    """甘职改办〔2020〕2号 五(四) holds for the whole life of the case, not only since the last submission."""
    on_day(REISSUE_BATCH_DAY)
    filer = await staff("gansu", ("620102-employer-hospital", Role.clerk))
    case_id = await build_case(
        "gansu", Procedure.reissue, filer, reissue_parts("intermediate"), REISSUE_FILES
    )
    clerk = await staff("gansu", ("620100-city_office", Role.clerk))
    both = await staff("gansu", ("620100-city_office", Role.reviewer), ("620100-city_office", Role.sealer))
    other_reviewer = await staff("gansu", ("620100-city_office", Role.reviewer))
    other_sealer = await staff("gansu", ("620100-city_office", Role.sealer))
    await submit("gansu", filer, case_id)
    await decide("gansu", clerk, case_id, Action.approve)
    await decide("gansu", both, case_id, Action.approve)
    await decide("gansu", other_sealer, case_id, Action.return_, reason="照片不清晰，请重新上传")
    await submit("gansu", filer, case_id)
    await decide("gansu", clerk, case_id, Action.approve)
    await decide("gansu", other_reviewer, case_id, Action.approve)
    with pytest.raises(CaseError, match="审核员和用印员不得为同一人"):
        await decide("gansu", both, case_id, Action.approve)
    assert await state_of("gansu", case_id) is State.in_review


async def test_reissue_refusals_of_the_seed(on_day) -> None:
    on_day(REISSUE_BATCH_DAY)
    filer = await staff("gansu", ("620102-employer-hospital", Role.clerk))
    cases = {
        "请按省人力资源考试中心的相关要求补办": {
            "route": "exam",
            "certificate": "national",
            "level": "intermediate",
        },
        "只有2018年底前取得的纸质证书可以补办": {"obtained_on": "2019-01-01"},
        "不在甘职改办〔2020〕2号列明的补办权限内": {"route": "recognition", "level": "senior"},
    }
    for message, title in cases.items():
        case_id = await build_case("gansu", Procedure.reissue, filer, reissue_parts(**title), REISSUE_FILES)
        with pytest.raises(CaseError, match=message):
            await submit("gansu", filer, case_id)


async def test_reissue_provincial_exam_certificate_goes_to_the_province(on_day) -> None:
    on_day(REISSUE_BATCH_DAY)
    filer = await staff("gansu", ("620102-employer-hospital", Role.clerk))
    parts = reissue_parts("intermediate", route="exam", certificate="provincial", obtained_on="2018-12-31")
    case_id = await build_case("gansu", Procedure.reissue, filer, parts, REISSUE_FILES)
    first = await submit("gansu", filer, case_id)
    assert first.org == "620000-province_office"  # 三(三)3


async def test_only_the_filing_side_may_file(on_day) -> None:
    on_day(REISSUE_BATCH_DAY)
    person = await applicant("gansu", "蒋六", new_id("620100"), "620102-employer-school")
    with pytest.raises(CaseError, match="无权"):
        await start_case(await tenant("gansu"), person, Procedure.reissue)  # 六(三): the employer enters it
    reviewer = await staff("gansu", ("620100-city_office", Role.reviewer))
    with pytest.raises(CaseError, match="无权"):
        await start_case(await tenant("gansu"), reviewer, Procedure.reissue)
    with pytest.raises(CaseError, match="未开通"):
        await start_case(await tenant("gansu"), person, Procedure.digitization)


# --- Gansu issuance (甘人社明电〔2019〕90号 附件2) -------------------------------------------------


def issuance_parts(route: str = "recognition", level: str = "junior", **extra: str) -> list[dict[str, str]]:
    return [
        {
            "holder_name": "沈七",
            "id_number": new_id("620100"),
            "gender": "女",
            "employer": "620102-employer-school",
        },
        {
            "route": route,
            "objection": "公示期满无异议" if route == "review" else "",
            "approval_doc_no": "城人社发〔2025〕3号" if route == "recognition" else "",
            "level": level,
            "series": "中小学教师系列",
            "title_name": "三级教师",
            "specialty": "英语",
            "obtained_on": "2025-06-30",
            "committee": "620102-committee-teacher-mid" if route == "review" else "",
            "review_body": "城关区第一中学",
            **extra,
        },
    ]


async def test_gansu_issuance_by_the_county_and_the_objection_rule(on_day) -> None:
    on_day(REISSUE_BATCH_DAY)
    filer = await staff("gansu", ("620102-employer-school", Role.clerk))
    case_id = await build_case("gansu", Procedure.issuance, filer, issuance_parts(), {"photo": photo(35, 45)})
    first = await submit("gansu", filer, case_id)
    assert (first.org, first.role) == ("620102-county_hr", Role.reviewer)  # 三(一)1(1)
    await ensure_seal("gansu", "620102-county_hr")
    await decide("gansu", await staff("gansu", ("620102-county_hr", Role.reviewer)), case_id, Action.approve)
    outcome = await decide(
        "gansu", await staff("gansu", ("620102-county_hr", Role.sealer)), case_id, Action.approve
    )
    assert outcome.state is State.completed and outcome.certificate_id

    upheld = await build_case(
        "gansu",
        Procedure.issuance,
        filer,
        issuance_parts("review", "intermediate", objection="有异议经核查成立"),
        {"photo": photo(35, 45)},
    )
    with pytest.raises(CaseError, match="不予发放"):
        await submit("gansu", filer, upheld)
    review = await build_case(
        "gansu", Procedure.issuance, filer, issuance_parts("review", "intermediate"), {"photo": photo(35, 45)}
    )
    first = await submit("gansu", filer, review)
    assert first.org == "620100-city_office"  # 三(一)2(1): 县评委会中级 → 市（州）职改办


# --- Ningxia digitization (原人社函〔2021〕85号) ------------------------------------------------------------


def digitization_parts(level: str = "senior", highest: str = "senior", **extra: str) -> list[dict[str, str]]:
    return [
        {"gender": "男", "employer": "640402-employer-school"},
        {
            "series": "农业系列",
            "title_name": "高级兽医师",
            "specialty": "兽医",
            "level": level,
            "highest_level": highest,
            "certificate_no": "NX2015001",
            "qualification_doc_no": "宁人社函〔2015〕210号",
            "obtained_on": "2015-12-12",
            "issuing_body": "宁夏回族自治区人力资源和社会保障厅",
            "limited_scope": "false",
            **extra,
        },
    ]


COVERS = {"cover_1": photo(148, 105), "cover_2": photo(148, 105)}


async def test_digitization_chain_and_certificate(on_day) -> None:
    on_day(date(2026, 11, 23))
    person = await applicant("ningxia", "马八", new_id("640100"), "640402-employer-school")
    case_id = await build_case("ningxia", Procedure.digitization, person, digitization_parts(), COVERS)
    await submit("ningxia", person, case_id)
    await ensure_seal("ningxia", "640000-province_office")
    for grant in [
        ("640402-employer-school", Role.org_admin),
        ("640402-county_hr", Role.reviewer),
        ("640000-province_office", Role.reviewer),
        ("640000-province_office", Role.sealer),
    ]:
        outcome = await decide("ningxia", await staff("ningxia", grant), case_id, Action.approve)
    assert outcome.state is State.completed
    certificate = (
        await Certificate.select()
        .where(Certificate.id == outcome.certificate_id)
        .output(load_json=True)
        .first()
    )
    assert certificate["issuer_name"] == "宁夏回族自治区人力资源和社会保障厅"  # 三(三) 统一编号，生成电子证书
    assert certificate["fields"]["review_body"] == "宁夏回族自治区人力资源和社会保障厅"

    # 一(二) 就高换发: the same holder's 副高 certificate is refused now.
    lower = await build_case(
        "ningxia",
        Procedure.digitization,
        person,
        digitization_parts("associate_senior", "associate_senior"),
        COVERS,
    )
    with pytest.raises(CaseError, match="不再换发高级职称证书"):
        await submit("ningxia", person, lower)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"level": "associate_senior", "highest_level": "senior"}, "仅换发正高级职称证书"),
        ({"limited_scope": "true"}, "不予换发"),
        ({"obtained_on": "2020-01-01"}, "只换发2020年以前"),
    ],
)
async def test_digitization_refusals(on_day, extra: dict[str, str], message: str) -> None:
    on_day(date(2026, 11, 23))
    person = await applicant("ningxia", "杨九", new_id("640100"), "640402-employer-school")
    case_id = await build_case("ningxia", Procedure.digitization, person, digitization_parts(**extra), COVERS)
    with pytest.raises(CaseError, match=message):
        await submit("ningxia", person, case_id)


# --- Guangxi issuance (钦人社发〔2020〕1号) -----------------------------------------------------------------


def guangxi_parts(review_office: str = "450700-city_office", **extra: str) -> list[dict[str, str]]:
    return [
        {
            "holder_name": "韦十",
            "id_number": new_id("450100"),
            "gender": "女",
            "employer": "450700-city_office",
        },
        {
            "route": "review",
            "objection": "有异议经核查不成立",
            "approval_doc_no": "",
            "level": "intermediate",
            "series": "工程系列",
            "title_name": "工程师",
            "specialty": "土木工程",
            "obtained_on": "2025-12-01",
            "committee": "450700-committee-engineering-mid",
            "review_body": "钦州市工程系列中级职称评审委员会",
            "review_office": review_office,
            **extra,
        },
    ]


async def test_guangxi_issuance_request_review_generation(on_day) -> None:
    on_day(date(2026, 11, 23))
    filer = await staff("guangxi", ("450700-city_office", Role.clerk))
    case_id = await build_case(
        "guangxi", Procedure.issuance, filer, guangxi_parts(), {"photo": photo(35, 45)}
    )
    first = await submit("guangxi", filer, case_id)
    assert (first.org, first.role) == ("450700-city_office", Role.reviewer)
    await ensure_seal("guangxi", "450000-province_office")
    await decide(
        "guangxi", await staff("guangxi", ("450700-city_office", Role.reviewer)), case_id, Action.approve
    )
    outcome = await decide(
        "guangxi", await staff("guangxi", ("450000-province_office", Role.sealer)), case_id, Action.approve
    )
    certificate = await Certificate.select().where(Certificate.id == outcome.certificate_id).first()
    assert certificate["issuer_name"] == "广西壮族自治区人力资源和社会保障厅"  # 二: 自治区人社厅职称专用章

    elsewhere = await build_case(
        "guangxi", Procedure.issuance, filer, guangxi_parts("450100-city_office"), {"photo": photo(35, 45)}
    )
    with pytest.raises(CaseError, match="不是本级或上级机构"):
        await submit("guangxi", filer, elsewhere)
    upheld = await build_case(
        "guangxi",
        Procedure.issuance,
        filer,
        guangxi_parts(objection="有异议经核查成立"),
        {"photo": photo(35, 45)},
    )
    with pytest.raises(CaseError, match="不能发行电子证书"):
        await submit("guangxi", filer, upheld)


async def test_an_authority_without_a_seal_keeps_the_case_for_its_sealer(on_day) -> None:
    """Issuing fails without the authority's imprint: the case stays approved in the sealer's queue, and one
    certificate is issued once the seal is captured."""
    on_day(REISSUE_BATCH_DAY)
    gansu = await tenant("gansu")
    filer = await staff("gansu", ("620103-employer-school", Role.clerk))
    parts = issuance_parts()
    parts[0] = {**parts[0], "employer": "620103-employer-school"}
    case_id = await build_case("gansu", Procedure.issuance, filer, parts, {"photo": photo(35, 45)})
    first = await submit("gansu", filer, case_id)
    assert first.org == "620103-county_hr"
    await decide("gansu", await staff("gansu", ("620103-county_hr", Role.reviewer)), case_id, Action.approve)
    sealer = await staff("gansu", ("620103-county_hr", Role.sealer))
    outcome = await decide("gansu", sealer, case_id, Action.approve)
    assert outcome.state is State.approved and "尚未采集印模" in outcome.message
    case = await load_case(gansu, case_id)
    assert case.row["current_role"] == "sealer" and case.row["certificate"] is None
    await ensure_seal("gansu", "620103-county_hr")
    outcome = await decide("gansu", sealer, case_id, Action.approve)
    assert outcome.state is State.completed
    assert await Certificate.count().where(Certificate.id == outcome.certificate_id) == 1
