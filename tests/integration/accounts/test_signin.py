"""Signing in: the failure causes of 甘人社通〔2021〕166号 四, the forced first change, resets, lock-out,
sessions, cookies, CSRF, headers, cross-tenant refusal and personal data at rest."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from argon2 import PasswordHasher

from accounts import secrets as pii
from accounts.roles import Role
from accounts.services import create_applicant, sign_in_applicant
from accounts.services import sign_in_staff as sign_in_staff_service
from accounts.sessions import load_principal, now_utc, start_session
from accounts.tables import Account, SignInAttempt
from audit.services import SYSTEM, events_for
from tenants.services import get_tenant
from tenants.tables import Tenant
from tests.people import (
    APPLICANT_ID,
    APPLICANT_NAME,
    PASSWORD,
    Person,
    csrf_from,
    org_id,
    ready_account,
    sign_in_staff,
)
from tests.people import (
    sign_in_applicant as http_sign_in_applicant,
)

NEW_PERSON_ID = "110101199003070011"  # valid GB 11643 checksum
NEW_PERSON_NAME = "李四"


async def gansu() -> Tenant:
    tenant = await get_tenant("gansu")
    assert tenant is not None
    return tenant


def error_of(html: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    return match.group(1) if match else ""


@pytest.fixture
async def newcomer() -> int:
    """An applicant just filed by their employer: initial password, must change it."""
    tenant = await gansu()
    existing = (
        await Account.select(Account.id)
        .where(Account.id_number_hash == pii.lookup_hash(NEW_PERSON_ID, context="tenant:gansu"))
        .first()
    )
    if existing:
        await Account.delete().where(Account.id == existing["id"])
    return await create_applicant(
        tenant,
        SYSTEM,
        name=NEW_PERSON_NAME,
        id_number=NEW_PERSON_ID,
        org_id=await org_id("gansu", "620102-employer-school"),
    )


@pytest.fixture
def argon2_verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes of every argon2 verification the code makes; the real verification still runs."""
    calls: list[str] = []
    real = PasswordHasher.verify

    def counted(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        calls.append(str(hash))
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    return calls


# --- 甘人社通〔2021〕166号 四: why sign-in fails ----------------------------------------------------------


async def test_unknown_id_number_gets_the_generic_answer_naming_the_system(
    new_client: Callable[..., httpx.AsyncClient],
) -> None:
    """Cause 5 (wrong system): the message names this platform, without saying whether the ID exists."""
    async with new_client() as client:
        response = await http_sign_in_applicant(client, "gansu", "110101198001010010", "王五", "whatever1")
        assert response.status_code == 422
        message = error_of(response.text, "password")
        assert "甘肃省职称电子证书平台" in message
        assert "姓名" not in message


async def test_wrong_password_says_passwords_are_case_sensitive(
    new_client: Callable[..., httpx.AsyncClient], people: dict[str, Person]
) -> None:
    """Cause 2: a password typed with Caps Lock on is refused, and the message says why it may have failed."""
    async with new_client() as client:
        response = await http_sign_in_applicant(
            client, "gansu", APPLICANT_ID, APPLICANT_NAME, PASSWORD.swapcase()
        )
        assert response.status_code == 422
        assert "区分大小写" in error_of(response.text, "password")
        assert "联系单位管理员重置" in error_of(response.text, "password")  # cause 3: forgotten password


async def test_name_mismatch_is_told_only_after_the_password_was_right(
    new_client: Callable[..., httpx.AsyncClient], people: dict[str, Person]
) -> None:
    """Cause 1: ID and name must match; saying so only after the right password leaks nothing."""
    async with new_client() as client:
        right_password = await http_sign_in_applicant(client, "gansu", APPLICANT_ID, "Zhang San", PASSWORD)
        assert right_password.status_code == 422
        assert "姓名与身份证号不匹配" in error_of(right_password.text, "name")
        wrong_password = await http_sign_in_applicant(
            client, "gansu", APPLICANT_ID, "Zhang San", "Wrong-pass-1"
        )
        assert "姓名与身份证号不匹配" not in wrong_password.text
        assert error_of(wrong_password.text, "password")


async def test_the_form_comes_back_filled_in_but_the_password(
    new_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with new_client() as client:
        response = await http_sign_in_applicant(client, "gansu", "62282619850130642", "张三", "Secret-9")
        assert response.status_code == 422
        assert error_of(response.text, "id_number") == "身份证号应为18位"
        assert 'value="62282619850130642"' in response.text
        assert 'value="张三"' in response.text
        assert "Secret-9" not in response.text


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("622826198501306422", "校验位不正确"),
        ("62282619850130642A", "最后一位为数字或X"),
        ("6228261985013064", "应为18位"),
    ],
    ids=["bad checksum", "bad character", "too short"],
)
async def test_id_numbers_are_checked_by_gb11643(
    new_client: Callable[..., httpx.AsyncClient], typed: str, message: str
) -> None:
    async with new_client() as client:
        response = await http_sign_in_applicant(client, "gansu", typed, "张三", "whatever1")
        assert message in error_of(response.text, "id_number")


