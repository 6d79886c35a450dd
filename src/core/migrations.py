"""Index-only migrations, written by hand: SQLite cannot ALTER TABLE … ADD CONSTRAINT (what Piccolo's
auto-migrations emit for a ``Unique`` constraint), while a unique index is enforced the same way by SQLite and
PostgreSQL. They are migrations of their own because Piccolo runs a migration's raw steps before its table
creation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder


def index_migration(
    migration_id: str,
    app_name: str,
    description: str,
    unique: Mapping[str, str],
    plain: Mapping[str, str] | None = None,
) -> Callable[[], Awaitable[MigrationManager]]:
    """The ``forwards`` of a migration creating the named indexes (``name → 'ON "table" ("column", …)'``),
    with a backwards step dropping them."""
    statements = [f'CREATE UNIQUE INDEX "{name}" {target}' for name, target in unique.items()] + [
        f'CREATE INDEX "{name}" {target}' for name, target in (plain or {}).items()
    ]
    names = [*unique, *(plain or {})]

    async def forwards() -> MigrationManager:
        manager = MigrationManager(migration_id=migration_id, app_name=app_name, description=description)

        async def create() -> None:
            for statement in statements:
                await engine_finder().run_ddl(statement)

        async def drop() -> None:
            for name in names:
                await engine_finder().run_ddl(f'DROP INDEX "{name}"')

        manager.add_raw(create)
        manager.add_raw_backwards(drop)
        return manager

    return forwards
