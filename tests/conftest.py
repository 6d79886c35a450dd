"""Test setup: one real database per run — a fresh SQLite file, or the PostgreSQL database named by
TEST_DATABASE_URL (wiped first) — migrated with the real migrations and loaded with the real presets.

The environment is set before any project module is imported, because Piccolo builds its engine from
DATABASE_URL when ``piccolo_conf`` is first imported.
"""

from __future__ import annotations

import base64
import itertools
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

_scratch = Path(tempfile.mkdtemp(prefix="zhicheng-test-"))
os.environ["ZHICHENG_FILES_DIR"] = str(_scratch / "files")
os.environ["ZHICHENG_TOKEN_DEV_DIR"] = str(_scratch / "token-keys")
os.environ["ZHICHENG_SIGNING_DEV_DIR"] = str(_scratch / "signing")
os.environ["ZHICHENG_PII_KEYS"] = "test1:" + base64.b64encode(b"k" * 32).decode()
os.environ["ZHICHENG_LOOKUP_KEY"] = base64.b64encode(b"l" * 32).decode()
os.environ["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_scratch / 'test.sqlite3'}"
os.environ["PICCOLO_CONF"] = "piccolo_conf"

import httpx  # noqa: E402
from piccolo.engine.postgres import PostgresEngine  # noqa: E402

from app import create_app  # noqa: E402
from cli import migrate  # noqa: E402
from core import db  # noqa: E402
from tenants.calendar import seed_calendar_from_package  # noqa: E402
from tenants.services import list_tenants, load_all_presets  # noqa: E402
from tenants.tables import Tenant  # noqa: E402
from tests.people import Person, make_people  # noqa: E402

IS_POSTGRES = os.environ["DATABASE_URL"].startswith("postgres")


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL' if IS_POSTGRES else 'SQLite'} ({os.environ['DATABASE_URL']})"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if IS_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with TEST_DATABASE_URL")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
async def database() -> AsyncIterator[None]:
    # No pool here: the app's lifespan (the ``client`` fixture) owns the PostgreSQL pool.
    engine = Tenant._meta.db
    if isinstance(engine, PostgresEngine):
        await engine.run_ddl("DROP SCHEMA IF EXISTS public CASCADE", in_pool=False)
        await engine.run_ddl("CREATE SCHEMA public", in_pool=False)
    await migrate()
    await load_all_presets()
    for tenant in await list_tenants():  # as `zhicheng load-presets` does
        await seed_calendar_from_package(tenant)
    yield


@pytest.fixture(scope="session")
async def transport(database: None) -> AsyncIterator[httpx.ASGITransport]:
    """The app over ASGI on the test's own event loop. (Litestar's AsyncTestClient runs the app in a thread
    with another loop, and an asyncpg pool cannot be shared across loops.) The engine is started here the
    way the app's lifespan starts it."""
    engine = Tenant._meta.db
    await db.start(engine)
    yield httpx.ASGITransport(app=create_app())
    await db.stop(engine)


@pytest.fixture(scope="session")
def new_client(transport: httpx.ASGITransport) -> Callable[..., httpx.AsyncClient]:
    """A fresh browser: its own cookies and its own client address (sign-in limits count per address).
    ``https=True`` makes requests arrive over HTTPS."""
    addresses = itertools.count(1)

    def make(https: bool = False) -> httpx.AsyncClient:
        number = next(addresses)
        own = httpx.ASGITransport(
            app=transport.app, client=(f"198.51.{number // 250}.{number % 250 + 1}", 50000)
        )
        return httpx.AsyncClient(transport=own, base_url=f"{'https' if https else 'http'}://testserver")

    return make


@pytest.fixture(scope="session")
async def client(new_client: Callable[..., httpx.AsyncClient]) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client() as client:
        yield client


@pytest.fixture(scope="session")
async def people(new_client: Callable[..., httpx.AsyncClient]) -> dict[str, Person]:
    return await make_people(new_client)
