"""Real accounts for the tests, made through the services and signed in through the HTTP sign-in forms.

Each person gets a client of their own (own cookie jar) on the suite's app.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from accounts.passwords import hash_password
from accounts.roles import Role
from accounts.services import create_applicant, create_staff
from accounts.sessions import Principal
from accounts.tables import Account
from audit.services import SYSTEM
from tenants.services import get_tenant
from tenants.tables import Org

PASSWORD = "Secret-pass-2026"
APPLICANT_ID = "622826198501306421"  # the example of 甘人社通〔2021〕166号 二(二)2
APPLICANT_NAME = "张三"


@dataclass
class Person:
    key: str
    slug: str
    account_id: int
    client: httpx.AsyncClient
    csrf: str

    async def post(self, url: str, data: dict[str, str] | None = None, **kwargs: object) -> httpx.Response:
        return await self.client.post(url, data={"_csrf": self.csrf, **(data or {})}, **kwargs)  # type: ignore[arg-type]

    async def get(self, url: str, **kwargs: object) -> httpx.Response:
        return await self.client.get(url, **kwargs)  # type: ignore[arg-type]


@dataclass
class SignedIn(Person):
    """A person browsing over HTTP who is also the ``principal`` the services take for the same account."""

    principal: Principal


# key → (tenant, org code, role); None role = applicant filed under the org
STAFF = {
    "tenant_admin": ("gansu", "620000-province_office", Role.tenant_admin),
    "org_admin": ("gansu", "620100-city_office", Role.org_admin),
    "clerk": ("gansu", "620100-city_office", Role.clerk),
    "reviewer": ("gansu", "620100-city_office", Role.reviewer),
    "sealer": ("gansu", "620100-city_office", Role.sealer),
    "county_admin": ("gansu", "620102-county_hr", Role.org_admin),
    "other_tenant_admin": ("ningxia", "640000-province_office", Role.tenant_admin),
}


async def org_id(slug: str, code: str) -> int:
    tenant = await get_tenant(slug)
    assert tenant is not None
    row = await Org.select(Org.id).where(Org.tenant == tenant.id, Org.code == code).first()
    assert row is not None
    return row["id"]


async def ready_account(account_id: int) -> None:
    """Test data set-up: a known password and no forced change (the forced change has tests of its own)."""
    await Account.update(
        {Account.password_hash: hash_password(PASSWORD), Account.must_change_password: False}
    ).where(Account.id == account_id)


def csrf_from(html: str) -> str:
    match = re.search(r'"X-CSRF-Token": "([^"]+)"', html) or re.search(r'name="_csrf" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


async def sign_in_staff(client: httpx.AsyncClient, slug: str, username: str, password: str) -> httpx.Response:
    page = await client.get(f"/t/{slug}/signin")
    return await client.post(
        f"/t/{slug}/signin/staff",
        data={"_csrf": csrf_from(page.text), "username": username, "password": password, "next": ""},
    )


async def sign_in_applicant(
    client: httpx.AsyncClient, slug: str, id_number: str, name: str, password: str
) -> httpx.Response:
    page = await client.get(f"/t/{slug}/signin")
    return await client.post(
        f"/t/{slug}/signin/applicant",
        data={
            "_csrf": csrf_from(page.text),
            "id_number": id_number,
            "name": name,
            "password": password,
            "next": "",
        },
    )


async def make_people(
    new_client: Callable[[], httpx.AsyncClient], *, prefix: str = "t", applicant_id: str = APPLICANT_ID
) -> dict[str, Person]:
    people: dict[str, Person] = {}
    for key, (slug, code, role) in STAFF.items():
        tenant = await get_tenant(slug)
        assert tenant is not None
        account_id, _ = await create_staff(
            tenant,
            SYSTEM,
            name=f"测试{prefix}{key}",
            username=f"{prefix}-{key}".replace("_", "-"),
            grants=[(await org_id(slug, code), role)],
        )
        await ready_account(account_id)
        client = new_client()
        response = await sign_in_staff(client, slug, f"{prefix}-{key}".replace("_", "-"), PASSWORD)
        assert response.status_code == 303, response.text
        me = await client.get(f"/t/{slug}/me")
        people[key] = Person(key, slug, account_id, client, csrf_from(me.text))
    gansu = await get_tenant("gansu")
    assert gansu is not None
    applicant_account = await create_applicant(
        gansu,
        SYSTEM,
        name=APPLICANT_NAME,
        id_number=applicant_id,
        org_id=await org_id("gansu", "620102-employer-school"),
    )
    await ready_account(applicant_account)
    client = new_client()
    response = await sign_in_applicant(client, "gansu", applicant_id, APPLICANT_NAME, PASSWORD)
    assert response.status_code == 303, response.text
    me = await client.get("/t/gansu/me")
    people["applicant"] = Person("applicant", "gansu", applicant_account, client, csrf_from(me.text))
    return people


async def _browse(
    new_client: Callable[[], httpx.AsyncClient], principal: Principal, sign_in: Any
) -> SignedIn:
    assert principal.account_id is not None
    await ready_account(principal.account_id)
    client = new_client()
    response = await sign_in(client)
    assert response.status_code == 303, response.text
    me = await client.get(f"/t/{principal.tenant_slug}/me")
    key = f"account-{principal.account_id}"
    return SignedIn(key, principal.tenant_slug, principal.account_id, client, csrf_from(me.text), principal)


async def signed_in_staff(
    new_client: Callable[[], httpx.AsyncClient], slug: str, *grants: tuple[str, Role], name: str = ""
) -> SignedIn:
    """Staff holding ``grants`` (org code, role), signed in through the real sign-in form."""
    from tests.cases_support import staff_account

    principal, username = await staff_account(slug, *grants, name=name)
    return await _browse(
        new_client, principal, lambda client: sign_in_staff(client, slug, username, PASSWORD)
    )


async def signed_in_applicant(
    new_client: Callable[[], httpx.AsyncClient], slug: str, name: str, id_number: str, employer: str
) -> SignedIn:
    """An applicant filed under ``employer``, signed in with ID number, name and password."""
    from tests.cases_support import applicant

    principal = await applicant(slug, name, id_number, employer)
    return await _browse(
        new_client, principal, lambda client: sign_in_applicant(client, slug, id_number, name, PASSWORD)
    )
