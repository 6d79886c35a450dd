"""The audit log's hash chain: `zhicheng audit verify` (the real command, against the suite's database)
reports an intact chain, and a changed or removed row. Every tampered row is put back."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from audit.services import SYSTEM, _chained_fields, _digest, record, verify_chain
from audit.tables import AuditEvent
from tenants.services import get_tenant
from tenants.tables import Tenant

ZHICHENG = str(Path(sys.executable).parent / "zhicheng")
SLUGS = ("gansu", "ningxia", "guangxi")


async def zhicheng(*args: str) -> tuple[int, str, str]:
    env = {**os.environ, "PICCOLO_CONF": "piccolo_conf", "DATABASE_URL": os.environ["DATABASE_URL"]}
    process = await asyncio.create_subprocess_exec(
        ZHICHENG, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


@pytest.fixture
async def guangxi(database: None) -> Tenant:
    tenant = await get_tenant("guangxi")
    assert tenant is not None
    return tenant


@pytest.fixture
async def three_events(guangxi: Tenant) -> list[int]:
    """Appends three events; returns their seqs."""
    for number in range(3):
        await record(guangxi, SYSTEM, "test.audit_cli", f"test:{number}", {"number": number})
    rows = (
        await AuditEvent.select(AuditEvent.seq)
        .where(AuditEvent.tenant == guangxi.id)
        .order_by(AuditEvent.seq, ascending=False)
        .limit(3)
    )
    return sorted(row["seq"] for row in rows)


async def event_row(tenant: Tenant, seq: int) -> dict[str, Any]:
    row = await AuditEvent.select().where(AuditEvent.tenant == tenant.id, AuditEvent.seq == seq).first()
    assert row is not None
    return row


async def test_verify_reports_every_tenant_intact(three_events: list[int]) -> None:
    status, stdout, stderr = await zhicheng("audit", "verify")
    assert status == 0, stdout + stderr
    lines = stdout.splitlines()
    assert len(lines) == len(SLUGS)
    for slug in SLUGS:
        assert any(line.startswith(f"{slug}: ") and line.endswith(" events, chain intact") for line in lines)


async def test_verify_names_the_changed_event(guangxi: Tenant, three_events: list[int]) -> None:
    status, stdout, _ = await zhicheng("audit", "verify", "--tenant", "guangxi")
    assert (status, stdout.strip()) == (0, f"guangxi: {three_events[-1]} events, chain intact")

    middle = three_events[1]
    original = (await event_row(guangxi, middle))["subject"]
    changed = AuditEvent.tenant == guangxi.id, AuditEvent.seq == middle
    await AuditEvent.update({AuditEvent.subject: "x"}).where(*changed)
    try:
        status, stdout, _ = await zhicheng("audit", "verify", "--tenant", "guangxi")
        assert status == 1
        assert stdout.strip() == f"guangxi: BROKEN at event {middle}: 事件内容被改动"
        # The other tenants are still reported, and the run as a whole fails.
        status, stdout, _ = await zhicheng("audit", "verify")
        assert status == 1
        assert f"guangxi: BROKEN at event {middle}" in stdout
        assert "gansu: " in stdout and "ningxia: " in stdout
    finally:
        await AuditEvent.update({AuditEvent.subject: original}).where(*changed)

    status, stdout, _ = await zhicheng("audit", "verify", "--tenant", "guangxi")
    assert status == 0, stdout
    assert (await verify_chain(guangxi)).intact


async def test_a_rewritten_event_breaks_the_next_link(guangxi: Tenant, three_events: list[int]) -> None:
    """Changing an event and recomputing its digest does not help: the next event no longer follows it."""
    first, middle, _ = three_events
    row = await AuditEvent.select().where(AuditEvent.tenant == guangxi.id, AuditEvent.seq == first).first()
    assert row is not None
    forged = {**row, "subject": "x", "details": json.loads(row["details"])}
    where = AuditEvent.tenant == guangxi.id, AuditEvent.seq == first
    await AuditEvent.update(
        {AuditEvent.subject: "x", AuditEvent.digest: _digest(row["prev_digest"], _chained_fields(forged))}
    ).where(*where)
    try:
        report = await verify_chain(guangxi)
        assert (report.first_broken_seq, report.reason) == (middle, "与上一条事件的摘要不符")
    finally:
        await AuditEvent.update({AuditEvent.subject: row["subject"], AuditEvent.digest: row["digest"]}).where(
            *where
        )
    assert (await verify_chain(guangxi)).intact


@pytest.fixture
async def removed_middle_event(guangxi: Tenant, three_events: list[int]) -> AsyncIterator[int]:
    """Deletes the middle one of the three events, and afterwards inserts the very same row again."""
    middle = three_events[1]
    row = await AuditEvent.select().where(AuditEvent.tenant == guangxi.id, AuditEvent.seq == middle).first()
    assert row is not None
    await AuditEvent.delete().where(AuditEvent.id == row["id"])
    try:
        yield middle
    finally:
        await AuditEvent.insert(AuditEvent(**row))


async def test_a_removed_event_is_reported_missing(guangxi: Tenant, removed_middle_event: int) -> None:
    report = await verify_chain(guangxi)
    assert not report.intact
    assert report.first_broken_seq == removed_middle_event
    assert report.reason == f"缺少第{removed_middle_event}条事件"


async def test_the_removed_event_was_put_back(guangxi: Tenant) -> None:
    assert (await verify_chain(guangxi)).intact


async def test_unknown_tenant(database: None) -> None:
    status, _, stderr = await zhicheng("audit", "verify", "--tenant", "nowhere")
    assert status == 2
    assert "nowhere" in stderr
