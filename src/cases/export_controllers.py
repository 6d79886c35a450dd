"""HTTP surface of the exports (docs/exports.md): the page choosing what to export, and the xlsx and CSV
downloads. Thin: which cases, who may, and the files themselves live in ``cases.exports``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Stream
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from accounts.web import Access, require_principal
from cases import exports
from cases.exports import ExportFormat
from core.web import render
from tenants.controllers import TENANT_DEPENDENCIES
from tenants.tables import Tenant

FORM_FIELDS = ("org", "from", "to")


class ExportController(Controller):
    path = "/t/{slug:str}/exports"
    dependencies = TENANT_DEPENDENCIES

    async def _page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        *,
        failed: str = "",
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[str]:
        principal = require_principal(request)
        return render(
            request,
            "cases/exports.html",
            {
                "tenant": tenant,
                "choices": await exports.export_choices(tenant, principal),
                "failed": failed,  # the procedure whose form ``form``/``errors`` belong to
                "form": form or {},
                "errors": errors or {},
            },
            status_code=status_code,
        )

    @get("/", name="cases:exports", opt={"access": Access.staff})
    async def index(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        return await self._page(request, tenant)

    @get("/{procedure:str}/xlsx", name="cases:export-xlsx", opt={"access": Access.staff})
    async def xlsx(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], procedure: FromPath[str]
    ) -> Response[Any]:
        return await self._download(request, tenant, procedure, ExportFormat.xlsx)

    @get("/{procedure:str}/csv", name="cases:export-csv", opt={"access": Access.staff})
    async def csv(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], procedure: FromPath[str]
    ) -> Response[Any]:
        return await self._download(request, tenant, procedure, ExportFormat.csv)

    async def _download(
        self, request: Request[Any, Any, Any], tenant: Tenant, procedure: str, fmt: ExportFormat
    ) -> Response[Any]:
        principal = require_principal(request)
        form = {name: request.query_params.get(name, "") for name in FORM_FIELDS}
        try:
            export = await exports.open_export(
                tenant, principal, procedure, fmt, org=form["org"], since=form["from"], until=form["to"]
            )
        except exports.ExportError as error:
            if error.status == 404:
                raise NotFoundException(error.message) from None
            if error.status == 403:
                raise PermissionDeniedException(error.message) from None
            return await self._page(
                request,
                tenant,
                failed=procedure,
                form=form,
                errors={error.field or "form": error.message},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        headers = {
            "Content-Disposition": exports.content_disposition(export, fmt),
            # Full ID numbers inside: no cache keeps a copy.
            "Cache-Control": "no-store",
        }
        if fmt is ExportFormat.xlsx:
            output = await exports.write_xlsx(tenant, export)
            return Stream(exports.file_chunks(output), media_type=fmt.media_type, headers=headers)
        return Stream(exports.csv_chunks(tenant, export), media_type=fmt.media_type, headers=headers)
