"""Liveness with the database checked, for load balancers and `make run`'s readiness wait."""

from typing import Any

from litestar import Response, get
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from core.db import ping
from tenants.tables import Tenant


@get("/healthz", name="health", include_in_schema=False, opt={"access": "public"})
async def healthz() -> Response[dict[str, Any]]:
    engine = Tenant._meta.db
    if not await ping(engine):
        return Response(
            {"status": "error", "database": "unreachable"}, status_code=HTTP_503_SERVICE_UNAVAILABLE
        )
    return Response({"status": "ok", "database": engine.engine_type})
