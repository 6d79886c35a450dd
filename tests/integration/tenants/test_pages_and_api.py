"""The tenant pages, the rules admin page with its htmx tester, and the JSON API's edges."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.people import Person

HTMX = {"HX-Request": "true"}
TESTER = {
    "procedure": "issuance",
    "route": "review",
    "level": "intermediate",
    "employer": "620102-employer-school",
    "committee": "620102-committee-teacher-mid",
}


async def test_index_lists_the_three_tenants(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    for name, slug in (("甘肃省", "gansu"), ("宁夏回族自治区", "ningxia"), ("广西壮族自治区", "guangxi")):
        assert name in response.text
        assert f'href="/t/{slug}/"' in response.text


@pytest.mark.parametrize(
    ("slug", "name", "portal", "procedure"),
    [
        ("gansu", "甘肃省", "http://www.gszcxt.cn/", "遗失纸质证书补办电子证书"),
        ("ningxia", "宁夏回族自治区", "https://gccfw.hrss.nx.gov.cn", "高级职称证书电子化换发"),
        ("guangxi", "广西壮族自治区", "http://zgb.gxcz.gov.cn", "职称电子证书发行"),
    ],
)
async def test_tenant_home(
    client: httpx.AsyncClient, slug: str, name: str, portal: str, procedure: str
) -> None:
    response = await client.get(f"/t/{slug}/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in response.text
    assert 'name="viewport"' in response.text
    assert f"<h1>{name}职称电子证书</h1>" in response.text
    assert f'href="{portal}"' in response.text
    assert procedure in response.text


async def test_gansu_home_offers_exactly_its_procedures(client: httpx.AsyncClient) -> None:
    text = (await client.get("/t/gansu/")).text
    for title in ("遗失纸质证书补办电子证书", "职称评审信息采集填报", "职称电子证书发放"):
        assert f"<strong>{title}</strong>" in text
    assert "证书电子化换发" not in text


async def test_unknown_tenant_is_a_chinese_404_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/t/shanghai/")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "页面不存在" in response.text and "shanghai" in response.text


async def test_unknown_tenant_in_the_api_is_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/tenants/shanghai/orgs")
    assert response.status_code == 404
    assert "shanghai" in response.json()["error"]


async def test_unknown_page_is_a_404_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert "页面不存在" in response.text


async def test_orgs_is_the_flat_tree(client: httpx.AsyncClient) -> None:
    orgs = (await client.get("/api/v1/tenants/ningxia/orgs")).json()
    by_code = {org["code"]: org for org in orgs}
    assert set(orgs[0]) == {"code", "name", "kind", "parent"}
    assert by_code["640000-province_office"]["parent"] is None
    assert by_code["640402-county_hr"] == {
        "code": "640402-county_hr",
        "name": "固原市原州区人力资源和社会保障局",
        "kind": "county_hr",
        "parent": "640400-city_office",
    }
    assert all(org["parent"] is None or org["parent"] in by_code for org in orgs)


async def test_orgs_are_scoped_to_their_tenant(client: httpx.AsyncClient) -> None:
    gansu = {org["code"] for org in (await client.get("/api/v1/tenants/gansu/orgs")).json()}
    guangxi = {org["code"] for org in (await client.get("/api/v1/tenants/guangxi/orgs")).json()}
    assert all(code.startswith("62") for code in gansu)
    assert all(code.startswith("45") for code in guangxi)


async def test_another_tenants_employer_is_unknown(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/tenants/gansu/authority",
        params={
            "procedure": "issuance",
            "route": "review",
            "level": "senior",
            "employer": "640402-employer-hospital",
        },
    )
    assert response.status_code == 400
    assert response.json()["parameter"] == "employer"


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({**TESTER, "colour": "red"}, "colour"),
        ({**TESTER, "level": "chief"}, "level"),
        ({**TESTER, "route": "lottery"}, "route"),
        ({**TESTER, "procedure": "renewal"}, "procedure"),
        ({k: v for k, v in TESTER.items() if k != "route"}, "route"),
        ({**TESTER, "employer": "nowhere"}, "employer"),
        ({**TESTER, "employer": "620102-committee-teacher-mid"}, "employer"),
        ({**TESTER, "committee": "620102-employer-school"}, "committee"),
        ({**TESTER, "obtained": "2018-13-01"}, "obtained"),
        ({**TESTER, "certificate": "foreign"}, "certificate"),
    ],
    ids=[
        "unknown parameter",
        "bad level",
        "bad route",
        "bad procedure",
        "missing route",
        "unknown employer",
        "committee as employer",
        "employer as committee",
        "bad date",
        "bad certificate",
    ],
)
async def test_bad_query_is_400_naming_the_parameter(
    client: httpx.AsyncClient, params: dict, bad: str
) -> None:
    response = await client.get("/api/v1/tenants/gansu/authority", params=params)
    assert response.status_code == 400
    assert response.json()["parameter"] == bad
    assert response.json()["error"]


async def test_repeated_parameter_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/tenants/gansu/authority?"
        + "&".join([f"{k}={v}" for k, v in TESTER.items()] + ["level=senior"])
    )
    assert response.status_code == 400
    assert response.json()["parameter"] == "level"


@pytest.fixture
def admin(people: dict[str, Person]) -> httpx.AsyncClient:
    return people["tenant_admin"].client


async def test_rules_page_shows_every_table_in_chinese(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/t/gansu/admin/rules")
    assert response.status_code == 200
    for heading in ("遗失补办", "信息采集填报", "发证"):
        assert f">{heading}</h2>" in response.text
    assert "甘职改办〔2020〕2号 三(一)" in response.text
    assert "请按省人力资源考试中心的相关要求补办" in response.text
    assert 'class="matched"' not in response.text
    assert 'hx-get="/t/gansu/admin/rules"' in response.text


async def test_rule_tester_full_page_highlights_the_row_and_the_path(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/t/gansu/admin/rules", params=TESTER)
    assert response.status_code == 200
    assert "<!doctype html>" in response.text
    matched = re.findall(r'<tr id="rule-([\w-]+)" class="matched"', response.text)
    assert matched == ["gs-issue-review-county-committee"]
    assert "办理机构：兰州市职称改革办公室" in response.text
    path = re.search(r'<ol class="path".*?</ol>', response.text, re.S)
    assert path is not None
    assert [
        name
        for name in ("城关区中小学教师", "城关区人力资源", "兰州市职称改革办公室")
        if name in path.group(0)
    ] == ["城关区中小学教师", "城关区人力资源", "兰州市职称改革办公室"]
    assert 'value="620102-employer-school" selected' in response.text


async def test_rule_tester_htmx_answers_with_the_panel_only(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/t/gansu/admin/rules", params=TESTER, headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="tester-panel">')
    assert "<html" not in response.text and "<header" not in response.text
    assert 'class="matched"' in response.text
    assert response.headers["vary"] == "HX-Request"


async def test_rule_tester_refusal_is_shown_with_its_row(admin: httpx.AsyncClient) -> None:
    params = {**TESTER, "procedure": "reissue", "obtained": "2020-05-01"}
    response = await admin.get("/t/gansu/admin/rules", params=params, headers=HTMX)
    assert "不予受理：" in response.text
    assert re.findall(r'<tr id="rule-([\w-]+)" class="matched"', response.text) == ["gs-reissue-after-2018"]


async def test_rule_tester_error_is_next_to_the_field_and_the_form_keeps_its_values(
    admin: httpx.AsyncClient,
) -> None:
    response = await admin.get(
        "/t/gansu/admin/rules", params={**TESTER, "obtained": "2018-02-30"}, headers=HTMX
    )
    assert response.status_code == 422
    field = re.search(r'<input id="obtained".*?</div>', response.text, re.S)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0)
    assert 'class="field-error" id="obtained-error">日期格式应为 YYYY-MM-DD' in field.group(0)
    assert 'value="2018-02-30"' in field.group(0)
    assert 'value="620102-committee-teacher-mid" selected' in response.text
    assert 'value="intermediate" selected' in response.text


async def test_rule_tables_follow_the_tenants_order_of_procedures(admin: httpx.AsyncClient) -> None:
    text = (await admin.get("/t/gansu/admin/rules")).text
    headings = re.findall(r'<h2 id="table-(\w+)">', text)
    assert headings == ["reissue", "collection", "issuance"]
