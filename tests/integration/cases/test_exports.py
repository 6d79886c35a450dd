"""The exports (issue 4 item 7, docs/exports.md) over HTTP, on cases built through the case services:
Ningxia's 附件2 unit summary table (原人社函〔2021〕85号 三(二), 四) and the Gansu collection records that go
to the ministry (甘人社通〔2021〕166号 三: 最后经省职改办审核提交人社部)."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable
from datetime import date, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest
from openpyxl import load_workbook

from accounts.roles import Role
from audit.services import events_for
from cases.exports import XLSX_MEDIA_TYPE
from cases.workflow import Action, State
from tenants import calendar
from tenants.vocabulary import Procedure
from tests.cases_support import (
    applicant,
    build_case,
    decide,
    id_number,
    pdf_file,
    photo,
    staff,
    submit,
    tenant,
)
from tests.people import signed_in_staff

ANNEX_2_HEADINGS = [
    "序号",
    "姓名",
    "身份证号",
    "系列名称",
    "资格名称",
    "专业名称",
    "发证时间",
    "发证单位",
    "职称任职文件",
    "证书编号",
    "备注",
]
SCHOOL = "640402-employer-school"
_serials = itertools.count(501)


def new_id(region: str, birthday: str = "19661001") -> str:
    return id_number(region, birthday, next(_serials))


@pytest.fixture
def on_day(monkeypatch: pytest.MonkeyPatch):
    def set_day(day: date) -> None:
        monkeypatch.setattr(calendar, "today_in_china", lambda: day)

    return set_day


# --- Ningxia: 附件2 高级职称证书电子化人员信息汇总表 --------------------------------------------------


def digitization_parts(**extra: str) -> list[dict[str, str]]:
    return [
        {"gender": "男", "employer": SCHOOL},
        {
            "series": "农业系列",
            "title_name": "高级兽医师",
            "specialty": "兽医",
            "level": "senior",
            "highest_level": "senior",
            "certificate_no": "NX2019-0088",
            "qualification_doc_no": "宁人社函〔2019〕210号",  # stored as 宁人社函[2019]210号 (四)
            "obtained_on": "2019-12-12",
            "issuing_body": "宁夏回族自治区人力资源和社会保障厅",
            "limited_scope": "false",
            **extra,
        },
    ]


COVERS = {"cover_1": photo(148, 105), "cover_2": photo(148, 105)}


async def digitization_case(name: str, holder_id: str, *, submitted: bool = True) -> int:
    person = await applicant("ningxia", name, holder_id, SCHOOL)
    case_id = await build_case("ningxia", Procedure.digitization, person, digitization_parts(), COVERS)
    if submitted:
        await submit("ningxia", person, case_id)
    return case_id


@pytest.fixture(scope="module")
async def ningxia_cases() -> dict[str, str]:
    """Three holders of 原州区第一中学: passed on by the unit admin (now with the district HR bureau), waiting
    for the unit admin, and still a draft."""
    ids = {"passed": new_id("640100"), "waiting": new_id("640100"), "draft": new_id("640100")}
    passed = await digitization_case("马晓东", ids["passed"])
    unit_admin = await staff("ningxia", (SCHOOL, Role.org_admin))
    outcome = await decide("ningxia", unit_admin, passed, Action.approve)
    assert outcome.state is State.in_review  # 三(二): on to 原州区人社局
    await digitization_case("马晓西", ids["waiting"])
    await digitization_case("马晓南", ids["draft"], submitted=False)
    return ids


def rows_by_id(sheet, first_row: int = 4) -> dict[str, list]:
    rows = {}
    for row in sheet.iter_rows(min_row=first_row):
        if len(row) > 2 and isinstance(row[2].value, str) and row[2].value[:6].isdigit():
            rows[row[2].value] = row
    return rows


async def test_unit_admin_downloads_the_annex_2_summary_table(
    new_client: Callable[[], httpx.AsyncClient], ningxia_cases: dict[str, str]
) -> None:
    unit_admin = await signed_in_staff(new_client, "ningxia", (SCHOOL, Role.org_admin))
    page = await unit_admin.client.get("/t/ningxia/exports")
    assert page.status_code == 200
    assert "高级职称证书电子化换发" in page.text and "原州区第一中学" in page.text

    response = await unit_admin.client.get(f"/t/ningxia/exports/digitization/xlsx?org={SCHOOL}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX_MEDIA_TYPE
    assert response.headers["cache-control"] == "no-store"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="digitization-{SCHOOL}-')
    assert "; filename*=UTF-8''" in disposition and quote("原州区第一中学") in disposition

    sheet = load_workbook(io.BytesIO(response.content)).active
    # The title row, merged across the 11 columns of 附件2.
    title = sheet["A1"].value
    assert title == "高级职称证书电子化人员信息汇总表"  # 附件2's own title, from the definition
    assert "A1:K1" in {str(merged) for merged in sheet.merged_cells.ranges}
    assert sheet["A2"].value == "单位名称(盖章)：原州区第一中学"
    assert sheet["I2"].value.endswith("日")
    # The headings in 附件2's order, bold.
    assert [cell.value for cell in sheet[3]] == ANNEX_2_HEADINGS
    assert all(cell.font.b for cell in sheet[3])

    rows = rows_by_id(sheet)
    row = rows[ningxia_cases["passed"]]
    values = [cell.value for cell in row]
    assert values[1:10] == [
        "马晓东",
        ningxia_cases["passed"],  # the full number, as text
        "农业系列",
        "高级兽医师",
        "兽医",
        "2019.12.12",
        "宁夏回族自治区人力资源和社会保障厅",
        "宁人社函[2019]210号",
        "NX2019-0088",
    ]
    assert values[10] in (None, "")  # 备注: the form has no remark field
    assert isinstance(values[0], int)
    id_cell = row[2]
    assert id_cell.data_type == "s" and id_cell.number_format == "@"
    assert sheet.column_dimensions["C"].width >= 20
    # Only what the unit has passed on: not the case still waiting for its admin, not the draft.
    assert ningxia_cases["waiting"] not in rows and ningxia_cases["draft"] not in rows
    # The signature line under the table.
    texts = [cell.value for line in sheet.iter_rows(min_row=4) for cell in line if cell.value]
    assert "单位系统管理员签字：" in texts and "行业主管部门签字（盖章）：" in texts and "联系电话：" in texts
    assert texts.index("单位系统管理员签字：") > texts.index(ningxia_cases["passed"])

    # Every export is an audit event with its filter and count.
    event = (await events_for(await tenant("ningxia"), action_prefix="case.export"))[0]
    assert event["actor"] == f"account:{unit_admin.account_id}"
    assert event["details"]["org"] == SCHOOL and event["details"]["format"] == "xlsx"
    assert event["details"]["count"] == len(rows)

    # A unit admin of one unit needs no choice.
    default = await unit_admin.client.get("/t/ningxia/exports/digitization/xlsx")
    assert default.status_code == 200
    assert ningxia_cases["passed"] in rows_by_id(load_workbook(io.BytesIO(default.content)).active)


async def test_annex_2_as_csv(
    new_client: Callable[[], httpx.AsyncClient], ningxia_cases: dict[str, str]
) -> None:
    unit_admin = await signed_in_staff(new_client, "ningxia", (SCHOOL, Role.org_admin))
    response = await unit_admin.client.get(f"/t/ningxia/exports/digitization/csv?org={SCHOOL}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == ANNEX_2_HEADINGS
    rows = {row[2]: row for row in table[1:]}
    row = rows[ningxia_cases["passed"]]
    assert row[1] == "马晓东" and row[6] == "2019-12-12" and row[8] == "宁人社函[2019]210号" and row[10] == ""
    assert ningxia_cases["waiting"] not in rows and ningxia_cases["draft"] not in rows


FORMULA = '=HYPERLINK("http://x.cn","查看")'
HOSPITAL = "640402-employer-hospital"


async def test_text_that_a_spreadsheet_would_run_is_defused_in_both_formats(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    """A holder who types a formula into a field gets it back as text, in the CSV and in the xlsx."""
    holder_id = new_id("640100")
    person = await applicant("ningxia", "马晓北", holder_id, HOSPITAL)
    parts = digitization_parts(specialty=FORMULA)
    parts[0]["employer"] = HOSPITAL
    case_id = await build_case("ningxia", Procedure.digitization, person, parts, COVERS)
    await submit("ningxia", person, case_id)
    unit_admin = await signed_in_staff(new_client, "ningxia", (HOSPITAL, Role.org_admin))
    await decide("ningxia", await staff("ningxia", (HOSPITAL, Role.org_admin)), case_id, Action.approve)
    exported = await unit_admin.client.get(f"/t/ningxia/exports/digitization/csv?org={HOSPITAL}")
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [row[5] for row in table[1:] if row[2] == holder_id] == ["'" + FORMULA]
    book = await unit_admin.client.get(f"/t/ningxia/exports/digitization/xlsx?org={HOSPITAL}")
    row = rows_by_id(load_workbook(io.BytesIO(book.content)).active)[holder_id]
    assert row[5].value == "'" + FORMULA and row[5].data_type == "s"


async def test_who_may_export_a_unit(
    new_client: Callable[[], httpx.AsyncClient], ningxia_cases: dict[str, str]
) -> None:
    url = f"/t/ningxia/exports/digitization/xlsx?org={SCHOOL}"
    other_unit = await signed_in_staff(new_client, "ningxia", ("640402-employer-hospital", Role.org_admin))
    assert (await other_unit.client.get(url)).status_code == 403
    page = await other_unit.client.get("/t/ningxia/exports")
    assert page.status_code == 200 and "原州区第一中学" not in page.text
    clerk = await signed_in_staff(new_client, "ningxia", (SCHOOL, Role.clerk))
    assert (await clerk.client.get(url)).status_code == 403
    # Staff of an office above the unit may export any unit below it.
    district = await signed_in_staff(new_client, "ningxia", ("640402-county_hr", Role.reviewer))
    response = await district.client.get(url)
    assert response.status_code == 200
    assert ningxia_cases["passed"] in rows_by_id(load_workbook(io.BytesIO(response.content)).active)
    # An office is not a unit; a unit summary needs a unit.
    refused = await district.client.get("/t/ningxia/exports/digitization/xlsx?org=640402-county_hr")
    assert refused.status_code == 422 and "请选择一个单位" in refused.text
    # Other cities' offices, and other tenants, get nothing.
    elsewhere = await signed_in_staff(new_client, "ningxia", ("640100-city_office", Role.reviewer))
    assert (await elsewhere.client.get(url)).status_code == 403
    # Procedures without export columns have no export.
    gansu = await signed_in_staff(new_client, "gansu", ("620000-province_office", Role.tenant_admin))
    assert (await gansu.client.get("/t/gansu/exports/reissue/xlsx")).status_code == 404


# --- Gansu: the collection records for the ministry ---------------------------------------------------

COLLECTION_DAY = date(2021, 5, 20)  # inside the window (closes 2021-05-31, 一)
COLLECTION_HEADINGS = [
    "序号",
    "姓名",
    "身份证号",
    "性别",
    "现工作单位",
    "职称系列",
    "级别",
    "资格名称",
    "专业名称",
    "取得方式",
    "取得资格时间",
    "评审委员会",
    "资格文件号",
    "证书编号",
    "职称证书",
    "评审表（认定表）",
    "资格文件",
]


def collection_parts() -> list[dict[str, str]]:
    return [
        {"gender": "女", "employer": "620102-employer-school"},
        {
            "obtained_where": "我省评审或认定",
            "route": "review",
            "series": "中小学教师系列",
            "level": "intermediate",
            "highest_level": "intermediate",
            "title_name": "一级教师",
            "specialty": "语文",
            "obtained_on": "2010-09-01",
            "committee": "",
            "qualification_doc_no": "甘职改办〔2013〕121号",
        },
        {
            "certificate_status": "有",
            "review_form_status": "有",
            "qualification_doc_status": "有",
            "certificate_no_known": "",
            "certificate_no": "GS2010-0012",
        },
    ]


COLLECTION_FILES = {
    "certificate_scan": pdf_file(),
    "review_form": pdf_file(),
    "qualification_doc": pdf_file(),
}
CHAIN = [
    ("620102-employer-school", Role.org_admin),
    ("620102-county_hr", Role.reviewer),
    ("620100-city_office", Role.reviewer),
    ("620000-province_office", Role.reviewer),
]


@pytest.fixture
async def collection_cases(on_day) -> dict[str, str]:
    """One record completed through the whole chain (三), one still with the district, one returned."""
    on_day(COLLECTION_DAY)
    ids = {"completed": new_id("620100"), "in_review": new_id("620100"), "returned": new_id("620100")}
    cases = {}
    for key, name in (("completed", "赵丽"), ("in_review", "钱丽"), ("returned", "孙丽")):
        person = await applicant("gansu", name, ids[key], "620102-employer-school")
        cases[key] = await build_case(
            "gansu", Procedure.collection, person, collection_parts(), COLLECTION_FILES
        )
        await submit("gansu", person, cases[key])
    actors = [await staff("gansu", grant) for grant in CHAIN]
    for actor in actors:
        outcome = await decide("gansu", actor, cases["completed"], Action.approve)
    assert outcome.state is State.completed
    await decide("gansu", actors[0], cases["in_review"], Action.approve)
    await decide("gansu", actors[0], cases["returned"], Action.return_, reason="请补充评审表")
    return ids


async def test_collection_records_for_the_ministry(
    new_client: Callable[[], httpx.AsyncClient], collection_cases: dict[str, str]
) -> None:
    province = await signed_in_staff(new_client, "gansu", ("620000-province_office", Role.reviewer))
    page = await province.client.get("/t/gansu/exports")
    assert page.status_code == 200
    assert "职称评审信息采集填报" in page.text and "遗失纸质证书补办电子证书" not in page.text

    response = await province.client.get("/t/gansu/exports/collection/csv")
    assert response.status_code == 200
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == COLLECTION_HEADINGS
    rows = {row[2]: row for row in table[1:]}
    # Only completed records: not the one still in review, not the returned one.
    assert collection_cases["in_review"] not in rows and collection_cases["returned"] not in rows
    row = dict(zip(COLLECTION_HEADINGS, rows[collection_cases["completed"]], strict=True))
    assert row["姓名"] == "赵丽" and row["现工作单位"] == "城关区第一中学"
    assert row["级别"] == "中级" and row["取得方式"] == "评审类" and row["取得资格时间"] == "2010-09-01"
    assert row["资格文件号"] == "甘职改办〔2013〕121号" and row["评审委员会"] == ""

    xlsx = await province.client.get("/t/gansu/exports/collection/xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["A1"].value == "职称评审信息采集填报汇总表"
    assert sheet["A2"].value == "单位名称：甘肃省职称改革办公室"
    assert sheet["O2"].value == "2021年5月20日"  # the export's date (the test's day), over the last 3 columns
    assert [cell.value for cell in sheet[3]] == COLLECTION_HEADINGS
    sheet_rows = rows_by_id(sheet)
    assert set(sheet_rows) == set(rows)
    assert sheet_rows[collection_cases["completed"]][10].value == "2010.09.01"

    event = (await events_for(await tenant("gansu"), action_prefix="case.export"))[0]
    assert event["details"]["kind"] == "collected_records" and event["details"]["count"] == len(rows)


async def test_collection_filters_and_scope(
    new_client: Callable[[], httpx.AsyncClient], collection_cases: dict[str, str]
) -> None:
    completed = collection_cases["completed"]

    async def ids(person, query: str = "") -> set[str]:
        response = await person.client.get(f"/t/gansu/exports/collection/csv{query}")
        assert response.status_code == 200, response.text
        return {row[2] for row in list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]}

    city = await signed_in_staff(new_client, "gansu", ("620100-city_office", Role.reviewer))
    assert completed in await ids(city)  # by default its own jurisdiction
    assert completed in await ids(city, "?org=620102-county_hr")
    assert completed not in await ids(city, "?org=620102-employer-hospital")
    # The date filter is on the completion date (China time); the case was completed just now.
    today = datetime.now(calendar.CHINA).date()
    assert completed in await ids(city, f"?from={today.isoformat()}&to={today.isoformat()}")
    assert completed not in await ids(city, f"?to={(today - timedelta(days=1)).isoformat()}")
    bad = await city.client.get("/t/gansu/exports/collection/csv?from=2021-13-01")
    assert bad.status_code == 422 and "日期格式" in bad.text
    # Another city's office may not look into Lanzhou.
    other_city = await signed_in_staff(new_client, "gansu", ("620200-city_office", Role.reviewer))
    assert completed not in await ids(other_city)
    assert (
        await other_city.client.get("/t/gansu/exports/collection/csv?org=620100-city_office")
    ).status_code == 403
    # A unit's admin exports its own records, and no one else's.
    unit_admin = await signed_in_staff(new_client, "gansu", ("620102-employer-school", Role.org_admin))
    assert completed in await ids(unit_admin, "?org=620102-employer-school")
    assert (
        await unit_admin.client.get("/t/gansu/exports/collection/csv?org=620102-county_hr")
    ).status_code == 403