async def test_first_sign_in_forces_a_change_that_cannot_be_skipped(
    new_client: Callable[..., httpx.AsyncClient], newcomer: int
) -> None:
    """Cause 4: leaving the forced change keeps the account in "must change", and the initial password (last
    8 ID digits) still works until the change is done."""
    initial = NEW_PERSON_ID[-8:]
    async with new_client() as client:
        signed_in = await http_sign_in_applicant(client, "gansu", NEW_PERSON_ID, NEW_PERSON_NAME, initial)
        assert signed_in.status_code == 303
        elsewhere = await client.get("/t/gansu/me")
        assert elsewhere.status_code == 303 and elsewhere.headers["location"] == "/t/gansu/password"
        htmx = await client.get("/t/gansu/me", headers={"HX-Request": "true"})
        assert htmx.headers["hx-redirect"] == "/t/gansu/password"
        page = await client.get("/t/gansu/password")
        assert "须先修改密码" in page.text
    async with new_client() as client:  # walked away and came back
        again = await http_sign_in_applicant(client, "gansu", NEW_PERSON_ID, NEW_PERSON_NAME, initial)
        assert again.status_code == 303
        assert (await client.get("/t/gansu/me")).headers["location"] == "/t/gansu/password"
        csrf = csrf_from((await client.get("/t/gansu/password")).text)
        same = await client.post(
            "/t/gansu/password", data={"_csrf": csrf, "current": initial, "new": initial, "repeat": initial}
        )
        assert same.status_code == 422 and "初始密码" in error_of(same.text, "new")
        mismatch = await client.post(
            "/t/gansu/password",
            data={"_csrf": csrf, "current": initial, "new": "NewPass-2026", "repeat": "NewPass-2027"},
        )
        assert "不一致" in error_of(mismatch.text, "repeat")
        done = await client.post(
            "/t/gansu/password",
            data={"_csrf": csrf, "current": initial, "new": "NewPass-2026", "repeat": "NewPass-2026"},
        )
        assert done.status_code == 303
        assert (await client.get("/t/gansu/me")).status_code == 200
    async with new_client() as client:
        old = await http_sign_in_applicant(client, "gansu", NEW_PERSON_ID, NEW_PERSON_NAME, initial)
        assert old.status_code == 422
        upper = await http_sign_in_applicant(client, "gansu", NEW_PERSON_ID, NEW_PERSON_NAME, "NEWPASS-2026")
        assert upper.status_code == 422
        new = await http_sign_in_applicant(client, "gansu", NEW_PERSON_ID, NEW_PERSON_NAME, "NewPass-2026")
        assert new.status_code == 303
        assert (await client.get("/t/gansu/me")).status_code == 200


async def test_org_admin_resets_to_the_initial_password_and_forces_a_change(
    new_client: Callable[..., httpx.AsyncClient], people: dict[str, Person], newcomer: int
) -> None:
    """The county HR admin looks after its direct child, the employer the applicant is filed under."""
    county = people["county_admin"]
    response = await county.post(f"/t/gansu/admin/accounts/{newcomer}/reset")
    assert response.status_code == 200
    assert "初始密码" in response.text
    account = await Account.select(Account.must_change_password).where(Account.id == newcomer).first()
    assert account == {"must_change_password": True}
    async with new_client() as client:
        signed_in = await http_sign_in_applicant(
            client, "gansu", NEW_PERSON_ID, NEW_PERSON_NAME, NEW_PERSON_ID[-8:]
        )
        assert signed_in.status_code == 303
        assert (await client.get("/t/gansu/me")).headers["location"] == "/t/gansu/password"
    events = await events_for(await gansu(), action_prefix="password.reset")
    assert any(event["subject"] == f"account:{newcomer}" for event in events)


