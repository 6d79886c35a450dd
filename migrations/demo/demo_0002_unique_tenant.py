"""At most one demo load per tenant (core.migrations says why this is an index)."""

from core.migrations import index_migration

ID = "2026-12-02T17:39:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique index on demo_load (tenant)"

forwards = index_migration(ID, "demo", DESCRIPTION, unique={"demo_load_tenant": 'ON "demo_load" ("tenant")'})
