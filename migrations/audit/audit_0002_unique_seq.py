"""(tenant, seq) is unique: concurrent appends race for the next seq and the loser retries (audit.services)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T10:19:31:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique index on audit_event (tenant, seq)"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)

    async def create_index() -> None:
        await engine_finder().run_ddl(
            'CREATE UNIQUE INDEX "audit_event_tenant_seq" ON "audit_event" ("tenant", "seq")'
        )

    async def drop_index() -> None:
        await engine_finder().run_ddl('DROP INDEX "audit_event_tenant_seq"')

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
