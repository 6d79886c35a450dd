"""Versions are unique per seal and per template kind (unique indexes: see tenants_0002 for why)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T10:52:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes on seal and template versions"

INDEXES = {
    "seal_version_tenant_org_version": 'ON "seal_version" ("tenant", "org", "version")',
    "template_version_tenant_kind_version": 'ON "template_version" ("tenant", "kind", "version")',
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="seals", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = engine_finder()
        for name, target in INDEXES.items():
            await engine.run_ddl(f'CREATE UNIQUE INDEX "{name}" {target}')

    async def drop_indexes() -> None:
        engine = engine_finder()
        for name in INDEXES:
            await engine.run_ddl(f'DROP INDEX "{name}"')

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
