"""Who may manage whom: nobody resets, disables, enables, grants to or revokes from an account that holds a
role equal to or above their own at or above their org (an org admin cannot take over the tenant admin or a
fellow org admin); revoking is checked like granting. Through the services and over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from accounts.roles import Role
from accounts.services import (
    AccountError,
    AccountForbidden,
    grant_role,
    reset_password,
    revoke_role,
    set_disabled,
)
from accounts.sessions import Principal
from accounts.tables import Account, RoleGrant
from tests.cases_support import org, staff, tenant
from tests.people import signed_in_staff

PROVINCE = "620000-province_office"
CITY = "620100-city_office"  # a child of the province office
COUNTY = "620102-county_hr"  # a child of the city office
ACTIONS = ["reset", "disable", "enable", "revoke", "grant"]


@dataclass(frozen=True)
class Target:
    account_id: int
    org_code: str
    role: Role


async def target(org_code: str, role: Role) -> Target:
    principal = await staff("gansu", (org_code, role))
    assert principal.account_id is not None
    return Target(principal.account_id, org_code, role)


async def act_as(principal: Principal, action: str, whom: Target, grant_at: str) -> None:
    """One account operation through the services; ``grant_at`` is where a grant goes (a clerk's role)."""
    where = await tenant("gansu")
    if action == "reset":
        await reset_password(where, principal, whom.account_id)
    elif action in ("disable", "enable"):
        await set_disabled(where, principal, whom.account_id, action == "disable")
    elif action == "revoke":
        held_at = (await org("gansu", whom.org_code))["id"]
        await revoke_role(where, principal, whom.account_id, held_at, whom.role)
    else:
        await grant_role(where, principal, whom.account_id, (await org("gansu", grant_at))["id"], Role.clerk)


async def snapshot(whom: Target) -> tuple[object, ...]:
    account = await Account.select(
        Account.password_hash, Account.disabled, Account.must_change_password
    ).where(Account.id == whom.account_id)
    grants = await RoleGrant.select(RoleGrant.org, RoleGrant.role).where(RoleGrant.account == whom.account_id)
    return (account, sorted((row["org"], row["role"]) for row in grants))


# situation → (the actor's grant, the target's grant, where a grant to the target would go)
SITUATIONS = {
    # an org admin of the province office facing the tenant admin (granted at the province office)
    "tenant admin": ((PROVINCE, Role.org_admin), (PROVINCE, Role.tenant_admin), CITY),
    # an org admin of the city office facing a fellow org admin of the same office
    "peer org admin": ((CITY, Role.org_admin), (CITY, Role.org_admin), COUNTY),
}


@pytest.mark.parametrize("situation", SITUATIONS)
@pytest.mark.parametrize("action", ACTIONS)
async def test_an_org_admin_cannot_manage_an_equal_or_higher_account(situation: str, action: str) -> None:
    actor_grant, target_grant, grant_at = SITUATIONS[situation]
    actor, whom = await staff("gansu", actor_grant), await target(*target_grant)
    before = await snapshot(whom)
    with pytest.raises(AccountForbidden, match="无权管理该账号：对方持有与您同级或更高的角色"):
        await act_as(actor, action, whom, grant_at)
    assert await snapshot(whom) == before


@pytest.mark.parametrize("situation", SITUATIONS)
@pytest.mark.parametrize("action", ACTIONS)
async def test_over_http_the_refusal_is_403(
    new_client: Callable[..., httpx.AsyncClient], situation: str, action: str
) -> None:
    actor_grant, target_grant, grant_at = SITUATIONS[situation]
    actor, whom = await signed_in_staff(new_client, "gansu", actor_grant), await target(*target_grant)
    before = await snapshot(whom)
    base = f"/t/gansu/admin/accounts/{whom.account_id}"
    if action in ("reset", "disable", "enable"):
        response = await actor.post(f"{base}/{action}")
    elif action == "revoke":
        response = await actor.post(
            f"{base}/grants", {"org": whom.org_code, "role": whom.role.value, "revoke": "1"}
        )
    else:
        response = await actor.post(f"{base}/grants", {"org": grant_at, "role": Role.clerk.value})
    assert response.status_code == 403, response.text
    assert "对方持有与您同级或更高的角色" in response.text
    assert "一次性密码" not in response.text
    assert await snapshot(whom) == before


async def test_an_org_admin_cannot_revoke_what_they_could_not_grant() -> None:
    """A city org admin holding a clerk's role at the province office too: the clerk's account is theirs to
    manage at the city office, but the grant at the province office is out of their reach either way."""
    actor = await staff("gansu", (CITY, Role.org_admin))
    clerk = await staff("gansu", (COUNTY, Role.clerk))
    where = await tenant("gansu")
    assert clerk.account_id is not None
    with pytest.raises(AccountForbidden, match="只能在本单位及直属下级单位授予角色"):
        await grant_role(where, actor, clerk.account_id, (await org("gansu", PROVINCE))["id"], Role.clerk)
    with pytest.raises(AccountForbidden, match="只能在本单位及直属下级单位"):
        await revoke_role(where, actor, clerk.account_id, (await org("gansu", PROVINCE))["id"], Role.clerk)
    with pytest.raises(AccountForbidden, match="单位管理员只能由上级单位授予"):
        await grant_role(where, actor, clerk.account_id, (await org("gansu", CITY))["id"], Role.org_admin)


LEGITIMATE = {
    # an org admin over a clerk of a child org
    "org admin, child clerk": ((CITY, Role.org_admin), (COUNTY, Role.clerk), "620103-county_hr"),
    # an org admin over the org admin of a child org
    "org admin, child org admin": ((CITY, Role.org_admin), (COUNTY, Role.org_admin), COUNTY),
    # an org admin over a reviewer of their own org
    "org admin, own reviewer": ((CITY, Role.org_admin), (CITY, Role.reviewer), CITY),
    # the tenant admin over an org admin of the province office
    "tenant admin, org admin": ((PROVINCE, Role.tenant_admin), (PROVINCE, Role.org_admin), CITY),
}


@pytest.mark.parametrize("case", LEGITIMATE)
async def test_legitimate_management_still_works(case: str) -> None:
    actor_grant, target_grant, grant_at = LEGITIMATE[case]
    actor = await staff("gansu", actor_grant)
    whom = await target(*target_grant)
    for action in ("reset", "disable", "enable", "grant", "revoke"):
        await act_as(actor, action, whom, grant_at)
    account = await Account.select(Account.disabled, Account.must_change_password).where(
        Account.id == whom.account_id
    )
    assert account == [{"disabled": False, "must_change_password": True}]
    assert await RoleGrant.select(RoleGrant.role).where(RoleGrant.account == whom.account_id) == [
        {"role": Role.clerk.value}
    ]


async def test_nobody_grants_the_tenant_admin_role_from_the_page() -> None:
    """Tenant admins are made with `zhicheng create-staff`: granting the role would make a peer whom nobody
    could manage."""
    where = await tenant("gansu")
    province = (await org("gansu", PROVINCE))["id"]
    for actor_grant in ((PROVINCE, Role.tenant_admin), (PROVINCE, Role.org_admin)):
        actor = await staff("gansu", actor_grant)
        whom = await target(CITY, Role.clerk)
        with pytest.raises(AccountError, match="地区管理员只能由系统管理员用命令行创建"):
            await grant_role(where, actor, whom.account_id, province, Role.tenant_admin)


async def test_the_list_offers_no_action_on_an_account_it_cannot_manage(
    new_client: Callable[..., httpx.AsyncClient],
) -> None:
    """The accounts page lists the fellow org admin of the same office but offers none of the buttons the
    services would refuse; a reviewer of the office keeps them."""
    actor = await signed_in_staff(new_client, "gansu", (CITY, Role.org_admin))
    peer, reviewer = await target(CITY, Role.org_admin), await target(CITY, Role.reviewer)

    async def listed(whom: Target) -> tuple[str, str]:  # searched by user name: the list is paged
        (row,) = await Account.select(Account.username).where(Account.id == whom.account_id)
        found = await actor.get("/t/gansu/admin/accounts/", params={"q": row["username"]})
        return row["username"], found.text

    assert f"/admin/accounts/{reviewer.account_id}/reset" in (await listed(reviewer))[1]
    username, page = await listed(peer)
    assert f"<td>{username}</td>" in page  # listed …
    assert f"/admin/accounts/{peer.account_id}/reset" not in page  # … with no button to press
    assert f"/admin/accounts/{peer.account_id}/disable" not in page
    assert "对方持有与您同级或更高的角色（单位管理员）" in page
