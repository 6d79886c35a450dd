"""Per-tenant uniqueness for accounts and role grants (unique indexes: see tenants_0002 for why)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T10:19:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes on accounts and role grants"

INDEXES = {
    "account_tenant_username": 'ON "account" ("tenant", "username")',
    "account_tenant_id_number_hash": 'ON "account" ("tenant", "id_number_hash")',
    "role_grant_account_org_role": 'ON "role_grant" ("account", "org", "role")',
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = engine_finder()
        for name, target in INDEXES.items():
            await engine.run_ddl(f'CREATE UNIQUE INDEX "{name}" {target}')
        await engine.run_ddl(
            'CREATE INDEX "sign_in_attempt_tenant_bucket_at" ON "sign_in_attempt" ("tenant", "bucket", "at")'
        )

    async def drop_indexes() -> None:
        engine = engine_finder()
        for name in (*INDEXES, "sign_in_attempt_tenant_bucket_at"):
            await engine.run_ddl(f'DROP INDEX "{name}"')

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
