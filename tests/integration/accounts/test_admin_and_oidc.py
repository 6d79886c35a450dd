"""Account administration, unit-administrator applications (seed 003 三(二)) and OIDC sign-in through our
own pages against a real OpenID provider process."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from pypdf import PdfWriter

from accounts.roles import Role
from accounts.services import applicant_by_id_number
from accounts.tables import Account, RoleGrant
from audit.services import events_for
from tenants.services import get_tenant
from tenants.tables import Tenant
from tests.oidc_provider import oidc_provider  # noqa: F401
from tests.people import APPLICANT_ID, Person, org_id, sign_in_staff


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


async def test_org_admin_creates_a_staff_account_with_a_one_time_password(
    new_client: Callable[..., httpx.AsyncClient], people: dict[str, Person]
) -> None:
    admin = people["county_admin"]
    response = await admin.post(
        "/t/gansu/admin/accounts/staff",
        {"name": "赵录入", "username": "zhao-clerk", "org": "620102-employer-school", "role": "clerk"},
    )
    assert response.status_code == 200, response.text
    one_time = response.text.split("一次性密码：")[1][:12]
    async with new_client() as client:
        signed_in = await sign_in_staff(client, "gansu", "zhao-clerk", one_time)
        assert signed_in.status_code == 303
        assert (await client.get("/t/gansu/me")).headers["location"] == "/t/gansu/password"
    tenant = await get_tenant("gansu")
    assert tenant is not None
    grants = await events_for(tenant, action_prefix="role.grant")
    assert grants and grants[0]["actor"] == f"account:{admin.account_id}"


async def test_org_admin_cannot_grant_outside_its_reach_or_make_tenant_admins(
    people: dict[str, Person],
) -> None:
    admin = people["county_admin"]
    far = await admin.post(
        "/t/gansu/admin/accounts/staff",
        {"name": "钱某", "username": "qian-far", "org": "620900-city_office", "role": "clerk"},
    )
    assert far.status_code == 403 and "只能在本单位及直属下级单位授予角色" in far.text
    assert 'value="qian-far"' in far.text  # the form comes back filled in
    upward = await admin.post(
        "/t/gansu/admin/accounts/staff",
        {"name": "孙某", "username": "sun-up", "org": "620102-county_hr", "role": "tenant_admin"},
    )
    assert upward.status_code == 403 and "地区管理员只能由系统管理员用命令行创建" in upward.text
    assert not await Account.exists().where(Account.username.is_in(["qian-far", "sun-up"]))


async def test_staff_user_names_are_validated(people: dict[str, Person]) -> None:
    response = await people["county_admin"].post(
        "/t/gansu/admin/accounts/staff",
        {"name": "周某", "username": "周 某", "org": "620102-county_hr", "role": "clerk"},
    )
    assert response.status_code == 422
    assert "用户名为3到64位小写字母" in response.text


async def test_creating_an_applicant_checks_the_id_number(people: dict[str, Person]) -> None:
    response = await people["county_admin"].post(
        "/t/gansu/admin/accounts/applicants",
        {"name": "吴某", "id_number": "622826198501306422", "org": "620102-employer-school"},
    )
    assert response.status_code == 422 and "校验位不正确" in response.text
    duplicate = await people["county_admin"].post(
        "/t/gansu/admin/accounts/applicants",
        {"name": "张三", "id_number": APPLICANT_ID, "org": "620102-employer-school"},
    )
    assert duplicate.status_code == 422 and "已有账号" in duplicate.text


async def test_an_org_admin_opens_an_account_for_an_older_person(people: dict[str, Person]) -> None:
    """Born in 1972 in 兰州市城关区 (listed by stdnum only from 1983): the account is opened and signs in."""
    admin = people["county_admin"]
    refused = await admin.post(
        "/t/gansu/admin/accounts/applicants",
        {"name": "兰某", "id_number": "620102197202300251", "org": "620102-employer-school"},
    )
    assert refused.status_code == 422 and "身份证号中的出生日期无效" in refused.text
    response = await admin.post(
        "/t/gansu/admin/accounts/applicants",
        {"name": "兰某", "id_number": "620102197203150259", "org": "620102-employer-school"},
    )
    assert response.status_code == 200, response.text
    assert "已为 兰某 开通账号" in response.text
    tenant = await get_tenant("gansu")
    assert tenant is not None
    account = await applicant_by_id_number(tenant, "620102197203150259")
    assert account is not None and account["name"] == "兰某"


async def test_unit_admin_application_is_decided_by_the_parent_org(people: dict[str, Person]) -> None:
    applicant = people["applicant"]
    not_pdf = await applicant.client.post(
        "/t/gansu/unit-admin/apply",
        data={"_csrf": applicant.csrf, "org": "620102-employer-hospital"},
        files={"form": ("申请表.pdf", b"GIF89a not a pdf", "application/pdf")},
    )
    assert not_pdf.status_code == 422
    assert "文件不是 PDF" in not_pdf.text
    assert 'value="620102-employer-hospital" selected' in not_pdf.text
    too_big = await applicant.client.post(
        "/t/gansu/unit-admin/apply",
        data={"_csrf": applicant.csrf, "org": "620102-employer-hospital"},
        files={"form": ("big.pdf", b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024 + 1), "application/pdf")},
    )
    assert too_big.status_code == 422 and "超过上限" in too_big.text
    broken = await applicant.client.post(
        "/t/gansu/unit-admin/apply",
        data={"_csrf": applicant.csrf, "org": "620102-employer-hospital"},
        files={"form": ("broken.pdf", b"%PDF-1.7\nthis is not really a pdf\n%%EOF", "application/pdf")},
    )
    assert broken.status_code == 422 and "无法解析" in broken.text
    submitted = await applicant.client.post(
        "/t/gansu/unit-admin/apply",
        data={"_csrf": applicant.csrf, "org": "620102-employer-hospital"},
        files={"form": ("x.bin", blank_pdf(), "application/octet-stream")},
    )
    assert submitted.status_code == 200 and "申请已提交" in submitted.text

    city = people["org_admin"]  # grandparent: not the one to decide
    assert "城关区第一人民医院" not in (await city.client.get("/t/gansu/admin/unit-admin")).text
    county = people["county_admin"]
    page = await county.client.get("/t/gansu/admin/unit-admin")
    assert "城关区第一人民医院" in page.text
    application_id = int(page.text.split("/admin/unit-admin/")[1].split("/")[0])
    form = await county.client.get(f"/t/gansu/admin/unit-admin/{application_id}/form")
    assert form.headers["content-type"] == "application/pdf" and form.content == blank_pdf()
    assert form.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in form.headers["content-security-policy"]
    refused_without_reason = await county.post(
        f"/t/gansu/admin/unit-admin/{application_id}/decide", {"decision": "reject", "reason": ""}
    )
    assert refused_without_reason.status_code == 422 and "须填写理由" in refused_without_reason.text
    approved = await county.post(
        f"/t/gansu/admin/unit-admin/{application_id}/decide", {"decision": "approve"}
    )
    assert approved.status_code == 200
    hospital = await org_id("gansu", "620102-employer-hospital")
    assert await RoleGrant.exists().where(
        RoleGrant.account == applicant.account_id, RoleGrant.org == hospital, RoleGrant.role == Role.org_admin
    )
    assert (await applicant.client.get("/t/gansu/admin/accounts/")).status_code == 200


# --- OIDC through our pages -------------------------------------------------------------------------------


@pytest.fixture
async def gansu_with_oidc(oidc_provider: str) -> AsyncIterator[Tenant]:  # noqa: F811
    tenant = await get_tenant("gansu")
    assert tenant is not None
    original = dict(tenant.auth)
    os.environ["ZHICHENG_TEST_OIDC_SECRET"] = "test-secret"
    auth = {
        **original,
        "oidc": {
            "issuer": oidc_provider,
            "client_id": "zhicheng-gansu",
            "client_secret_env": "ZHICHENG_TEST_OIDC_SECRET",
            "id_number_claim": "id_number",
            "name_claim": "name",
            "label": "甘肃政务服务网",
        },
    }
    await Tenant.update({Tenant.auth: auth}).where(Tenant.id == tenant.id)
    yield tenant
    await Tenant.update({Tenant.auth: original}).where(Tenant.id == tenant.id)
    del os.environ["ZHICHENG_TEST_OIDC_SECRET"]


async def _through_provider(client: httpx.AsyncClient, sub: str) -> httpx.Response:
    start = await client.get("/t/gansu/oidc/start")
    assert start.status_code == 303
    authorization_url = start.headers["location"]
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as browser:
        await browser.get(authorization_url)
        answer = await browser.post(authorization_url, data={"sub": sub})
    callback = urlsplit(answer.headers["location"])
    assert callback.path == "/t/gansu/oidc/callback"
    return await client.get(callback.path, params=dict(parse_qsl(callback.query)))


async def test_oidc_sign_in_finds_the_applicant_by_id_number(
    new_client: Callable[..., httpx.AsyncClient], people: dict[str, Person], gansu_with_oidc: Tenant
) -> None:
    async with new_client() as client:
        page = await client.get("/t/gansu/signin")
        assert "使用甘肃政务服务网登录" in page.text
        done = await _through_provider(client, "applicant-1")  # the provider's user carries 张三's ID number
        assert done.status_code == 303, done.text
        me = await client.get("/t/gansu/me")
        assert me.status_code == 200 and APPLICANT_ID in me.text
    account = (
        await Account.select(Account.oidc_subject).where(Account.id == people["applicant"].account_id).first()
    )
    assert account is not None and account["oidc_subject"].endswith("|applicant-1")


async def test_oidc_identity_without_an_account_is_refused(
    new_client: Callable[..., httpx.AsyncClient], gansu_with_oidc: Tenant
) -> None:
    async with new_client() as client:
        refused = await _through_provider(client, "stranger-9")
        assert refused.status_code == 403
        assert "没有对应账号" in refused.text
        assert (await client.get("/t/gansu/me")).status_code == 303


async def test_a_replayed_or_forged_callback_is_refused(
    new_client: Callable[..., httpx.AsyncClient], gansu_with_oidc: Tenant
) -> None:
    async with new_client() as client:
        forged = await client.get("/t/gansu/oidc/callback", params={"code": "abc", "state": "guess"})
        assert forged.status_code == 400
        assert (await client.get("/t/gansu/me")).status_code == 303


async def test_without_oidc_settings_there_is_no_oidc_button(client: httpx.AsyncClient) -> None:
    assert "/oidc/start" not in (await client.get("/t/gansu/signin")).text
    assert (await client.get("/t/gansu/oidc/start")).status_code == 404
