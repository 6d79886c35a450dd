"""A certificate number is unique per tenant, an e-licence identifier everywhere (see tenants_0002 for why
these are indexes)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T10:55:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes on certificate numbers and identifiers"

INDEXES = {
    "certificate_tenant_number": 'ON "certificate" ("tenant", "number")',
    "certificate_licence_identifier": 'ON "certificate" ("licence_identifier")',
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="certificates", description=DESCRIPTION)

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
