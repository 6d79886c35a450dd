"""Per-tenant uniqueness of org codes and rule ids.

Written by hand: SQLite cannot ALTER TABLE … ADD CONSTRAINT (what Piccolo's auto-migration emits for a
``Unique`` constraint), while a unique index is enforced the same way by SQLite and PostgreSQL. It is a
migration of its own because Piccolo runs a migration's raw steps before its table creation.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T09:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes on (tenant, code) and (tenant, rule_id)"

STATEMENTS = (
    'CREATE UNIQUE INDEX "org_tenant_code" ON "org" ("tenant", "code")',
    'CREATE UNIQUE INDEX "authority_rule_tenant_rule_id" ON "authority_rule" ("tenant", "rule_id")',
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    async def drop_indexes() -> None:
        engine = engine_finder()
        for name in ("org_tenant_code", "authority_rule_tenant_rule_id"):
            await engine.run_ddl(f'DROP INDEX "{name}"')

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
