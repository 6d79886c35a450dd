"""Per-tenant uniqueness of procedure definitions (core.migrations says why this is an index)."""

from core.migrations import index_migration

ID = "2026-11-23T12:16:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique index on procedure_config (tenant, procedure)"

forwards = index_migration(
    ID,
    "tenants",
    DESCRIPTION,
    unique={"procedure_config_tenant_procedure": 'ON "procedure_config" ("tenant", "procedure")'},
)
