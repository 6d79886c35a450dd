"""Public verification, voiding, the void notice and the holder's certificates. Rules live in services."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY, HTTP_429_TOO_MANY_REQUESTS

from accounts.services import account_in_tenant, id_number_of
from accounts.web import Access, client_address, ensure_session, require_principal
from certificates import services
from certificates.tokens import tenant_signer
from core.spreadsheets import spreadsheet_row
from core.storage import read_bytes
from core.web import render
from tenants.controllers import TENANT_DEPENDENCIES
from tenants.tables import Tenant

STATE_LABELS = {"valid": "有效", "void": "已作废", "expired": "加注件已过期", "unverifiable": "无法验证"}
CHECK_LIMIT = 10 * 1024 * 1024


class VerificationController(Controller):
    @get(["/v/{token:str}", "/V/{token:str}"], name="certificates:verify", opt={"access": Access.public})
    async def page(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
        result = await services.verify(token)
        return render(
            request,
            "certificates/verify.html",
            {
                "result": result,
                "answer": services.verification_json(result),
                "labels": STATE_LABELS,
                "tenant": result.tenant,
                "notices": services.public_notices(result.tenant),
            },
        )

    @get("/v", name="certificates:verify-home", opt={"access": Access.public})
    async def home(self, request: Request[Any, Any, Any]) -> Response[str]:
        return render(request, "certificates/verify_home.html", {"tenant": None})

    @get("/api/v1/verify", name="api:verify", opt={"access": Access.public})
    async def api(self, token: FromQuery[str]) -> dict[str, Any]:
        return services.verification_json(await services.verify(token))

    @get(
        "/t/{slug:str}/.well-known/zhicheng-keys.json",
        name="certificates:keys",
        opt={"access": Access.public},
        dependencies=TENANT_DEPENDENCIES,
    )
    async def keys(self, tenant: NamedDependency[Tenant]) -> dict[str, Any]:
        """The tenant's token-signing public key, for verifiers that check tokens offline."""
        signer = tenant_signer(tenant.slug)
        return {
            "tenant": tenant.slug,
            "tenant_id": tenant.id,
            "keys": [{"alg": signer.algorithm, "public_key": signer.public_key_b64()}],
            "message": "zhicheng-certificate-token \\x00 <slug> \\x00 <payload>",
            "token": "base32(payload ‖ Ed25519 signature)",
        }


class CertificateAdminController(Controller):
    path = "/t/{slug:str}/admin/certificates"
    dependencies = TENANT_DEPENDENCIES

    async def _page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        *,
        errors: dict[str, str] | None = None,
        notice: str = "",
        status_code: int = 200,
    ) -> Response[str]:
        principal = require_principal(request)
        return render(
            request,
            "certificates/admin.html",
            {
                "tenant": tenant,
                "certificates": await services.recent_certificates(tenant, principal),
                "errors": errors or {},
                "notice": notice,
                "csrf_token": principal.csrf_token,
            },
            partial="certificate_admin",
            status_code=status_code,
        )

    @get("/", name="certificates:admin", opt={"access": Access.org_admin})
    async def index(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        return await self._page(request, tenant)

    @post("/{certificate_id:int}/void", name="certificates:void", opt={"access": Access.org_admin})
    async def void(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], certificate_id: FromPath[int]
    ) -> Response[str]:
        principal = require_principal(request)
        form = await request.form()
        remark = form.get("remark")
        try:
            await services.void_certificate(
                tenant, principal, certificate_id, remark if isinstance(remark, str) else ""
            )
        except services.IssueError as error:
            return await self._page(
                request, tenant, errors={"form": error.message}, status_code=HTTP_422_UNPROCESSABLE_ENTITY
            )
        return await self._page(request, tenant, notice="证书已作废")