async def test_an_admin_two_levels_up_cannot_reset(people: dict[str, Person], newcomer: int) -> None:
    """A city office's admin manages it and its direct children (county bureaus), not the employers below."""
    response = await people["org_admin"].post(f"/t/gansu/admin/accounts/{newcomer}/reset")
    assert response.status_code == 403
    assert "只能管理本单位及直属下级单位" in response.text


# --- lock-out -----------------------------------------------------------------------------------------


async def test_five_failures_lock_the_account_for_a_minute_then_it_is_released(newcomer: int) -> None:
    tenant = await gansu()
    start = now_utc()
    for second in range(5):
        failure = await sign_in_applicant(
            tenant,
            id_number=NEW_PERSON_ID,
            name=NEW_PERSON_NAME,
            password="Wrong-pass-1",
            client="203.0.113.1",
            now=start + timedelta(seconds=second),
        )
        assert not isinstance(failure, int) and failure.retry_after is None
    locked = await sign_in_applicant(
        tenant,
        id_number=NEW_PERSON_ID,
        name=NEW_PERSON_NAME,
        password=NEW_PERSON_ID[-8:],
        client="203.0.113.2",
        now=start + timedelta(seconds=10),
    )
    assert not isinstance(locked, int)
    assert locked.retry_after is not None and 45 <= locked.retry_after <= 52
    assert f"请{locked.retry_after}秒后再试" in locked.message
    released = await sign_in_applicant(
        tenant,
        id_number=NEW_PERSON_ID,
        name=NEW_PERSON_NAME,
        password=NEW_PERSON_ID[-8:],
        client="203.0.113.2",
        now=start + timedelta(seconds=65),
    )
    assert released == newcomer
    assert not await SignInAttempt.exists().where(SignInAttempt.bucket == f"account:{newcomer}")


async def test_the_lock_shows_on_the_page_with_retry_after(
    new_client: Callable[..., httpx.AsyncClient], newcomer: int
) -> None:
    async with new_client() as client:
        for _ in range(5):
            await http_sign_in_applicant(client, "gansu", NEW_PERSON_ID, NEW_PERSON_NAME, "Wrong-pass-1")
        response = await http_sign_in_applicant(
            client, "gansu", NEW_PERSON_ID, NEW_PERSON_NAME, NEW_PERSON_ID[-8:]
        )
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) > 0
        assert "登录尝试过于频繁" in response.text
    await SignInAttempt.delete().where(SignInAttempt.bucket == f"account:{newcomer}")


async def test_thirty_failures_from_one_address_throttle_that_address() -> None:
    tenant = await gansu()
    start = now_utc()
    for number in range(30):
        result = await sign_in_applicant(
            tenant,
            id_number="110101198001010010",
            name="无此人",
            password=f"Guess-{number}",
            client="203.0.113.99",
            now=start,
        )
        assert not isinstance(result, int)
    blocked = await sign_in_applicant(
        tenant,
        id_number=APPLICANT_ID,
        name=APPLICANT_NAME,
        password=PASSWORD,
        client="203.0.113.99",
        now=start,
    )
    assert not isinstance(blocked, int) and blocked.retry_after
    elsewhere = await sign_in_applicant(
        tenant,
        id_number=APPLICANT_ID,
        name=APPLICANT_NAME,
        password=PASSWORD,
        client="203.0.113.100",
        now=start,
    )
    assert isinstance(elsewhere, int)
    await SignInAttempt.delete().where(SignInAttempt.bucket == "client:203.0.113.99")


