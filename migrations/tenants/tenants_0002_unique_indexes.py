"""Per-tenant uniqueness of org codes and rule ids (core.migrations says why these are indexes)."""

from core.migrations import index_migration

ID = "2026-11-23T09:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes on (tenant, code) and (tenant, rule_id)"

forwards = index_migration(
    ID,
    "tenants",
    DESCRIPTION,
    unique={
        "org_tenant_code": 'ON "org" ("tenant", "code")',
        "authority_rule_tenant_rule_id": 'ON "authority_rule" ("tenant", "rule_id")',
    },
)