class PublicCertificateController(Controller):
    path = "/t/{slug:str}"
    dependencies = TENANT_DEPENDENCIES

    @get("/void-notice", name="certificates:void-notice", opt={"access": Access.public})
    async def void_notice(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> Response[Any]:
        """作废公告: a year's voided certificates; ``?format=csv`` exports it."""
        raw_year = request.query_params.get("year", "")
        year = (
            int(raw_year) if raw_year.isdigit() and 2000 <= int(raw_year) <= 2100 else datetime.now(UTC).year
        )
        rows = await services.voided_certificates(tenant, year)
        replaced = await services.replaced_paper_certificates(tenant, year)
        if request.query_params.get("format") == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            lines: list[list[str]] = [["证书编号", "姓名", "职称名称", "发证机关", "作废日期", "备注"]]
            for paper in replaced:
                number = (
                    "（编号不详）"
                    if paper["replaces_paper_number"] == "-1"
                    else paper["replaces_paper_number"]
                )
                lines.append(
                    [
                        number,
                        paper["holder_name"],
                        paper["fields"]["title_name"],
                        paper["issuer_name"],
                        paper["issue_date"].isoformat(),
                        f"纸质证书遗失，已补发电子证书 {paper['number']}",
                    ]
                )
            for row in rows:
                lines.append(
                    [
                        row["number"],
                        row["holder_name"],
                        row["fields"]["title_name"],
                        row["issuer_name"],
                        row["voided_at"].date().isoformat(),
                        row["void_remark"],
                    ]
                )
            writer.writerows(spreadsheet_row(line) for line in lines)
            return Response(
                "\ufeff" + buffer.getvalue(),  # a BOM, so Excel reads the UTF-8 as such
                media_type="text/csv",
                headers={
                    "Content-Disposition": f'attachment; filename="void-notice-{tenant.slug}-{year}.csv"'
                },
            )
        return render(
            request,
            "certificates/void_notice.html",
            {
                "tenant": tenant,
                "rows": rows,
                "replaced": replaced,
                "year": year,
                "notices": services.public_notices(tenant),
            },
        )

    @get("/my/certificates", name="certificates:mine", opt={"access": Access.applicant})
    async def mine(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        """我的电子证书: by 获得职称年度 and 职称名称, chosen by either (a GET form; htmx swaps only the
        list), each with view, download, print and its verification link."""
        principal = require_principal(request)
        account = await account_in_tenant(tenant, principal.account_id)
        number = id_number_of(tenant, account) if account else None
        rows = await services.holder_certificates(tenant, number) if number else []
        year_text = request.query_params.get("year", "").strip()
        title = request.query_params.get("title", "").strip()
        year = int(year_text) if year_text.isdigit() else None
        chosen = services.pick_certificates(rows, year=year, title_name=title or None)
        return render(
            request,
            "certificates/mine.html",
            {
                "tenant": tenant,
                "certificates": [{**row, "obtained_year": services.obtained_year(row)} for row in chosen],
                "held": bool(rows),
                "years": sorted({services.obtained_year(row) for row in rows}, reverse=True),
                "titles": sorted({row["fields"]["title_name"] for row in rows}),
                "year": year,
                "title": title,
            },
            partial="certificate_list",
        )

    @get(
        "/my/certificates/{certificate_id:int}/pdf",
        name="certificates:download",
        opt={"access": Access.applicant},
    )
    async def download(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], certificate_id: FromPath[int]
    ) -> Response[bytes]:
        principal = require_principal(request)
        account = await account_in_tenant(tenant, principal.account_id)
        number = id_number_of(tenant, account) if account else None
        mine = {
            row["id"]: row for row in (await services.holder_certificates(tenant, number) if number else [])
        }
        if certificate_id not in mine:
            raise NotFoundException("证书不存在")
        row = mine[certificate_id]
        disposition = "attachment" if request.query_params.get("download") == "1" else "inline"
        return Response(
            read_bytes(row["pdf_sha256"]),
            media_type="application/pdf",
            headers={"Content-Disposition": f'{disposition}; filename="{row["number"]}.pdf"'},
        )


class AnnotationController(Controller):
    path = "/t/{slug:str}/my/certificates"
    dependencies = TENANT_DEPENDENCIES

    @post("/{certificate_id:int}/annotated", name="certificates:annotate", opt={"access": Access.applicant})
    async def annotate(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], certificate_id: FromPath[int]
    ) -> Response[Any]:
        """加注件: the holder states a purpose and a validity date and gets the stamped, signed copy."""
        principal = require_principal(request)
        form = await request.form()
        purpose = form.get("purpose")
        raw_date = form.get("valid_until")
        try:
            valid_until = date.fromisoformat(raw_date) if isinstance(raw_date, str) else None
        except ValueError:
            valid_until = None
        try:
            if valid_until is None:
                raise services.IssueError("请选择有效期", "valid_until")
            pdf = await services.annotate(
                tenant, principal, certificate_id, purpose if isinstance(purpose, str) else "", valid_until
            )
        except services.IssueError as error:
            return render(
                request,
                "certificates/annotate_error.html",
                {"tenant": tenant, "message": error.message},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return Response(
            pdf,
            status_code=200,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="annotated-{certificate_id}.pdf"'},
        )


class FileCheckController(Controller):
    """Upload a PDF to learn whether its embedded signature holds and whether it is a file we issued."""

    path = "/t/{slug:str}/verify-file"
    dependencies = TENANT_DEPENDENCIES

    async def _page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        *,
        check: Any = None,
        error: str = "",
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response[str]:
        principal = await ensure_session(request, tenant)
        response = render(
            request,
            "certificates/verify_file.html",
            {"tenant": tenant, "check": check, "error": error, "csrf_token": principal.csrf_token},
            status_code=status_code,
        )
        response.headers.update(headers or {})
        return response

    @get("/", name="certificates:check-file", opt={"access": Access.public})
    async def form(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        return await self._page(request, tenant)

    @post(
        "/",
        name="certificates:check-file-submit",
        opt={"access": Access.public},
        request_max_body_size=CHECK_LIMIT + 65536,
    )
    async def submit(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        wait = await services.file_check_wait(tenant, client_address(request))
        if wait:
            return await self._page(
                request,
                tenant,
                error=services.file_check_throttle_message(wait),
                status_code=HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(wait)},
            )
        upload = (await request.form()).get("file")
        content = await upload.read() if isinstance(upload, UploadFile) else b""
        if content.lstrip()[:5] != b"%PDF-" or len(content) > CHECK_LIMIT:
            return await self._page(
                request,
                tenant,
                error="请上传不超过 10 MB 的 PDF 文件（按内容判断）",
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        try:
            check = await services.check_file(tenant, content)
        except services.FileCheckError as refusal:
            return await self._page(
                request, tenant, error=refusal.message, status_code=HTTP_422_UNPROCESSABLE_ENTITY
            )
        return await self._page(request, tenant, check=check)
