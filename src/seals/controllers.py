"""Administrators' pages for seals and the certificate template. Thin: rules live in services."""

from __future__ import annotations

import base64
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from accounts.services import actor_of
from accounts.web import Access, require_principal
from core.storage import read_bytes
from core.web import render, uploaded_file
from seals import services
from seals.layout import ALIGNMENTS, FIELD_LABELS, LayoutError, layout_from_form, parse_layout
from seals.tables import SealVersion
from tenants.controllers import TENANT_DEPENDENCIES
from tenants.tables import Org, Tenant

UPLOAD_LIMIT = 21 * 1024 * 1024


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _upload(form: Any, name: str) -> bytes | None:
    value = form.get(name)
    if isinstance(value, UploadFile):
        content = await value.read()
        return content or None
    return None


class SealController(Controller):
    path = "/t/{slug:str}/admin/seals"
    dependencies = TENANT_DEPENDENCIES

    async def _page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        *,
        errors: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        notice: str = "",
        status_code: int = 200,
    ) -> Response[str]:
        principal = require_principal(request)
        orgs = (
            await Org.select(Org.code, Org.name)
            .where(Org.tenant == tenant.id, Org.kind.is_in(list(services.SEAL_BEARING_KINDS)))
            .order_by(Org.position)
        )
        return render(
            request,
            "seals/seals.html",
            {
                "tenant": tenant,
                "orgs": orgs,
                "seals": await services.seal_versions(tenant),
                "errors": errors or {},
                "form": form or {},
                "notice": notice,
                "csrf_token": principal.csrf_token,
            },
            status_code=status_code,
        )

    @get("/", name="seals:index", opt={"access": Access.tenant_admin})
    async def index(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        return await self._page(request, tenant)

    @post("/", name="seals:upload", opt={"access": Access.tenant_admin}, request_max_body_size=UPLOAD_LIMIT)
    async def upload(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        principal = require_principal(request)
        form = await request.form()
        values = {name: _text(form, name) for name in ("org", "name", "operator", "leader")}
        try:
            stored = await services.store_seal(
                tenant,
                actor_of(principal),
                org_code=values["org"],
                scan=await _upload(form, "scan") or b"",
                operator=values["operator"],
                leader=values["leader"],
                name=values["name"],
            )
        except services.SealError as error:
            return await self._page(
                request,
                tenant,
                errors={error.field or "form": error.message},
                form=values,
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return await self._page(request, tenant, notice=f"已采集印模，版本 {stored['version']}")

    async def _file(self, tenant: Tenant, seal_id: int, column: str) -> bytes:
        row = (
            await SealVersion.select()
            .where(SealVersion.tenant == tenant.id, SealVersion.id == seal_id)
            .first()
        )
        if row is None:
            raise NotFoundException("印模不存在")
        return read_bytes(row[column])

    @get("/{seal_id:int}/stamp.png", name="seals:stamp", opt={"access": Access.tenant_admin})
    async def stamp(self, tenant: NamedDependency[Tenant], seal_id: FromPath[int]) -> Response[bytes]:
        return Response(await self._file(tenant, seal_id, "stamp_sha256"), media_type="image/png")

    @get("/{seal_id:int}/scan", name="seals:scan", opt={"access": Access.tenant_admin})
    async def scan(self, tenant: NamedDependency[Tenant], seal_id: FromPath[int]) -> Response[bytes]:
        content = await self._file(tenant, seal_id, "source_sha256")
        media = (
            "application/pdf"
            if content[:5] == b"%PDF-"
            else "image/png"
            if content[:4] == b"\x89PNG"
            else "image/jpeg"
        )
        return uploaded_file(content, media, f"seal-{seal_id}", f"印模扫描件-{seal_id}")


class TemplateController(Controller):
    path = "/t/{slug:str}/admin/template"
    dependencies = TENANT_DEPENDENCIES

    async def _page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        *,
        layout_data: Any = None,
        errors: dict[str, str] | None = None,
        notice: str = "",
        status_code: int = 200,
    ) -> Response[str]:
        principal = require_principal(request)
        current = await services.current_template(tenant)
        assert current is not None
        preview = ""
        try:
            layout = parse_layout(layout_data if layout_data is not None else current["layout"])
            preview = base64.b64encode(await services.template_preview(tenant, layout_data)).decode()
        except (LayoutError, services.SealError) as error:
            errors = {**(errors or {}), "layout": str(error)}
            layout = parse_layout(current["layout"])
        return render(
            request,
            "seals/template.html",
            {
                "tenant": tenant,
                "layout": layout,
                "version": current["version"],
                "preview": preview,
                "labels": FIELD_LABELS,
                "alignments": ALIGNMENTS,
                "errors": errors or {},
                "notice": notice,
                "csrf_token": principal.csrf_token,
            },
            partial="editor",
            status_code=status_code if not errors else HTTP_422_UNPROCESSABLE_ENTITY,
        )

    @get("/", name="seals:template", opt={"access": Access.tenant_admin})
    async def index(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        await services.ensure_default_template(tenant)
        return await self._page(request, tenant)

    async def _layout_from(self, request: Request[Any, Any, Any], tenant: Tenant) -> tuple[Any, Any]:
        form = await request.form()
        current = await services.current_template(tenant)
        assert current is not None
        values = {key: value for key, value in form.items() if isinstance(value, str)}
        return layout_from_form(values, parse_layout(current["layout"])), form

    @post("/preview", name="seals:template-preview", opt={"access": Access.tenant_admin})
    async def preview(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> Response[str]:
        """The editor re-rendered with the layout as typed, not saved (htmx swaps the editor)."""
        try:
            layout_data, _ = await self._layout_from(request, tenant)
        except LayoutError as error:
            return await self._page(request, tenant, errors={"layout": str(error)})
        return await self._page(request, tenant, layout_data=layout_data)

    @post(
        "/",
        name="seals:template-save",
        opt={"access": Access.tenant_admin},
        request_max_body_size=UPLOAD_LIMIT,
    )
    async def save(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        principal = require_principal(request)
        try:
            layout_data, form = await self._layout_from(request, tenant)
            version = await services.save_template_version(
                tenant,
                actor_of(principal),
                layout_data=layout_data,
                background_pdf=await _upload(form, "background"),
            )
        except LayoutError as error:
            return await self._page(request, tenant, errors={"layout": str(error)})
        except services.SealError as error:
            return await self._page(request, tenant, errors={error.field or "layout": error.message})
        return await self._page(request, tenant, notice=f"已保存为模板版本 {version}")
