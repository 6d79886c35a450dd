"""Server-side sessions and the principal they carry.

The cookie holds 256 random bits; the database keeps only their SHA-256, so a leaked table cannot be replayed.
A session expires after the tenant's idle timeout or absolute lifetime, whichever comes first. Sign-in always
starts a new session (the old id is discarded), and disabling an account deletes all of its sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from accounts.roles import AccountKind, Role
from accounts.tables import Account, RoleGrant, WebSession
from tenants.presets import DEFAULT_SESSION_IDLE_MINUTES, DEFAULT_SESSION_MAX_HOURS
from tenants.tables import Tenant

# Writing last_seen on every request would make every page a database write; a minute's slack is harmless
# against a 30-minute idle timeout.
TOUCH_INTERVAL = timedelta(seconds=60)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def now_utc() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Grant:
    org_code: str
    org_name: str
    role: Role


@dataclass(frozen=True)
class Principal:
    """Who is making the request, within which tenant. Anonymous visitors have a session too (for CSRF)."""

    session_id: int
    tenant_id: int
    tenant_slug: str
    csrf_token: str
    data: dict[str, Any] = field(default_factory=dict)
    account_id: int | None = None
    kind: AccountKind | None = None
    name: str = ""
    must_change_password: bool = False
    grants: tuple[Grant, ...] = ()

    @property
    def signed_in(self) -> bool:
        return self.account_id is not None

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(grant.role for grant in self.grants)

    def orgs_with(self, role: Role) -> frozenset[str]:
        return frozenset(grant.org_code for grant in self.grants if grant.role is role)

    @property
    def actor_label(self) -> str:
        return f"account:{self.account_id}" if self.account_id else "anonymous"


def session_limits(tenant_auth: dict[str, Any]) -> tuple[timedelta, timedelta]:
    return (
        timedelta(minutes=tenant_auth.get("session_idle_minutes", DEFAULT_SESSION_IDLE_MINUTES)),
        timedelta(hours=tenant_auth.get("session_max_hours", DEFAULT_SESSION_MAX_HOURS)),
    )


async def start_session(
    tenant: Tenant, account_id: int | None, *, data: dict[str, Any] | None = None, now: datetime | None = None
) -> str:
    """A new session; returns the cookie token."""
    moment = now or now_utc()
    token = new_token()
    await WebSession.insert(
        WebSession(
            token_hash=token_hash(token),
            tenant=tenant.id,
            account=account_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=moment,
            last_seen_at=moment,
            data=data or {},
        )
    )
    return token


async def load_principal(token: str, *, now: datetime | None = None) -> Principal | None:
    """The principal of a live session, or None (unknown, expired — then deleted — or a disabled account)."""
    moment = now or now_utc()
    row = (
        await WebSession.select(
            WebSession.id,
            WebSession.tenant,
            WebSession.account,
            WebSession.csrf_token,
            WebSession.created_at,
            WebSession.last_seen_at,
            WebSession.data,
            WebSession.tenant.slug.as_alias("tenant_slug"),
            WebSession.tenant.auth.as_alias("tenant_auth"),
        )
        .where(WebSession.token_hash == token_hash(token))
        .output(load_json=True)
        .first()
    )
    if row is None:
        return None
    idle, lifetime = session_limits(row["tenant_auth"] or {})
    if moment - _aware(row["last_seen_at"]) > idle or moment - _aware(row["created_at"]) > lifetime:
        await WebSession.delete().where(WebSession.id == row["id"])
        return None
    if moment - _aware(row["last_seen_at"]) > TOUCH_INTERVAL:
        await WebSession.update({WebSession.last_seen_at: moment}).where(WebSession.id == row["id"])
    principal = Principal(
        session_id=row["id"],
        tenant_id=row["tenant"],
        tenant_slug=row["tenant_slug"],
        csrf_token=row["csrf_token"],
        data=row["data"] or {},
    )
    if row["account"] is None:
        return principal
    account = await Account.select().where(Account.id == row["account"]).first()
    if account is None or account["disabled"]:
        await WebSession.delete().where(WebSession.id == row["id"])
        return None
    grants = await RoleGrant.select(
        RoleGrant.role, RoleGrant.org.code.as_alias("org_code"), RoleGrant.org.name.as_alias("org_name")
    ).where(RoleGrant.account == account["id"])
    return Principal(
        session_id=row["id"],
        tenant_id=row["tenant"],
        tenant_slug=row["tenant_slug"],
        csrf_token=row["csrf_token"],
        data=row["data"] or {},
        account_id=account["id"],
        kind=AccountKind(account["kind"]),
        name=account["name"],
        must_change_password=account["must_change_password"],
        grants=tuple(Grant(grant["org_code"], grant["org_name"], Role(grant["role"])) for grant in grants),
    )


async def purge_expired_sessions(*, now: datetime | None = None) -> int:
    """Deletes every session past its tenant's idle timeout or absolute lifetime, also those never presented
    again (most are anonymous sessions opened for a sign-in form's CSRF token). Returns how many."""
    moment = now or now_utc()
    ended = 0
    for tenant in await Tenant.select(Tenant.id, Tenant.auth).output(load_json=True):
        idle, lifetime = session_limits(tenant["auth"] or {})
        ended += len(
            await WebSession.delete()
            .where(
                WebSession.tenant == tenant["id"],
                (WebSession.last_seen_at < moment - idle) | (WebSession.created_at < moment - lifetime),
            )
            .returning(WebSession.id)
        )
    return ended


async def save_session_data(principal: Principal, data: dict[str, Any]) -> None:
    await WebSession.update({WebSession.data: data}).where(WebSession.id == principal.session_id)


async def end_session(session_id: int) -> None:
    await WebSession.delete().where(WebSession.id == session_id)


async def end_all_sessions(account_id: int) -> int:
    ended = await WebSession.count().where(WebSession.account == account_id)
    await WebSession.delete().where(WebSession.account == account_id)
    return ended
