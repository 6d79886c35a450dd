"""(tenant, year) of certificate_sequence is unique: the conflict target of the numbering's
``INSERT … ON CONFLICT ("tenant", "year") DO NOTHING`` (certificates.numbering), so two first issues of a
year cannot create two sequences.

Written by hand: SQLite cannot ALTER TABLE … ADD CONSTRAINT, while a unique index is enforced the same way by
SQLite and PostgreSQL (and both accept it as an ON CONFLICT target). It is a migration of its own because
Piccolo runs a migration's raw steps before its table creation.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T10:45:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique index on certificate_sequence (tenant, year)"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="certificates", description=DESCRIPTION)

    async def create_index() -> None:
        await engine_finder().run_ddl(
            'CREATE UNIQUE INDEX "certificate_sequence_tenant_year" '
            'ON "certificate_sequence" ("tenant", "year")'
        )

    async def drop_index() -> None:
        await engine_finder().run_ddl('DROP INDEX "certificate_sequence_tenant_year"')

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
