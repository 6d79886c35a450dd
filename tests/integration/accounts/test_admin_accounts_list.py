"""The accounts admin list: search by name, user name or the last four ID digits, and paging — as a plain GET
form and links without JavaScript, and as the list alone for htmx."""

from __future__ import annotations

import re

import pytest

from accounts.roles import Role
from accounts.services import ACCOUNTS_PER_PAGE, create_applicant, create_staff
from audit.services import SYSTEM
from tenants.services import get_tenant
from tests.cases_support import id_number
from tests.people import Person, org_id

BIRTHDAY = "19770707"  # no other test files people born on this day


def names(html: str, prefix: str) -> set[str]:
    return set(re.findall(rf"<td>({prefix}\d+号)</td>", html))


@pytest.fixture(scope="module")
async def listed() -> None:
    tenant = await get_tenant("gansu")
    assert tenant is not None
    county = await org_id("gansu", "620102-county_hr")
    for serial in range(1, ACCOUNTS_PER_PAGE + 4):
        await create_applicant(
            tenant,
            SYSTEM,
            name=f"翻页{serial}号",
            id_number=id_number(birthday=BIRTHDAY, serial=serial),
            org_id=county,
        )
    await create_staff(
        tenant, SYSTEM, name="检索员工", username="list-search-clerk", grants=[(county, Role.clerk)]
    )


async def test_search_by_name_user_name_and_last_four_id_digits(
    listed: None, people: dict[str, Person]
) -> None:
    admin = people["county_admin"]
    by_name = (await admin.get("/t/gansu/admin/accounts/", params={"q": "翻页12号"})).text
    assert names(by_name, "翻页") == {"翻页12号"}
    by_username = (await admin.get("/t/gansu/admin/accounts/", params={"q": "list-search"})).text
    assert "检索员工" in by_username and not names(by_username, "翻页")
    tail = id_number(birthday=BIRTHDAY, serial=7)[-4:]
    by_tail = (await admin.get("/t/gansu/admin/accounts/", params={"q": tail})).text
    assert "翻页7号" in names(by_tail, "翻页") and "翻页8号" not in names(by_tail, "翻页")
    assert f'value="{tail}"' in by_tail  # the search box keeps what was searched


async def test_paging_with_and_without_htmx(listed: None, people: dict[str, Person]) -> None:
    admin = people["county_admin"]
    first = (await admin.get("/t/gansu/admin/accounts/", params={"q": "翻页"})).text
    assert len(names(first, "翻页")) == ACCOUNTS_PER_PAGE
    assert 'href="/t/gansu/admin/accounts/?q=%E7%BF%BB%E9%A1%B5&amp;page=2"' in first
    second = await admin.get(
        "/t/gansu/admin/accounts/", params={"q": "翻页", "page": "2"}, headers={"HX-Request": "true"}
    )
    assert second.status_code == 200 and "<html" not in second.text  # only the list, for htmx to swap
    assert len(names(second.text, "翻页")) == 3
    assert names(second.text, "翻页").isdisjoint(names(first, "翻页"))
    assert "page=1" in second.text and "page=3" not in second.text


async def test_the_org_picker_is_a_filterable_tree_that_is_a_plain_select_without_js(
    people: dict[str, Person],
) -> None:
    page = (await people["tenant_admin"].get("/t/gansu/admin/accounts/")).text
    picker = page[page.index('id="staff-org-picker"') :]
    picker = picker[: picker.index("</select>")]
    assert 'type="search"' in picker and 'name="org"' in picker  # a filter box over an ordinary select
    options = re.findall(r'<option value="([^"]+)" data-depth="(\d)"', picker)
    depth = {code: int(level) for code, level in options}
    order = [code for code, _ in options]
    # The tree's order, children indented under their parent: the city office, then its own offices.
    assert depth["620000-province_office"] == 0 and depth["620100-city_office"] == 1
    assert order.index("620100-city_office") < order.index("620102-county_hr")
    assert depth["620102-county_hr"] == 2
