"""Account services: creating accounts, signing in, passwords, roles, unit administrators. No HTTP.

Sign-in failures say which cause of 甘人社通〔2021〕166号 四 applies only where saying so leaks nothing:
"姓名与身份证号不匹配" is said only after the password was right, so it cannot be used to probe whose ID
number is whose.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from accounts import secrets as pii
from accounts.identity import IdNumberError, initial_password, mask_id_number, normalize_id_number
from accounts.oidc import OidcIdentity
from accounts.passwords import hash_password, needs_rehash, password_problem, verify_password
from accounts.roles import ADMIN_ROLES, AccountKind, Role
from accounts.sessions import Principal, end_all_sessions, now_utc, purge_expired_sessions, start_session
from accounts.tables import Account, RoleGrant, SignInAttempt, UnitAdminApplication, WebSession
from audit.services import Actor, record
from core.db import hold_lock, write_transaction
from core.storage import store_bytes
from core.uploads import UploadError, check_pdf
from tenants.tables import Org, Tenant

ACCOUNT_LIMIT_PER_MINUTE = 5
CLIENT_LIMIT_PER_MINUTE = 30
THROTTLE_WINDOW = timedelta(minutes=1)
# The notices' forms take a plain name of Chinese characters (or a foreign name); this only bounds length.
NAME_MAX = 32


class AccountError(ValueError):
    """A refused account operation; ``field`` names the form field it is about (or None)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.message, self.field = message, field
        super().__init__(message)


class AccountForbidden(AccountError):
    """The principal may not do this to this account or grant (HTTP 403)."""


def actor_of(principal: Principal, role: Role | None = None, org_code: str | None = None) -> Actor:
    return Actor(principal.actor_label, role.value if role else None, org_code)


def id_context(tenant: Tenant) -> str:
    """Bound into the encryption and the look-up hash, so one tenant's row cannot be used in another's."""
    return f"tenant:{tenant.slug}"


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise AccountError("请填写姓名", "name")
    if len(cleaned) > NAME_MAX:
        raise AccountError(f"姓名最多{NAME_MAX}个字", "name")
    return cleaned


# --- looking accounts up ---------------------------------------------------------------------------------


async def applicant_by_id_number(tenant: Tenant, id_number: str) -> dict[str, Any] | None:
    digest = pii.lookup_hash(id_number, context=id_context(tenant))
    return (
        await Account.select()
        .where(
            Account.tenant == tenant.id,
            Account.id_number_hash == digest,
            Account.kind == AccountKind.applicant,
        )
        .first()
    )


async def account_in_tenant(tenant: Tenant, account_id: int) -> dict[str, Any] | None:
    return await Account.select().where(Account.tenant == tenant.id, Account.id == account_id).first()


def id_number_of(tenant: Tenant, account: dict[str, Any]) -> str | None:
    cipher = account.get("id_number_cipher")
    return pii.decrypt(cipher, context=id_context(tenant)) if cipher else None


def shown_id_number(tenant: Tenant, account: dict[str, Any], viewer: Principal | None) -> str:
    """The full number only to its holder; masked for everyone else."""
    number = id_number_of(tenant, account)
    if number is None:
        return ""
    return number if viewer is not None and viewer.account_id == account["id"] else mask_id_number(number)


async def managed_accounts(tenant: Tenant, managed_org_ids: set[int]) -> list[dict[str, Any]]:
    """Staff with a grant at a managed org, and applicants filed under one, each with their grants listed."""
    if not managed_org_ids:
        return []
    orgs = list(managed_org_ids)
    grants = await RoleGrant.select(
        RoleGrant.account, RoleGrant.role, RoleGrant.org, RoleGrant.org.name.as_alias("org_name")
    ).where(RoleGrant.tenant == tenant.id)
    staff_ids = {grant["account"] for grant in grants if grant["org"] in managed_org_ids}
    accounts = await (
        Account.select(Account.all_columns(), Account.org.name.as_alias("org_name"))
        .where(Account.tenant == tenant.id)
        .where((Account.id.is_in(list(staff_ids) or [-1])) | (Account.org.is_in(orgs)))
        .order_by(Account.id)
    )
    for account in accounts:
        account["grants"] = [grant for grant in grants if grant["account"] == account["id"]]
    return accounts


