"""The Litestar application: routers, the database lifespan and the error pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.exceptions import HTTPException, NotFoundException
from litestar.plugins.htmx import HTMXPlugin

from core import db
from core.health import healthz
from core.web import http_error_handler, not_found_handler, server_error_handler, static_files_router
from settings import get_settings
from tenants.controllers import TenantApiController, TenantPagesController
from tenants.tables import Tenant


@asynccontextmanager
async def database(app: Litestar) -> AsyncIterator[None]:
    # Piccolo has no maintained Litestar plugin, so the engine's pool is started and stopped here.
    engine = Tenant._meta.db
    await db.start(engine)
    try:
        yield
    finally:
        await db.stop(engine)


def create_app() -> Litestar:
    return Litestar(
        route_handlers=[healthz, TenantPagesController, TenantApiController, static_files_router()],
        lifespan=[database],
        plugins=[HTMXPlugin()],
        exception_handlers={
            NotFoundException: not_found_handler,
            HTTPException: http_error_handler,
            Exception: server_error_handler,
        },
        debug=get_settings().debug,
    )


app = create_app()
