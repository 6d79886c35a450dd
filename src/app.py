"""The Litestar application: routers, middleware, the access guard, the database lifespan, error pages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress

from litestar import Litestar
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.plugins.htmx import HTMXPlugin

from accounts.controllers import (
    AccountAdminController,
    AccountController,
    SignInController,
    UnitAdminController,
)
from accounts.services import purge_expired
from accounts.web import MustChangePassword, access_guard, session_middleware, unauthorized_handler
from cases.controllers import FilingController
from cases.export_controllers import ExportController
from cases.queue_controllers import QueueController
from certificates.controllers import (
    AnnotationController,
    CertificateAdminController,
    FileCheckController,
    PublicCertificateController,
    VerificationController,
)
from core import db
from core.health import healthz
from core.security import security_headers
from core.web import (
    FormRequest,
    http_error_handler,
    not_found_handler,
    server_error_handler,
    static_files_router,
)
from demo.web import demo_banner_middleware
from seals.controllers import SealController, TemplateController
from settings import get_settings
from tenants.calendar_controllers import CalendarController
from tenants.controllers import TenantApiController, TenantPagesController
from tenants.embed_controllers import EmbedAdminController, embed_middleware
from tenants.procedure_controllers import ProcedureAdminController
from tenants.services import frame_ancestors_for_path
from tenants.tables import Tenant


def database(app: Litestar) -> AbstractAsyncContextManager[None]:
    # Piccolo has no maintained Litestar plugin, so the engine's pool is started and stopped here.
    return db.running(Tenant._meta.db)


# Sessions and sign-in attempts that have expired are deleted this often by every app process (a delete
# that finds nothing is cheap, so several processes doing it need no coordination).
PURGE_INTERVAL_SECONDS = 600


async def _purge_periodically() -> None:
    while True:
        try:
            await purge_expired()
        except Exception:  # a failed round (database away) must not end the loop; the next one retries
            logging.getLogger(__name__).exception("purging expired sessions failed")
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)


@asynccontextmanager
async def purging(app: Litestar) -> AsyncIterator[None]:
    """Purges expired sessions and sign-in attempts at start-up and then every PURGE_INTERVAL_SECONDS."""
    task = asyncio.create_task(_purge_periodically())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


def create_app() -> Litestar:
    return Litestar(
        route_handlers=[
            healthz,
            TenantPagesController,
            TenantApiController,
            SignInController,
            AccountController,
            AccountAdminController,
            UnitAdminController,
            SealController,
            TemplateController,
            VerificationController,
            CertificateAdminController,
            PublicCertificateController,
            AnnotationController,
            FileCheckController,
            CalendarController,
            ProcedureAdminController,
            FilingController,
            QueueController,
            ExportController,
            EmbedAdminController,
            static_files_router(),
        ],
        lifespan=[database, purging],
        middleware=[session_middleware, embed_middleware, demo_banner_middleware],
        before_send=[security_headers(frame_ancestors_for_path)],
        guards=[access_guard],
        request_class=FormRequest,
        plugins=[HTMXPlugin()],
        exception_handlers={
            NotFoundException: not_found_handler,
            MustChangePassword: unauthorized_handler,
            NotAuthorizedException: unauthorized_handler,
            HTTPException: http_error_handler,
            Exception: server_error_handler,
        },
        # No generated OpenAPI pages: every route carries an access rule; the API is documented in README.
        openapi_config=None,
        debug=get_settings().debug,
    )


app = create_app()