ACCOUNTS_PER_PAGE = 50


@dataclass(frozen=True)
class AccountPage:
    accounts: list[dict[str, Any]]
    page: int  # from 1
    pages: int


def account_matches(tenant: Tenant, account: dict[str, Any], query: str) -> bool:
    """The admin list's search: part of the name or user name, or the ID number's last four characters
    (the numbers are encrypted, so those are compared after decrypting, as the list shows them anyway)."""
    wanted = query.strip().upper()
    if not wanted:
        return True
    if wanted in account["name"].upper() or wanted in (account["username"] or "").upper():
        return True
    number = id_number_of(tenant, account) if len(wanted) == 4 else None
    return number is not None and number.endswith(wanted)


async def managed_accounts_page(
    tenant: Tenant, managed_org_ids: set[int], query: str, page: int, per_page: int = ACCOUNTS_PER_PAGE
) -> AccountPage:
    """One page (offset paging, oldest accounts first) of the managed accounts that match the search."""
    found = [
        account
        for account in await managed_accounts(tenant, managed_org_ids)
        if account_matches(tenant, account, query)
    ]
    pages = max(1, -(-len(found) // per_page))
    page = min(max(page, 1), pages)
    return AccountPage(found[(page - 1) * per_page : page * per_page], page, pages)


async def parse_grant(tenant: Tenant, org_code: str, role: str) -> tuple[int, Role]:
    org = await Org.select(Org.id).where(Org.tenant == tenant.id, Org.code == org_code).first()
    if org is None:
        raise AccountError("请选择本地区的单位", "org")
    try:
        return org["id"], Role(role)
    except ValueError:
        raise AccountError("请选择角色", "role") from None


async def account_for_identity(tenant: Tenant, identity: OidcIdentity) -> int | None:
    """The account a verified OIDC identity signs in to: by its remembered subject, else — for applicants —
    by the ID number claim (then the subject is remembered). Disabled accounts are not returned."""
    account = (
        await Account.select(Account.id, Account.disabled)
        .where(Account.tenant == tenant.id, Account.oidc_subject == f"{identity.issuer}|{identity.subject}")
        .first()
    )
    if account is None and identity.id_number:
        try:
            number = normalize_id_number(identity.id_number)
        except IdNumberError:
            return None
        found = await applicant_by_id_number(tenant, number)
        if found is not None:
            await Account.update({Account.oidc_subject: f"{identity.issuer}|{identity.subject}"}).where(
                Account.id == found["id"]
            )
            account = found
    if account is None or account["disabled"]:
        return None
    return account["id"]


# --- creating accounts -----------------------------------------------------------------------------------


async def create_applicant(
    tenant: Tenant, by: Actor, *, name: str, id_number: str, org_id: int | None
) -> int:
    """An applicant account whose initial password is the last 8 ID digits, to be changed at first sign-in."""
    try:
        number = normalize_id_number(id_number)
    except IdNumberError as error:
        raise AccountError(str(error), "id_number") from None
    clean = clean_name(name)
    if await applicant_by_id_number(tenant, number) is not None:
        raise AccountError("该身份证号已有账号", "id_number")
    account = Account(
        tenant=tenant.id,
        kind=AccountKind.applicant.value,
        name=clean,
        id_number_cipher=pii.encrypt(number, context=id_context(tenant)),
        id_number_hash=pii.lookup_hash(number, context=id_context(tenant)),
        org=org_id,
        password_hash=hash_password(initial_password(number)),
        must_change_password=True,
        created_at=now_utc(),
    )
    await account.save()
    await record(tenant, by, "account.create", f"account:{account.id}", {"kind": "applicant"})
    return account.id


def generated_password() -> str:
    """A one-time password for a new or reset staff account, shown once to the administrator."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(12))
        if password_problem(candidate) is None:
            return candidate


USERNAME_CHARACTERS = set(string.ascii_lowercase + string.digits + "._-")


async def create_staff(
    tenant: Tenant, by: Actor, *, name: str, username: str, grants: Iterable[tuple[int, Role]]
) -> tuple[int, str]:
    """A staff account with a one-time password (returned) that must be changed at first sign-in."""
    login = username.strip().lower()
    if not 3 <= len(login) <= 64 or not set(login) <= USERNAME_CHARACTERS:
        raise AccountError("用户名为3到64位小写字母、数字或 . _ -", "username")
    clean = clean_name(name)
    exists = await Account.exists().where(Account.tenant == tenant.id, Account.username == login)
    if exists:
        raise AccountError("该用户名已被使用", "username")
    password = generated_password()
    async with write_transaction(Account._meta.db):
        account = Account(
            tenant=tenant.id,
            kind=AccountKind.staff.value,
            name=clean,
            username=login,
            password_hash=hash_password(password),
            must_change_password=True,
            created_at=now_utc(),
        )
        await account.save()
        for org_id, role in grants:
            await _grant(tenant, account.id, org_id, role)
    await record(tenant, by, "account.create", f"account:{account.id}", {"kind": "staff", "username": login})
    for org_id, role in grants:
        await record(tenant, by, "role.grant", f"account:{account.id}", {"org": org_id, "role": role.value})
    return account.id, password


async def _grant(tenant: Tenant, account_id: int, org_id: int, role: Role) -> None:
    exists = await RoleGrant.exists().where(
        RoleGrant.account == account_id, RoleGrant.org == org_id, RoleGrant.role == role.value
    )
    if not exists:
        await RoleGrant.insert(
            RoleGrant(tenant=tenant.id, account=account_id, org=org_id, role=role.value, granted_at=now_utc())
        )


# --- who may manage whom (seed 001 五, seed 003 三(二)) ---------------------------------------------------


@dataclass(frozen=True)
class _Reach:
    """One administrative grant of the principal: its role, the orgs it manages, and its own org with the
    org's ancestors (where an equal role is out of its reach)."""

    role: Role
    orgs: frozenset[int]
    at_or_above: frozenset[int]


@dataclass(frozen=True)
class _Authority:
    reaches: tuple[_Reach, ...]
    root: int

    @property
    def orgs(self) -> set[int]:
        return {org for reach in self.reaches for org in reach.orgs}

    def refusal(self, org_id: int, role: Role) -> str | None:
        """Why none of the principal's grants may manage a grant of ``role`` at ``org_id``: "reach" (not an
        org they manage) or "rank" (the role is equal to or above theirs at or above their org); None if one
        may. A tenant-wide role stands at the root wherever it was granted."""
        position = self.root if role.tenant_wide else org_id
        refusal = "reach"
        for reach in self.reaches:
            if org_id not in reach.orgs:
                continue
            outranks = role.rank > reach.role.rank
            equals_above = role.rank == reach.role.rank and position in reach.at_or_above
            if not (outranks or equals_above):
                return None
            refusal = "rank"
        return refusal


async def _authority(tenant: Tenant, principal: Principal) -> _Authority:
    """An org admin manages accounts of their own org and its direct children; a tenant admin all of them;
    in either case only below their own rank (``Role.rank``)."""
    orgs = await Org.select(Org.id, Org.code, Org.parent).where(Org.tenant == tenant.id)
    parent = {org["id"]: org["parent"] for org in orgs}
    by_code = {org["code"]: org["id"] for org in orgs}
    root = next(org_id for org_id, parent_id in parent.items() if parent_id is None)
    reaches = []
    for grant in principal.grants:
        if grant.role not in ADMIN_ROLES or grant.org_code not in by_code:
            continue
        if grant.role.tenant_wide:
            own, managed = root, set(parent)
        else:
            own = by_code[grant.org_code]
            managed = {own} | {child for child, parent_id in parent.items() if parent_id == own}
        line: set[int] = set()  # the grant's org and its ancestors, up to the root
        step: int | None = own
        while step is not None and step not in line:
            line.add(step)
            step = parent[step]
        reaches.append(_Reach(grant.role, frozenset(managed), frozenset(line)))
    return _Authority(tuple(reaches), root)


async def manageable_org_ids(tenant: Tenant, principal: Principal) -> set[int]:
    """The orgs whose people and accounts the principal may manage (subject to the ranks of the accounts)."""
    return (await _authority(tenant, principal)).orgs


def _management_refusal(
    authority: _Authority, account: dict[str, Any], grants: list[dict[str, Any]]
) -> str | None:
    """Why the principal whose authority this is may not manage the account (its ``grants``: rows with
    ``org`` and ``role``), or None if they may."""
    if account["kind"] == AccountKind.applicant:
        if account["org"] in authority.orgs:
            return None
        return "无权管理该账号：只能管理本单位及直属下级单位的人员"
    refusals = {(authority.refusal(row["org"], Role(row["role"])), Role(row["role"])) for row in grants}
    outranking = [role for refusal, role in refusals if refusal == "rank"]
    if outranking:
        highest = max(outranking, key=lambda role: role.rank)
        return f"无权管理该账号：对方持有与您同级或更高的角色（{highest.label}）"
    if not grants or any(refusal for refusal, _ in refusals):
        return "无权管理该账号：只能管理本单位及直属下级单位的账号"
    return None


async def ensure_manages(tenant: Tenant, principal: Principal, account_id: int) -> dict[str, Any]:
    """The account, if the principal may manage it: an applicant filed under an org they manage, or staff
    whose every grant they could have made. Raises AccountForbidden otherwise."""
    account = await account_in_tenant(tenant, account_id)
    if account is None:
        raise AccountError("账号不存在")
    grants = await RoleGrant.select(RoleGrant.org, RoleGrant.role).where(RoleGrant.account == account_id)
    refusal = _management_refusal(await _authority(tenant, principal), account, grants)
    if refusal is not None:
        raise AccountForbidden(refusal)
    return account


async def mark_manageable(tenant: Tenant, principal: Principal, accounts: list[dict[str, Any]]) -> None:
    """Sets each listed account's ``refusal`` (see ``managed_accounts``, which lists their grants): the list
    offers no action that ``ensure_manages`` would refuse."""
    authority = await _authority(tenant, principal)
    for account in accounts:
        account["refusal"] = _management_refusal(authority, account, account["grants"])


async def ensure_role_grantable(tenant: Tenant, principal: Principal, org_id: int, role: Role) -> None:
    """Granting and revoking alike: only a role below one's own, or the same role at an org below one's
    own."""
    refusal = (await _authority(tenant, principal)).refusal(org_id, role)
    if refusal == "rank":
        if role is Role.tenant_admin:
            raise AccountForbidden("地区管理员只能由系统管理员用命令行创建（zhicheng create-staff）", "role")
        raise AccountForbidden(f"不能授予与您同级或更高的角色：{role.label}只能由上级单位授予", "role")
    if refusal == "reach":
        raise AccountForbidden("只能在本单位及直属下级单位授予角色", "org")


async def grant_role(tenant: Tenant, principal: Principal, account_id: int, org_id: int, role: Role) -> None:
    await ensure_manages(tenant, principal, account_id)
    await ensure_role_grantable(tenant, principal, org_id, role)
    await _grant(tenant, account_id, org_id, role)
    await record(
        tenant, actor_of(principal), "role.grant", f"account:{account_id}", {"org": org_id, "role": role}
    )


async def revoke_role(tenant: Tenant, principal: Principal, account_id: int, org_id: int, role: Role) -> None:
    await ensure_manages(tenant, principal, account_id)
    await ensure_role_grantable(tenant, principal, org_id, role)
    await RoleGrant.delete().where(
        RoleGrant.account == account_id, RoleGrant.org == org_id, RoleGrant.role == role.value
    )
    await record(
        tenant, actor_of(principal), "role.revoke", f"account:{account_id}", {"org": org_id, "role": role}
    )


async def set_disabled(tenant: Tenant, principal: Principal, account_id: int, disabled: bool) -> int:
    """Disabling ends every session of the account at once; returns how many were ended."""
    await ensure_manages(tenant, principal, account_id)
    if account_id == principal.account_id:
        raise AccountError("不能停用自己的账号")
    await Account.update({Account.disabled: disabled}).where(Account.id == account_id)
    ended = await end_all_sessions(account_id) if disabled else 0
    action = "account.disable" if disabled else "account.enable"
    await record(tenant, actor_of(principal), action, f"account:{account_id}", {"sessions_ended": ended})
    return ended


async def reset_password(tenant: Tenant, principal: Principal, account_id: int) -> str | None:
    """Applicants go back to the initial password (last 8 ID digits); staff get a one-time password, which is
    returned. Either way the next sign-in must change it, and open sessions end."""
    account = await ensure_manages(tenant, principal, account_id)
    number = id_number_of(tenant, account)
    one_time = None
    if account["kind"] == AccountKind.applicant and number:
        new = initial_password(number)
    else:
        one_time = new = generated_password()
    await Account.update(
        {Account.password_hash: hash_password(new), Account.must_change_password: True}
    ).where(Account.id == account_id)
    await end_all_sessions(account_id)
    await SignInAttempt.delete().where(SignInAttempt.bucket == account_bucket(account_id))
    await record(tenant, actor_of(principal), "password.reset", f"account:{account_id}")
    return one_time


async def change_password(tenant: Tenant, principal: Principal, current: str, new: str, repeat: str) -> None:
    if principal.account_id is None:
        raise AccountError("请先登录")
    account = await account_in_tenant(tenant, principal.account_id)
    if account is None or not verify_password(account["password_hash"], current):
        raise AccountError("当前密码不正确（密码区分大小写）", "current")
    if new != repeat:
        raise AccountError("两次输入的新密码不一致", "repeat")
    problem = password_problem(new, id_number=id_number_of(tenant, account))
    if problem:
        raise AccountError(problem, "new")
    if verify_password(account["password_hash"], new):
        raise AccountError("新密码不能与当前密码相同", "new")
    await Account.update(
        {Account.password_hash: hash_password(new), Account.must_change_password: False}
    ).where(Account.id == account["id"])
    # Other sessions of the account end; this one carries on.
    await WebSession.delete().where(
        WebSession.account == account["id"], WebSession.id != principal.session_id
    )
    await record(tenant, actor_of(principal), "password.change", f"account:{account['id']}")


# --- signing in ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInFailure:
    message: str
    field: str | None = None
    retry_after: int | None = None  # seconds, when throttled


def account_bucket(account_id: int) -> str:
    return f"account:{account_id}"


def client_bucket(client: str) -> str:
    return f"client:{client}"


async def _throttled(tenant: Tenant, buckets: list[tuple[str, int]], now: datetime) -> int | None:
    """Seconds until the oldest counted failure leaves the window, for the first bucket over its limit."""
    since = now - THROTTLE_WINDOW
    for bucket, limit in buckets:
        rows = (
            await SignInAttempt.select(SignInAttempt.at)
            .where(
                SignInAttempt.tenant == tenant.id, SignInAttempt.bucket == bucket, SignInAttempt.at > since
            )
            .order_by(SignInAttempt.at)
        )
        if len(rows) >= limit:
            oldest = rows[-limit]["at"]
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
            return max(1, int((oldest + THROTTLE_WINDOW - now).total_seconds()) + 1)
    return None


async def take_attempt(tenant: Tenant, bucket: str, limit: int, now: datetime | None = None) -> int | None:
    """The sign-in throttle's table and window for another public action (the certificate file check, bucket
    ``file-check:<client>``): counts one attempt unless ``limit`` are already counted within the window, then
    answers the seconds to wait instead. Counted as sign-in attempts are, atomically with the check, in the
    database, so every app process counts the same."""
    counted = await _count_attempt(tenant, [(bucket, limit)], now or now_utc())
    return counted if isinstance(counted, int) else None


async def _count_attempt(tenant: Tenant, buckets: list[tuple[str, int]], now: datetime) -> list[int] | int:
    """Counts an attempt as a failure before its password is checked, in one transaction with the check of
    the limits, so that parallel attempts (from any number of app processes) cannot all pass the check
    before any of them is counted. The attempt's rows, which a right password removes again, or the seconds
    to wait when a bucket is full."""
    engine = SignInAttempt._meta.db
    async with write_transaction(engine):
        for bucket, _ in sorted(buckets):  # always the same order, so two attempts never wait on each other
            await hold_lock(engine, f"sign_in_attempt:{tenant.id}:{bucket}")
        wait = await _throttled(tenant, buckets, now)
        if wait:
            return wait
        rows = await SignInAttempt.insert(
            *(SignInAttempt(tenant=tenant.id, bucket=bucket, at=now) for bucket, _ in buckets)
        ).returning(SignInAttempt.id)
    return [row["id"] for row in rows]


async def _audit_failure(tenant: Tenant, subject: str, cause: str) -> None:
    await record(tenant, Actor("anonymous"), "signin.failure", subject, {"cause": cause})


async def purge_expired(*, now: datetime | None = None) -> tuple[int, int]:
    """Expired sessions, and failed sign-ins that have left the throttle window (they count for nothing any
    more): (sessions, attempts) deleted. The app runs this periodically (``app.purging``)."""
    moment = now or now_utc()
    sessions = await purge_expired_sessions(now=moment)
    attempts = (
        await SignInAttempt.delete()
        .where(SignInAttempt.at <= moment - THROTTLE_WINDOW)
        .returning(SignInAttempt.id)
    )
    return sessions, len(attempts)


def throttle_message(seconds: int) -> str:
    return f"登录尝试过于频繁，请{seconds}秒后再试"


async def _check_password(
    tenant: Tenant,
    account: dict[str, Any] | None,
    password: str,
    *,
    client: str,
    moment: datetime,
    wrong: SignInFailure,
    unknown_cause: str,
) -> SignInFailure | list[int]:
    """The shared middle of every password sign-in: the limits per client address and per account, then the
    password (an unknown account's against a stand-in, so it costs the same). The counted attempt's rows
    when the password is right."""
    buckets = [(client_bucket(client), CLIENT_LIMIT_PER_MINUTE)]
    if account is not None:
        buckets.append((account_bucket(account["id"]), ACCOUNT_LIMIT_PER_MINUTE))
    counted = await _count_attempt(tenant, buckets, moment)
    if isinstance(counted, int):
        return SignInFailure(throttle_message(counted), retry_after=counted)
    if not verify_password(account["password_hash"] if account else None, password):
        subject = f"account:{account['id']}" if account else "unknown"
        await _audit_failure(tenant, subject, "password" if account else unknown_cause)
        return wrong
    return counted


async def sign_in_applicant(
    tenant: Tenant, *, id_number: str, name: str, password: str, client: str, now: datetime | None = None
) -> int | SignInFailure:
    """The account id, or why not."""
    moment = now or now_utc()
    try:
        number = normalize_id_number(id_number)
    except IdNumberError as error:
        return SignInFailure(str(error), "id_number")
    if not name.strip():
        return SignInFailure("请填写姓名", "name")
    account = await applicant_by_id_number(tenant, number)
    wrong = SignInFailure(
        f"身份证号或密码不正确。密码区分大小写，请检查大写锁定；忘记密码请联系单位管理员重置。"
        f"请确认您登录的是{tenant.name}职称电子证书平台。",
        "password",
    )
    checked = await _check_password(
        tenant,
        account,
        password,
        client=client,
        moment=moment,
        wrong=wrong,
        unknown_cause="unknown_id_number",
    )
    if isinstance(checked, SignInFailure):
        return checked
    assert account is not None
    if clean_name_matches(account["name"], name):
        return await _admit(tenant, account, password, checked)
    # The attempt stays counted: a right password with the wrong name is a failure too.
    await _audit_failure(tenant, f"account:{account['id']}", "name_mismatch")
    return SignInFailure(
        "姓名与身份证号不匹配。请填写与身份证一致的汉字姓名（不要填拼音）；"
        "如账号登记的姓名有误，请联系单位管理员更正。",
        "name",
    )


def clean_name_matches(registered: str, typed: str) -> bool:
    return "".join(registered.split()) == "".join(typed.split())


async def sign_in_staff(
    tenant: Tenant, *, username: str, password: str, client: str, now: datetime | None = None
) -> int | SignInFailure:
    moment = now or now_utc()
    account = (
        await Account.select()
        .where(
            Account.tenant == tenant.id,
            Account.username == username.strip().lower(),
            Account.kind == AccountKind.staff,
        )
        .first()
    )
    wrong = SignInFailure("用户名或密码不正确（密码区分大小写）", "password")
    checked = await _check_password(
        tenant, account, password, client=client, moment=moment, wrong=wrong, unknown_cause="unknown_username"
    )
    if isinstance(checked, SignInFailure):
        return checked
    assert account is not None
    return await _admit(tenant, account, password, checked)


async def _admit(
    tenant: Tenant, account: dict[str, Any], password: str, counted: list[int]
) -> int | SignInFailure:
    """After the right password and name: the attempt was no failure, and the account's count is cleared."""
    await SignInAttempt.delete().where(SignInAttempt.id.is_in(counted))
    if account["disabled"]:
        await _audit_failure(tenant, f"account:{account['id']}", "disabled")
        return SignInFailure("该账号已停用，请联系单位管理员")
    if needs_rehash(account["password_hash"]):
        await Account.update({Account.password_hash: hash_password(password)}).where(
            Account.id == account["id"]
        )
    await SignInAttempt.delete().where(SignInAttempt.bucket == account_bucket(account["id"]))
    await record(tenant, Actor(f"account:{account['id']}"), "signin.success", f"account:{account['id']}")
    return account["id"]


async def sign_in_session(tenant: Tenant, account_id: int, previous_session_id: int | None) -> str:
    """A fresh session id for the signed-in account; the pre-sign-in session is discarded (fixation)."""
    if previous_session_id is not None:
        await WebSession.delete().where(WebSession.id == previous_session_id)
    return await start_session(tenant, account_id)


# --- unit administrators (seed 003 三(二)) ---------------------------------------------------------------

UNIT_ADMIN_FORM_MAX_BYTES = 2 * 1024 * 1024


async def apply_for_unit_admin(tenant: Tenant, principal: Principal, org_code: str, form_pdf: bytes) -> int:
    """A signed-in person asks to become the first unit administrator of an employer, with the stamped
    application form as PDF; the employer's parent org decides."""
    if principal.account_id is None:
        raise AccountError("请先登录")
    org = await Org.select().where(Org.tenant == tenant.id, Org.code == org_code).first()
    if org is None or org["kind"] not in ("employer", "university", "archive_agency"):
        raise AccountError("请选择本地区的用人单位", "org")
    try:
        await check_pdf(form_pdf, max_bytes=UNIT_ADMIN_FORM_MAX_BYTES)
    except UploadError as error:
        raise AccountError(str(error), "form") from None
    digest = store_bytes(form_pdf)
    application = UnitAdminApplication(
        tenant=tenant.id,
        account=principal.account_id,
        org=org["id"],
        form_sha256=digest,
        created_at=now_utc(),
    )
    await application.save()
    await record(tenant, actor_of(principal), "unit_admin.apply", f"org:{org_code}", {"form_sha256": digest})
    return application.id


async def decide_unit_admin(
    tenant: Tenant, principal: Principal, application_id: int, *, approve: bool, reason: str = ""
) -> None:
    application = (
        await UnitAdminApplication.select(
            UnitAdminApplication.all_columns(), UnitAdminApplication.org.parent.as_alias("parent_id")
        )
        .where(UnitAdminApplication.tenant == tenant.id, UnitAdminApplication.id == application_id)
        .first()
    )
    if application is None or application["status"] != "pending":
        raise AccountError("申请不存在或已处理")
    if application["parent_id"] not in await _administered_org_ids(tenant, principal):
        raise AccountError("只有该单位的上级单位管理员可以审批")
    if not approve and not reason.strip():
        raise AccountError("不通过时须填写理由", "reason")
    async with write_transaction(Account._meta.db):
        await UnitAdminApplication.update(
            {
                UnitAdminApplication.status: "approved" if approve else "rejected",
                UnitAdminApplication.decided_by: principal.account_id,
                UnitAdminApplication.decided_at: now_utc(),
                UnitAdminApplication.reason: reason.strip(),
            }
        ).where(UnitAdminApplication.id == application_id)
        if approve:
            await _grant(tenant, application["account"], application["org"], Role.org_admin)
    await record(
        tenant,
        actor_of(principal, Role.org_admin),
        "unit_admin.approve" if approve else "unit_admin.reject",
        f"application:{application_id}",
        {"account": application["account"], "org": application["org"], "reason": reason.strip()},
    )


async def _administered_org_ids(tenant: Tenant, principal: Principal) -> set[int]:
    orgs = await Org.select(Org.id, Org.code).where(Org.tenant == tenant.id)
    if Role.tenant_admin in principal.roles:
        return {org["id"] for org in orgs}
    return {org["id"] for org in orgs if org["code"] in principal.orgs_with(Role.org_admin)}


async def pending_unit_admin_applications(tenant: Tenant, principal: Principal) -> list[dict[str, Any]]:
    administered = await _administered_org_ids(tenant, principal)
    rows = await UnitAdminApplication.select(
        UnitAdminApplication.id,
        UnitAdminApplication.created_at,
        UnitAdminApplication.form_sha256,
        UnitAdminApplication.org.name.as_alias("org_name"),
        UnitAdminApplication.org.parent.as_alias("parent_id"),
        UnitAdminApplication.account.name.as_alias("applicant_name"),
    ).where(UnitAdminApplication.tenant == tenant.id, UnitAdminApplication.status == "pending")
    return [row for row in rows if row["parent_id"] in administered]


# --- separation of duties (seed 000 五(四), seed 001 二(二)1) ---------------------------------------------

SEPARATED_ROLES: tuple[tuple[Role, Role, str], ...] = (
    (Role.reviewer, Role.sealer, "审核员和用印员不得为同一人"),
    (Role.clerk, Role.reviewer, "录入员和审核员不得为同一人"),
)


def separation_violation(acted: dict[Role, set[int]], role: Role, account_id: int) -> str | None:
    """Whether ``account_id`` acting as ``role`` on a case breaks a separation rule, given who already acted
    on the case in which role. The cases package calls this before every action."""
    for first, second, message in SEPARATED_ROLES:
        other = second if role is first else first if role is second else None
        if other is not None and account_id in acted.get(other, set()):
            return message
    return None
