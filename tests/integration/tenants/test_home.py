"""The tenant's home shows each visitor what they may use, and procedures past their window as closed."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.cases_support import id_number
from tests.people import Person, signed_in_applicant

ADMIN_PAGES = ("/admin/rules", "/admin/procedures", "/admin/calendar", "/admin/embed", "/admin/seals")


def links(html: str, slug: str, *paths: str) -> list[str]:
    return [path for path in paths if f'href="/t/{slug}{path}' in html]


async def test_an_anonymous_visitor_sees_sign_in_procedures_and_the_public_pages(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/t/gansu/")).text
    assert links(page, "gansu", "/signin", "/verify-file", "/void-notice") == [
        "/signin",
        "/verify-file",
        "/void-notice",
    ]
    assert "/cases/new?procedure=reissue" in page
    assert not links(page, "gansu", "/queue", "/exports", "/admin/accounts", *ADMIN_PAGES)


async def test_a_closed_procedure_is_shown_closed_with_its_date_and_not_offered(
    client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    for page in ((await client.get("/t/gansu/")).text, (await people["applicant"].get("/t/gansu/")).text):
        assert "职称评审信息采集填报" in page and "已于2021年05月31日截止" in page
        assert "/cases/new?procedure=collection" not in page
        assert "/cases/new?procedure=reissue" in page


@pytest.mark.parametrize(
    ("who", "shown", "hidden"),
    [
        ("applicant", ("/cases",), ("/queue", "/exports", "/admin/accounts", *ADMIN_PAGES)),
        ("clerk", ("/queue", "/exports"), ("/admin/accounts", *ADMIN_PAGES)),
        ("org_admin", ("/queue", "/admin/accounts", "/admin/certificates"), ADMIN_PAGES),
        ("tenant_admin", ("/queue", "/admin/accounts", *ADMIN_PAGES), ()),
    ],
)
async def test_signed_in_visitors_see_what_their_roles_allow(
    new_client: Callable[[], httpx.AsyncClient],
    people: dict[str, Person],
    who: str,
    shown: tuple[str, ...],
    hidden: tuple[str, ...],
) -> None:
    # The shared applicant may have become a unit administrator in another test: a fresh one here.
    visitor = (
        await signed_in_applicant(
            new_client, "gansu", "首页申请人", id_number(birthday="19770808"), "620102-employer-school"
        )
        if who == "applicant"
        else people[who]
    )
    page = (await visitor.get("/t/gansu/")).text
    assert links(page, "gansu", *shown) == list(shown)
    assert links(page, "gansu", *hidden) == []
    assert 'href="/t/gansu/signin"' not in page
