"""Expired sessions (most of them anonymous, opened for a sign-in form) and sign-in attempts that have left
the throttle window are deleted: by ``purge_expired``, which every app process runs from its lifespan."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from accounts.services import THROTTLE_WINDOW, purge_expired
from accounts.sessions import now_utc, start_session, token_hash
from accounts.tables import SignInAttempt, WebSession
from app import create_app, purging
from tenants.services import get_tenant
from tenants.tables import Tenant


async def gansu() -> Tenant:
    tenant = await get_tenant("gansu")
    assert tenant is not None
    return tenant


async def session_exists(token: str) -> bool:
    return await WebSession.exists().where(WebSession.token_hash == token_hash(token))


async def test_expired_sessions_and_attempts_outside_the_window_are_deleted() -> None:
    tenant = await gansu()
    now = now_utc()
    live = await start_session(tenant, None, now=now - timedelta(minutes=20))
    idle = await start_session(tenant, None, now=now - timedelta(minutes=31))  # past the 30-minute idle time
    old = await start_session(tenant, None, now=now - timedelta(hours=13))  # past the 12-hour lifetime
    await WebSession.update({WebSession.last_seen_at: now}).where(WebSession.token_hash == token_hash(old))
    counting = SignInAttempt(tenant=tenant.id, bucket="client:192.0.2.1", at=now - timedelta(seconds=30))
    spent = SignInAttempt(tenant=tenant.id, bucket="client:192.0.2.1", at=now - THROTTLE_WINDOW)
    await SignInAttempt.insert(counting, spent)

    sessions, attempts = await purge_expired(now=now)

    assert sessions >= 2 and attempts >= 1
    assert await session_exists(live)
    assert not await session_exists(idle) and not await session_exists(old)
    assert [
        row["id"]
        for row in await SignInAttempt.select(SignInAttempt.id).where(
            SignInAttempt.bucket == "client:192.0.2.1"
        )
    ] == [counting.id]
    await SignInAttempt.delete().where(SignInAttempt.bucket == "client:192.0.2.1")


async def test_the_app_purges_from_its_lifespan() -> None:
    tenant = await gansu()
    expired = await start_session(tenant, None, now=now_utc() - timedelta(hours=1))
    async with purging(create_app()):
        for _ in range(50):
            if not await session_exists(expired):
                break
            await asyncio.sleep(0.1)
    assert not await session_exists(expired)
