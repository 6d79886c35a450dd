"""The Piccolo engine: chosen from ``DATABASE_URL``, started and stopped by the app's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType
from piccolo.querystring import QueryString

# Seconds a SQLite writer waits for the lock before failing with "database is locked".
SQLITE_BUSY_TIMEOUT = 30


def engine_for_url(url: str) -> Engine:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        # sqlite:///relative/file or sqlite:////absolute/file, as SQLAlchemy spells them.
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT)
    if scheme in ("postgres", "postgresql"):
        return PostgresEngine(config={"dsn": url})
    raise ValueError(f"DATABASE_URL must be sqlite:///… or postgresql://…, not {scheme!r}")


def write_transaction(engine: Engine) -> SQLiteTransaction | PostgresTransaction:
    """A transaction for writing. SQLite must take its write lock up front (BEGIN IMMEDIATE): a deferred
    transaction that reads first and writes later fails with SQLITE_BUSY instead of waiting."""
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def hold_lock(engine: Engine, key: str) -> None:
    """Inside a write transaction: wait until no other transaction, in any process, holds ``key``, then hold
    it until this transaction ends. On PostgreSQL that is a transaction-scoped advisory lock; SQLite needs
    nothing, its write transaction (BEGIN IMMEDIATE) already excludes every other writer."""
    if isinstance(engine, PostgresEngine):
        await engine.run_querystring(
            QueryString("SELECT pg_advisory_xact_lock(hashtextextended({}, 0))", key)
        )


async def start(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool()
    else:
        # WAL lets readers carry on while one writer holds the lock; it is a property of the file.
        await engine.run_ddl("PRAGMA journal_mode=WAL")


async def stop(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()


async def ping(engine: Engine) -> bool:
    try:
        rows = await engine.run_ddl("SELECT 1 AS ok")
    except Exception:  # any driver error means the database is not usable
        return False
    return bool(rows)


@asynccontextmanager
async def running(engine: Engine) -> AsyncIterator[None]:
    """The engine started for the duration (the app's lifespan and each CLI command)."""
    await start(engine)
    try:
        yield
    finally:
        await stop(engine)
