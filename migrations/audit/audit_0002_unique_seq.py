"""(tenant, seq) is unique: the chain cannot fork even if two appends race (audit.services)."""

from core.migrations import index_migration

ID = "2026-11-23T10:19:31:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique index on audit_event (tenant, seq)"

forwards = index_migration(
    ID,
    "audit",
    DESCRIPTION,
    unique={
        "audit_event_tenant_seq": 'ON "audit_event" ("tenant", "seq")',
    },
)
