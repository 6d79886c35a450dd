"""Recording and verifying audit events. Events are chained per tenant: digest = SHA-256 over the previous
digest and the event's canonical JSON."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from audit.tables import AuditEvent
from core.db import write_transaction
from tenants.tables import Tenant

GENESIS = "0" * 64
AUDIT_LOCK_CLASS = 7001  # first key of the advisory lock, so it cannot collide with other uses


@dataclass(frozen=True)
class Actor:
    label: str  # "account:42", "anonymous", "system"
    role: str | None = None
    org_code: str | None = None


SYSTEM = Actor("system")
ANONYMOUS = Actor("anonymous")


def _digest(prev_digest: str, event: dict[str, Any]) -> str:
    canonical = json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_digest}\n{canonical}".encode()).hexdigest()


def _chained_fields(row: dict[str, Any]) -> dict[str, Any]:
    at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return {
        "seq": row["seq"],
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": row["actor"],
        "role": row["role"],
        "org_code": row["org_code"],
        "action": row["action"],
        "subject": row["subject"],
        "details": row["details"],
    }


async def record(
    tenant: Tenant, actor: Actor, action: str, subject: str, details: dict[str, Any] | None = None
) -> None:
    """Appends one event to the tenant's chain."""
    await _append(tenant, actor, action, subject, details or {})


async def _append(tenant: Tenant, actor: Actor, action: str, subject: str, details: dict[str, Any]) -> None:
    engine = AuditEvent._meta.db
    async with write_transaction(engine):
        if isinstance(engine, PostgresEngine):
            # Appends to one tenant's chain take turns (SQLite's BEGIN IMMEDIATE already serialises writers),
            # so two events never read the same tail; the unique (tenant, seq) index backs this up.
            await AuditEvent.raw("SELECT pg_advisory_xact_lock({}, {})", AUDIT_LOCK_CLASS, tenant.id)
        tail = (
            await AuditEvent.select(AuditEvent.seq, AuditEvent.digest)
            .where(AuditEvent.tenant == tenant.id)
            .order_by(AuditEvent.seq, ascending=False)
            .first()
        )
        row = {
            "seq": (tail["seq"] + 1) if tail else 1,
            "at": datetime.now(UTC),
            "actor": actor.label,
            "role": actor.role,
            "org_code": actor.org_code,
            "action": action,
            "subject": subject,
            "details": details,
        }
        prev = tail["digest"] if tail else GENESIS
        await AuditEvent.insert(
            AuditEvent(tenant=tenant.id, prev_digest=prev, digest=_digest(prev, _chained_fields(row)), **row)
        )


@dataclass(frozen=True)
class ChainReport:
    tenant: str
    events: int
    first_broken_seq: int | None
    reason: str | None

    @property
    def intact(self) -> bool:
        return self.first_broken_seq is None


async def verify_chain(tenant: Tenant) -> ChainReport:
    rows = (
        await AuditEvent.select()
        .where(AuditEvent.tenant == tenant.id)
        .order_by(AuditEvent.seq)
        .output(load_json=True)
    )
    prev = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        if row["seq"] != expected_seq:
            return ChainReport(tenant.slug, len(rows), expected_seq, f"缺少第{expected_seq}条事件")
        if row["prev_digest"] != prev:
            return ChainReport(tenant.slug, len(rows), row["seq"], "与上一条事件的摘要不符")
        if _digest(prev, _chained_fields(row)) != row["digest"]:
            return ChainReport(tenant.slug, len(rows), row["seq"], "事件内容被改动")
        prev = row["digest"]
    return ChainReport(tenant.slug, len(rows), None, None)


async def events_for(tenant: Tenant, *, action_prefix: str = "", limit: int = 100) -> list[dict[str, Any]]:
    query = AuditEvent.select().where(AuditEvent.tenant == tenant.id)
    if action_prefix:
        query = query.where(AuditEvent.action.like(f"{action_prefix}%"))
    return await query.order_by(AuditEvent.seq, ascending=False).limit(limit).output(load_json=True)
