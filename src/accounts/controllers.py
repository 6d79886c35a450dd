"""Sign-in, password, account administration and unit-administrator pages. Thin: rules live in services."""

from __future__ import annotations

import os
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_403_FORBIDDEN,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
)

from accounts import oidc, services
from accounts.roles import Role
from accounts.sessions import end_session, save_session_data
from accounts.web import (
    Access,
    client_address,
    ensure_session,
    principal_of,
    require_principal,
    set_session,
)
from audit.services import Actor, record
from core.storage import read_bytes
from core.web import render, uploaded_file
from tenants.controllers import TENANT_DEPENDENCIES
from tenants.services import org_tree
from tenants.tables import Org, Tenant

UPLOAD_LIMIT = 3 * 1024 * 1024  # request body cap for the form upload (the form itself is capped at 2 MB)


def _form_values(form: Any, *names: str) -> dict[str, str]:
    return {name: str(form.get(name) or "") for name in names}


def _safe_next(slug: str, candidate: str | None) -> str:
    """Only a path inside this tenant: an open redirect would let a link send a signed-in user anywhere."""
    if candidate and candidate.startswith(f"/t/{slug}/") and "//" not in candidate and "\\" not in candidate:
        return candidate
    return f"/t/{slug}/me"


def _see_other(path: str) -> Redirect:
    return Redirect(path, status_code=HTTP_303_SEE_OTHER)


def _oidc_provider(tenant: Tenant) -> oidc.OidcProvider | None:
    config = (tenant.auth or {}).get("oidc")
    if not config:
        return None
    secret = os.environ.get(config["client_secret_env"], "")
    if not secret:
        return None
    return oidc.OidcProvider(
        issuer=config["issuer"],
        client_id=config["client_id"],
        client_secret=secret,
        id_number_claim=config["id_number_claim"],
        name_claim=config["name_claim"],
    )


