"""Error pages: in Chinese, under the tenant's name and colour with a way back to its home, for pages; JSON
for the API."""

from __future__ import annotations

import httpx
import pytest

from tests.people import Person


def assert_branded(html: str, slug: str, name: str) -> None:
    assert '<html lang="zh-CN">' in html
    assert f"/t/{slug}/theme.css" in html and f"{name}职称电子证书" in html
    assert f'href="/t/{slug}/"' in html


@pytest.mark.parametrize(("slug", "name"), [("gansu", "甘肃省"), ("ningxia", "宁夏回族自治区")])
async def test_an_unknown_page_of_a_tenant_is_its_own_chinese_404(
    client: httpx.AsyncClient, slug: str, name: str
) -> None:
    response = await client.get(f"/t/{slug}/no/such/page")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "页面不存在" in response.text and "Not Found" not in response.text
    assert_branded(response.text, slug, name)


async def test_a_wrong_method_is_a_chinese_405_with_the_tenants_branding(client: httpx.AsyncClient) -> None:
    response = await client.put("/t/gansu/void-notice")
    assert response.status_code == 405
    assert "Method Not Allowed" not in response.text and "不支持" in response.text
    assert_branded(response.text, "gansu", "甘肃省")


async def test_a_refusal_explains_itself_under_the_tenants_branding(people: dict[str, Person]) -> None:
    response = await people["clerk"].get("/t/gansu/admin/rules")
    assert response.status_code == 403
    assert_branded(response.text, "gansu", "甘肃省")
    assert "甘肃省职称改革办公室" in response.text  # whom to ask: the tenant's administrators


async def test_api_errors_stay_json(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/tenants/gansu/orgs")
    assert response.status_code == 405 and response.headers["content-type"].startswith("application/json")
