"""Versions are unique per seal and per template kind."""

from core.migrations import index_migration

ID = "2026-11-23T10:52:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes on seal and template versions"

forwards = index_migration(
    ID,
    "seals",
    DESCRIPTION,
    unique={
        "seal_version_tenant_org_version": 'ON "seal_version" ("tenant", "org", "version")',
        "template_version_tenant_kind_version": 'ON "template_version" ("tenant", "kind", "version")',
    },
)