async def test_parallel_attempts_cannot_outrun_the_account_limit(
    new_client: Callable[..., httpx.AsyncClient], newcomer: int, argon2_verifications: list[str]
) -> None:
    """15 wrong passwords at once: only the limit's 5 are evaluated, the others are throttled unchecked."""
    async with new_client() as client:
        page = await client.get("/t/gansu/signin")
        form = {
            "_csrf": csrf_from(page.text),
            "id_number": NEW_PERSON_ID,
            "name": NEW_PERSON_NAME,
            "password": "Wrong-pass-1",
            "next": "",
        }
        responses = await asyncio.gather(
            *(client.post("/t/gansu/signin/applicant", data=form) for _ in range(15))
        )
    assert sorted(response.status_code for response in responses) == [422] * 5 + [429] * 10
    assert len(argon2_verifications) == 5
    assert await SignInAttempt.count().where(SignInAttempt.bucket == f"account:{newcomer}") == 5
    await SignInAttempt.delete().where(SignInAttempt.bucket == f"account:{newcomer}")


async def test_unknown_accounts_cost_the_same_argon2_verification_as_known_ones(
    newcomer: int, people: dict[str, Person], argon2_verifications: list[str]
) -> None:
    """An unknown ID number or user name is checked against a stand-in hash, so it answers no faster."""
    tenant = await gansu()
    attempts = {
        "known ID number": sign_in_applicant(
            tenant, id_number=NEW_PERSON_ID, name=NEW_PERSON_NAME, password="Wrong-1", client="203.0.113.7"
        ),
        "unknown ID number": sign_in_applicant(
            tenant, id_number="110101198001010010", name="王五", password="Wrong-1", client="203.0.113.7"
        ),
        "known user name": sign_in_staff_service(
            tenant, username="t-clerk", password="Wrong-1", client="203.0.113.7"
        ),
        "unknown user name": sign_in_staff_service(
            tenant, username="nobody-here", password="Wrong-1", client="203.0.113.7"
        ),
    }
    for label, attempt in attempts.items():
        before = len(argon2_verifications)
        assert not isinstance(await attempt, int)
        assert len(argon2_verifications) == before + 1, label
    await SignInAttempt.delete().where(
        SignInAttempt.bucket.is_in(
            ["client:203.0.113.7", f"account:{newcomer}", f"account:{people['clerk'].account_id}"]
        )
    )


# --- sessions and cookies ------------------------------------------------------------------------------