class SignInController(Controller):
    path = "/t/{slug:str}"
    dependencies = TENANT_DEPENDENCIES

    async def _page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        *,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        active: str = "applicant",
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response[str]:
        principal = await ensure_session(request, tenant)
        values = form or {"next": request.query_params.get("next", "")}
        response = render(
            request,
            "accounts/signin.html",
            {
                "tenant": tenant,
                "form": values,
                "errors": errors or {},
                "active": active,
                "csrf_token": principal.csrf_token,
                "oidc_label": ((tenant.auth or {}).get("oidc") or {}).get("label")
                if _oidc_provider(tenant)
                else None,
            },
            status_code=status_code,
        )
        response.headers.update(headers or {})
        return response

    @get("/signin", name="accounts:signin", opt={"access": Access.public})
    async def signin_page(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> Response[str]:
        return await self._page(request, tenant)

    async def _signed_in(
        self, request: Request[Any, Any, Any], tenant: Tenant, account_id: FromPath[int], next_path: str
    ) -> Any:
        principal = principal_of(request)
        token = await services.sign_in_session(
            tenant, account_id, principal.session_id if principal else None
        )
        set_session(request, token)
        return _see_other(_safe_next(tenant.slug, next_path))

    async def _failed(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        failure: services.SignInFailure,
        form: dict[str, str],
        active: str,
    ) -> Response[str]:
        form = {**form, "password": ""}
        errors = {failure.field or "form": failure.message}
        if failure.retry_after:
            return await self._page(
                request,
                tenant,
                form=form,
                errors=errors,
                active=active,
                status_code=HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(failure.retry_after)},
            )
        return await self._page(
            request,
            tenant,
            form=form,
            errors=errors,
            active=active,
            status_code=HTTP_422_UNPROCESSABLE_ENTITY,
        )

    @post("/signin/applicant", name="accounts:signin-applicant", opt={"access": Access.public})
    async def signin_applicant(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Any:
        form = _form_values(await request.form(), "id_number", "name", "password", "next")
        result = await services.sign_in_applicant(
            tenant,
            id_number=form["id_number"],
            name=form["name"],
            password=form["password"],
            client=client_address(request),
        )
        if isinstance(result, services.SignInFailure):
            return await self._failed(request, tenant, result, form, "applicant")
        return await self._signed_in(request, tenant, result, form["next"])

    @post("/signin/staff", name="accounts:signin-staff", opt={"access": Access.public})
    async def signin_staff(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Any:
        form = _form_values(await request.form(), "username", "password", "next")
        result = await services.sign_in_staff(
            tenant, username=form["username"], password=form["password"], client=client_address(request)
        )
        if isinstance(result, services.SignInFailure):
            return await self._failed(request, tenant, result, form, "staff")
        return await self._signed_in(request, tenant, result, form["next"])

    @post("/signout", name="accounts:signout", opt={"access": Access.signed_in})
    async def signout(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Redirect:
        principal = require_principal(request)
        await end_session(principal.session_id)
        await record(tenant, Actor(principal.actor_label), "signout", principal.actor_label)
        set_session(request, None)
        return _see_other(f"/t/{tenant.slug}/")

    @get("/oidc/start", name="accounts:oidc-start", opt={"access": Access.public})
    async def oidc_start(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Any:
        provider = _oidc_provider(tenant)
        if provider is None:
            raise NotFoundException("本地区未配置统一身份认证")
        principal = await ensure_session(request, tenant)
        redirect_uri = str(request.url_for("accounts:oidc-callback", slug=tenant.slug))
        try:
            url, pending = await oidc.begin(provider, redirect_uri)
        except oidc.OidcError as error:
            await record(
                tenant, Actor("anonymous"), "signin.failure", "oidc", {"cause": error.detail or str(error)}
            )
            return await self._page(request, tenant, errors={"form": str(error)}, status_code=502)
        await save_session_data(principal, {**principal.data, "oidc": pending.to_dict()})
        return Redirect(url, status_code=HTTP_303_SEE_OTHER)

    @get("/oidc/callback", name="accounts:oidc-callback", opt={"access": Access.public})
    async def oidc_callback(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Any:
        provider = _oidc_provider(tenant)
        principal = principal_of(request)
        pending = (
            principal.data.get("oidc") if principal and principal.tenant_id == tenant.id else None
        ) or None
        if provider is None or pending is None:
            return await self._page(
                request, tenant, errors={"form": "统一身份认证登录已失效，请重新登录"}, status_code=400
            )
        assert principal is not None
        await save_session_data(principal, {k: v for k, v in principal.data.items() if k != "oidc"})
        try:
            identity = await oidc.complete(
                provider, oidc.PendingSignIn.from_dict(pending), dict(request.query_params)
            )
        except oidc.OidcError as error:
            await record(
                tenant, Actor("anonymous"), "signin.failure", "oidc", {"cause": error.detail or str(error)}
            )
            return await self._page(request, tenant, errors={"form": str(error)}, status_code=400)
        account_id = await services.account_for_identity(tenant, identity)
        if account_id is None:
            await record(tenant, Actor("anonymous"), "signin.failure", "oidc", {"cause": "no_account"})
            return await self._page(
                request,
                tenant,
                errors={"form": "统一身份认证的身份在本平台没有对应账号，请联系单位管理员"},
                status_code=403,
            )
        await record(
            tenant, Actor(f"account:{account_id}"), "signin.success", f"account:{account_id}", {"via": "oidc"}
        )
        return await self._signed_in(request, tenant, account_id, "")


class AccountController(Controller):
    path = "/t/{slug:str}"
    dependencies = TENANT_DEPENDENCIES

    @get("/password", name="accounts:password", opt={"access": Access.signed_in})
    async def password_page(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> Response[str]:
        return render(request, "accounts/password.html", {"tenant": tenant, "errors": {}, "done": False})

    @post("/password", name="accounts:password-change", opt={"access": Access.signed_in})
    async def change_password(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Any:
        principal = require_principal(request)
        form = _form_values(await request.form(), "current", "new", "repeat")
        try:
            await services.change_password(tenant, principal, form["current"], form["new"], form["repeat"])
        except services.AccountError as error:
            return render(
                request,
                "accounts/password.html",
                {"tenant": tenant, "errors": {error.field or "form": error.message}, "done": False},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return _see_other(f"/t/{tenant.slug}/me?changed=1")

    @get("/me", name="accounts:me", opt={"access": Access.signed_in})
    async def me(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        principal = require_principal(request)
        account = await services.account_in_tenant(tenant, principal.account_id)
        assert account is not None
        return render(
            request,
            "accounts/me.html",
            {
                "tenant": tenant,
                "account": account,
                "id_number": services.shown_id_number(tenant, account, principal),
                "changed": request.query_params.get("changed") == "1",
            },
        )


class AccountAdminController(Controller):
    """Org admins manage accounts of their org and its direct children (seed 001 五); tenant admins all."""

    path = "/t/{slug:str}/admin/accounts"
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
        managed = await services.manageable_org_ids(tenant, principal)
        codes = await Org.select(Org.code).where(Org.id.is_in(list(managed) or [-1])).output(as_list=True)
        orgs = (await org_tree(tenant)).outline(codes)
        query = request.query_params.get("q", "")[:64]
        raw_page = request.query_params.get("page", "1")
        listing = await services.managed_accounts_page(
            tenant, managed, query, int(raw_page) if raw_page.isdigit() else 1
        )
        await services.mark_manageable(tenant, principal, listing.accounts)
        for account in listing.accounts:
            account["shown_id_number"] = services.shown_id_number(tenant, account, principal)
        # Nobody grants the tenant admin role here (services.ensure_role_grantable): the command line does.
        roles = [role for role in Role if role is not Role.tenant_admin]
        return render(
            request,
            "accounts/admin_accounts.html",
            {
                "tenant": tenant,
                "orgs": orgs,
                "listing": listing,
                "query": query,
                "roles": roles,
                "errors": errors or {},
                "form": form or {},
                "notice": notice,
                "csrf_token": principal.csrf_token,
            },
            partial="account_list",
            status_code=status_code,
        )

    @get("/", name="accounts:admin", opt={"access": Access.org_admin})
    async def index(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        return await self._page(request, tenant)

    async def _run(
        self, request: Request[Any, Any, Any], tenant: Tenant, form: dict[str, str], action: Any
    ) -> Response[str]:
        try:
            notice = await action()
        except services.AccountError as error:
            forbidden = isinstance(error, services.AccountForbidden)
            return await self._page(
                request,
                tenant,
                errors={error.field or "form": error.message},
                form=form,
                status_code=HTTP_403_FORBIDDEN if forbidden else HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return await self._page(request, tenant, notice=notice)

    @post("/staff", name="accounts:admin-create-staff", opt={"access": Access.org_admin})
    async def create_staff(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> Response[str]:
        principal = require_principal(request)
        form = _form_values(await request.form(), "name", "username", "org", "role")

        async def action() -> str:
            org_id, role = await services.parse_grant(tenant, form["org"], form["role"])
            await services.ensure_role_grantable(tenant, principal, org_id, role)
            _, password = await services.create_staff(
                tenant,
                services.actor_of(principal),
                name=form["name"],
                username=form["username"],
                grants=[(org_id, role)],
            )
            return (
                f"已创建账号 {form['username']}，一次性密码：{password}"
                "（首次登录须修改，请当面或经安全渠道告知本人）"
            )

        return await self._run(request, tenant, form, action)

    @post("/applicants", name="accounts:admin-create-applicant", opt={"access": Access.org_admin})
    async def create_applicant(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> Response[str]:
        principal = require_principal(request)
        form = _form_values(await request.form(), "name", "id_number", "org")

        async def action() -> str:
            org_id, _ = await services.parse_grant(tenant, form["org"], Role.clerk.value)
            if org_id not in await services.manageable_org_ids(tenant, principal):
                raise services.AccountForbidden("只能为本单位及直属下级单位的人员开户", "org")
            await services.create_applicant(
                tenant,
                services.actor_of(principal),
                name=form["name"],
                id_number=form["id_number"],
                org_id=org_id,
            )
            return f"已为 {form['name']} 开通账号，初始密码为身份证号后8位，首次登录须修改"

        return await self._run(request, tenant, form, action)

    @post("/{account_id:int}/reset", name="accounts:admin-reset", opt={"access": Access.org_admin})
    async def reset(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], account_id: FromPath[int]
    ) -> Response[str]:
        principal = require_principal(request)

        async def action() -> str:
            one_time = await services.reset_password(tenant, principal, account_id)
            if one_time:
                return f"密码已重置，一次性密码：{one_time}（下次登录须修改）"
            return "密码已重置为初始密码（身份证号后8位），下次登录须修改"

        return await self._run(request, tenant, {}, action)

    @post("/{account_id:int}/disable", name="accounts:admin-disable", opt={"access": Access.org_admin})
    async def disable(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], account_id: FromPath[int]
    ) -> Response[str]:
        principal = require_principal(request)

        async def action() -> str:
            ended = await services.set_disabled(tenant, principal, account_id, True)
            return f"账号已停用，已结束 {ended} 个登录会话"

        return await self._run(request, tenant, {}, action)

    @post("/{account_id:int}/enable", name="accounts:admin-enable", opt={"access": Access.org_admin})
    async def enable(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], account_id: FromPath[int]
    ) -> Response[str]:
        principal = require_principal(request)

        async def action() -> str:
            await services.set_disabled(tenant, principal, account_id, False)
            return "账号已启用"

        return await self._run(request, tenant, {}, action)

    @post("/{account_id:int}/grants", name="accounts:admin-grant", opt={"access": Access.org_admin})
    async def grant(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], account_id: FromPath[int]
    ) -> Response[str]:
        principal = require_principal(request)
        form = _form_values(await request.form(), "org", "role", "revoke")

        async def action() -> str:
            org_id, role = await services.parse_grant(tenant, form["org"], form["role"])
            if form["revoke"]:
                await services.revoke_role(tenant, principal, account_id, org_id, role)
                return f"已撤销角色：{role.label}"
            await services.grant_role(tenant, principal, account_id, org_id, role)
            return f"已授予角色：{role.label}"

        return await self._run(request, tenant, form, action)


class UnitAdminController(Controller):
    """First unit administrator of an employer: a signed-in person applies with the stamped form (PDF), the
    employer's parent org decides (seed 003 三(二))."""

    path = "/t/{slug:str}"
    dependencies = TENANT_DEPENDENCIES

    async def _apply_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        *,
        errors: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        done: bool = False,
        status_code: int = 200,
    ) -> Response[str]:
        principal = require_principal(request)
        employers = (
            await Org.select(Org.code, Org.name)
            .where(Org.tenant == tenant.id, Org.kind.is_in(["employer", "university", "archive_agency"]))
            .order_by(Org.position)
        )
        return render(
            request,
            "accounts/unit_admin_apply.html",
            {
                "tenant": tenant,
                "employers": employers,
                "errors": errors or {},
                "form": form or {},
                "done": done,
                "csrf_token": principal.csrf_token,
            },
            status_code=status_code,
        )

    @get("/unit-admin/apply", name="accounts:unit-admin-apply", opt={"access": Access.signed_in})
    async def apply_page(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> Response[str]:
        return await self._apply_page(request, tenant)

    @post(
        "/unit-admin/apply",
        name="accounts:unit-admin-submit",
        opt={"access": Access.signed_in},
        request_max_body_size=UPLOAD_LIMIT,
    )
    async def apply(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        principal = require_principal(request)
        form = await request.form()
        values = _form_values(form, "org")
        upload = form.get("form")
        content = await upload.read() if isinstance(upload, UploadFile) else b""
        try:
            await services.apply_for_unit_admin(tenant, principal, values["org"], content)
        except services.AccountError as error:
            return await self._apply_page(
                request,
                tenant,
                errors={error.field or "form": error.message},
                form=values,
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return await self._apply_page(request, tenant, done=True)

    async def _review_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        *,
        errors: dict[str, str] | None = None,
        notice: str = "",
        status_code: int = 200,
    ) -> Response[str]:
        principal = require_principal(request)
        applications = await services.pending_unit_admin_applications(tenant, principal)
        return render(
            request,
            "accounts/unit_admin_review.html",
            {
                "tenant": tenant,
                "applications": applications,
                "errors": errors or {},
                "notice": notice,
                "csrf_token": principal.csrf_token,
            },
            status_code=status_code,
        )

    @get("/admin/unit-admin", name="accounts:unit-admin-review", opt={"access": Access.org_admin})
    async def review_page(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> Response[str]:
        return await self._review_page(request, tenant)

    @get(
        "/admin/unit-admin/{application_id:int}/form",
        name="accounts:unit-admin-form",
        opt={"access": Access.org_admin},
    )
    async def form_pdf(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], application_id: FromPath[int]
    ) -> Response[bytes]:
        principal = require_principal(request)
        application = next(
            (
                row
                for row in await services.pending_unit_admin_applications(tenant, principal)
                if row["id"] == application_id
            ),
            None,
        )
        if application is None:
            raise NotFoundException("申请不存在或无权查看")
        return uploaded_file(
            read_bytes(application["form_sha256"]),
            "application/pdf",
            f"unit-admin-{application_id}",
            f"单位管理员申请表-{application_id}",
        )

    @post(
        "/admin/unit-admin/{application_id:int}/decide",
        name="accounts:unit-admin-decide",
        opt={"access": Access.org_admin},
    )
    async def decide(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], application_id: FromPath[int]
    ) -> Response[str]:
        principal = require_principal(request)
        form = _form_values(await request.form(), "decision", "reason")
        try:
            await services.decide_unit_admin(
                tenant,
                principal,
                application_id,
                approve=form["decision"] == "approve",
                reason=form["reason"],
            )
        except services.AccountError as error:
            return await self._review_page(
                request,
                tenant,
                errors={error.field or "form": error.message},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return await self._review_page(request, tenant, notice="已处理")