async def test_session_id_is_rotated_at_sign_in_and_is_long(
    new_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with new_client() as client:
        await client.get("/t/gansu/signin")
        before = client.cookies.get("zc_session_gansu")
        assert before and len(before) >= 43  # 32 random bytes, base64url: 256 bits
        response = await http_sign_in_applicant(client, "gansu", APPLICANT_ID, APPLICANT_NAME, PASSWORD)
        assert response.status_code == 303
        after = client.cookies.get("zc_session_gansu")
        assert after and after != before
        assert await load_principal(before) is None


async def test_cookie_over_https_is_host_secure_samesite_none_partitioned(
    new_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with new_client(https=True) as client:
        page = await client.get("/t/gansu/signin")
        cookie = page.headers["set-cookie"]
        assert cookie.startswith("__Host-zc_session_gansu=")
        for attribute in ("Path=/", "Secure", "HttpOnly", "SameSite=None", "Partitioned"):
            assert attribute in cookie.split("; ")
        assert "Domain" not in cookie
        assert page.headers["strict-transport-security"].startswith("max-age=")


async def test_cookie_over_plain_http_localhost_falls_back(
    new_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with new_client() as client:
        cookie = (await client.get("/t/gansu/signin")).headers["set-cookie"]
        assert cookie.startswith("zc_session_gansu=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Secure" not in cookie


async def test_idle_timeout_and_absolute_lifetime_end_sessions(people: dict[str, Person]) -> None:
    tenant = await gansu()
    token = await start_session(tenant, people["applicant"].account_id)
    assert await load_principal(token, now=now_utc() + timedelta(minutes=29)) is not None
    assert await load_principal(token, now=now_utc() + timedelta(minutes=29, seconds=50)) is not None
    assert (
        await load_principal(token, now=now_utc() + timedelta(minutes=61)) is None
    )  # idle 30 min (preset default)
    token = await start_session(tenant, people["applicant"].account_id)
    moment = now_utc()
    for hours in range(1, 12):  # active every 20 minutes, but the session is 12 hours old at most
        for step in range(3):
            assert (
                await load_principal(token, now=moment + timedelta(hours=hours - 1, minutes=20 * step))
                is not None
            )
    assert await load_principal(token, now=moment + timedelta(hours=12, minutes=1)) is None


async def test_disabling_an_account_ends_its_sessions_at_once(
    new_client: Callable[..., httpx.AsyncClient], people: dict[str, Person]
) -> None:
    from tests.people import make_people

    victims = await make_people(new_client, prefix="d", applicant_id="110105194912310046")
    clerk = victims["clerk"]
    assert (await clerk.client.get("/t/gansu/me")).status_code == 200
    response = await victims["org_admin"].post(f"/t/gansu/admin/accounts/{clerk.account_id}/disable")
    assert "已结束 1 个登录会话" in response.text
    assert (await clerk.client.get("/t/gansu/me")).status_code == 303
    async with new_client() as client:
        refused = await sign_in_staff(client, "gansu", "d-clerk", PASSWORD)
        assert refused.status_code == 422 and "已停用" in refused.text
    await victims["org_admin"].post(f"/t/gansu/admin/accounts/{clerk.account_id}/enable")
    async with new_client() as client:
        assert (await sign_in_staff(client, "gansu", "d-clerk", PASSWORD)).status_code == 303


async def test_sign_out_ends_the_session(new_client: Callable[..., httpx.AsyncClient]) -> None:
    async with new_client() as client:
        await http_sign_in_applicant(client, "gansu", APPLICANT_ID, APPLICANT_NAME, PASSWORD)
        token = client.cookies.get("zc_session_gansu")
        csrf = csrf_from((await client.get("/t/gansu/me")).text)
        response = await client.post("/t/gansu/signout", data={"_csrf": csrf})
        assert response.status_code == 303
        assert await load_principal(token or "") is None
        assert (await client.get("/t/gansu/me")).status_code == 303


# --- CSRF and headers ----------------------------------------------------------------------------------


async def test_unsafe_requests_need_the_session_csrf_token(people: dict[str, Person], newcomer: int) -> None:
    admin = people["county_admin"]
    target = f"/t/gansu/admin/accounts/{newcomer}/reset"
    missing = await admin.client.post(target, data={})
    assert missing.status_code == 403 and "CSRF" in missing.text
    wrong = await admin.client.post(target, data={"_csrf": "x" * 43})
    assert wrong.status_code == 403
    other_session = await admin.client.post(target, data={"_csrf": people["applicant"].csrf})
    assert other_session.status_code == 403
    header = await admin.client.post(target, headers={"X-CSRF-Token": admin.csrf})  # what htmx sends
    assert header.status_code == 200


async def test_pages_carry_the_csrf_token_for_htmx(people: dict[str, Person]) -> None:
    page = await people["applicant"].client.get("/t/gansu/me")
    assert f'hx-headers=\'{{"X-CSRF-Token": "{people["applicant"].csrf}"}}\'' in page.text


@pytest.mark.parametrize(
    "path", ["/", "/t/gansu/", "/t/gansu/signin", "/api/v1/tenants/gansu/orgs", "/healthz", "/nope"]
)
async def test_security_headers_on_every_response(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    policy = response.headers["content-security-policy"]
    assert "object-src 'none'" in policy and "base-uri 'none'" in policy and "script-src 'self'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in response.headers
    if path.startswith("/t/gansu/"):
        assert "frame-ancestors 'self' https://www.gszcxt.cn" in policy
    else:
        assert "frame-ancestors 'none'" in policy
    assert "strict-transport-security" not in response.headers  # plain http here


@pytest.mark.parametrize(
    "path", ["/t/gansu/me", "/t/gansu/my/certificates", "/t/gansu/theme.css", "/t/gansu/", "/nope"]
)
async def test_nothing_a_signed_in_visitor_gets_may_be_stored(people: dict[str, Person], path: str) -> None:
    response = await people["applicant"].get(path)
    assert response.headers["cache-control"] == "no-store"


async def test_anonymous_pages_are_not_stored_unless_their_handler_says_so(
    new_client: Callable[..., httpx.AsyncClient],
) -> None:
    """Verification pages show a holder's name and masked ID number, so they are not stored either; only
    the tenant's theme is declared cacheable, and static files keep their year-long cache."""
    async with new_client() as client:
        for path in ("/t/gansu/", "/t/gansu/signin", "/t/gansu/void-notice", "/v/NOSUCHTOKEN", "/healthz"):
            assert (await client.get(path)).headers["cache-control"] == "no-store", path
        assert "immutable" in (await client.get("/t/gansu/theme.css")).headers["cache-control"]
        assert "immutable" in (await client.get("/static/vendor/htmx-2.0.11.min.js")).headers["cache-control"]


# --- tenants ---------------------------------------------------------------------------------------------


async def test_an_account_of_one_tenant_cannot_sign_in_to_another(
    new_client: Callable[..., httpx.AsyncClient],
) -> None:
    async with new_client() as client:
        staff = await sign_in_staff(client, "ningxia", "t-tenant-admin", PASSWORD)
        assert staff.status_code == 422
        applicant = await http_sign_in_applicant(client, "ningxia", APPLICANT_ID, APPLICANT_NAME, PASSWORD)
        assert applicant.status_code == 422
        assert "宁夏回族自治区职称电子证书平台" in applicant.text


async def test_a_session_of_one_tenant_opens_nothing_of_another(people: dict[str, Person]) -> None:
    admin = people["other_tenant_admin"]  # ningxia
    assert (await admin.client.get("/t/ningxia/admin/rules")).status_code == 200
    response = await admin.client.get("/t/gansu/admin/rules")
    assert response.status_code == 303 and response.headers["location"].startswith("/t/gansu/signin")
    post = await admin.post(f"/t/gansu/admin/accounts/{people['applicant'].account_id}/reset")
    assert post.status_code == 403


# --- personal data --------------------------------------------------------------------------------------


async def test_id_numbers_are_encrypted_at_rest_and_masked_for_others(people: dict[str, Person]) -> None:
    row = await Account.select().where(Account.id == people["applicant"].account_id).first()
    assert row is not None
    assert APPLICANT_ID not in str(row)
    assert row["id_number_cipher"].startswith("test1.")
    assert pii.decrypt(row["id_number_cipher"], context="tenant:gansu") == APPLICANT_ID
    assert row["id_number_hash"] == pii.lookup_hash(APPLICANT_ID, context="tenant:gansu")
    own = await people["applicant"].client.get("/t/gansu/me")
    assert APPLICANT_ID in own.text
    admin = await people["county_admin"].client.get("/t/gansu/admin/accounts/")
    assert "622826********6421" in admin.text and APPLICANT_ID not in admin.text


async def test_sign_ins_are_audited(people: dict[str, Person]) -> None:
    events = await events_for(await gansu(), action_prefix="signin.")
    actions = {event["action"] for event in events}
    assert {"signin.success", "signin.failure"} <= actions
    causes = {event["details"].get("cause") for event in events if event["action"] == "signin.failure"}
    assert "password" in causes


async def test_sessions_of_two_tenants_live_side_by_side(
    new_client: Callable[..., httpx.AsyncClient],
) -> None:
    """A session belongs to its tenant: visiting, or signing in to, another region leaves it alone."""
    from tests.cases_support import staff_account

    _, gansu_user = await staff_account("gansu", ("620100-city_office", Role.clerk), name="两地甘肃")
    _, ningxia_user = await staff_account("ningxia", ("640000-province_office", Role.clerk), name="两地宁夏")
    for username in (gansu_user, ningxia_user):
        account = await Account.select(Account.id).where(Account.username == username).first()
        assert account is not None
        await ready_account(account["id"])
    async with new_client() as client:
        assert (await sign_in_staff(client, "gansu", gansu_user, PASSWORD)).status_code == 303
        for page in ("/t/ningxia/", "/t/ningxia/verify-file/", "/t/ningxia/signin"):
            assert (await client.get(page)).status_code == 200, page
        assert "两地甘肃" in (await client.get("/t/gansu/me")).text
        assert (await sign_in_staff(client, "ningxia", ningxia_user, PASSWORD)).status_code == 303
        gansu_me, ningxia_me = await client.get("/t/gansu/me"), await client.get("/t/ningxia/me")
        assert gansu_me.status_code == 200 and "两地甘肃" in gansu_me.text
        assert ningxia_me.status_code == 200 and "两地宁夏" in ningxia_me.text
        # Signing out of one region ends that session only.
        signed_out = await client.post("/t/ningxia/signout", data={"_csrf": csrf_from(ningxia_me.text)})
        assert signed_out.status_code == 303
        assert (await client.get("/t/ningxia/me")).status_code == 303
        assert (await client.get("/t/gansu/me")).status_code == 200
