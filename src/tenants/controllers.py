"""HTTP surface of the tenants package: the tenant pages, the rules admin page and the JSON API."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_422_UNPROCESSABLE_ENTITY

from accounts.web import Access, may_open
from core.web import render
from tenants import services
from tenants.authority import Assignment, OrgTree, Refusal, RuleBook
from tenants.calendar import today_in_china
from tenants.procedures import window_note
from tenants.tables import Tenant
from tenants.vocabulary import CertificateScope, Level, OrgKind, Procedure, Route


async def provide_tenant(slug: FromPath[str]) -> Tenant:
    tenant = await services.get_tenant(slug)
    if tenant is None:
        raise NotFoundException(f"没有名为 “{slug}” 的地区")
    return tenant


TENANT_DEPENDENCIES = {"tenant": Provide(provide_tenant)}

# The home page's links by group, as (label, route name); each is shown only to whom its route admits.
HOME_PAGES = {
    "work": (
        ("我的申请", "cases:mine"),
        ("我的电子证书", "certificates:mine"),
        ("待办审核", "cases:queue"),
        ("数据导出", "cases:exports"),
    ),
    "admin": (
        ("账号管理", "accounts:admin"),
        ("单位管理员申请审核", "accounts:unit-admin-review"),
        ("证书管理与作废", "certificates:admin"),
        ("办理机构规则与规则测试", "tenants:rules"),
        ("办事事项配置", "tenants:procedures"),
        ("印章采集", "seals:index"),
        ("证书模板", "seals:template"),
        ("法定节假日与集中办理日", "tenants:calendar"),
        ("门户网站嵌入代码", "tenants:embed"),
    ),
}


class TenantPagesController(Controller):
    dependencies = TENANT_DEPENDENCIES

    @get("/", name="tenants:index", opt={"access": Access.public})
    async def index(self, request: Request[Any, Any, Any]) -> Response[str]:
        return render(request, "tenants/index.html", {"tenants": await services.list_tenants()})

    @get("/t/{slug:str}/", name="tenants:home", opt={"access": Access.public})
    async def home(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        """What this visitor may use: the procedures (closed ones with their date, not offered), the public
        pages, and the work and administration pages their roles open."""
        today = today_in_china()
        procedures = []
        for value in tenant.procedures:
            definition = await services.procedure_definition(tenant, Procedure(value))
            closed, note = window_note(definition, today) if definition else (False, "")
            title = definition.title if definition else Procedure(value).label
            procedures.append({"procedure": value, "title": title, "closed": closed, "note": note})
        groups = {
            group: [
                {"label": label, "url": request.app.route_reverse(name, slug=tenant.slug)}
                for label, name in pages
                if may_open(request, name)
            ]
            for group, pages in HOME_PAGES.items()
        }
        return render(
            request, "tenants/home.html", {"tenant": tenant, "procedures": procedures, "pages": groups}
        )

    @get("/t/{slug:str}/theme.css", name="tenants:theme", opt={"access": Access.public})
    async def theme(self, tenant: NamedDependency[Tenant]) -> Response[str]:
        """The tenant's colour as CSS: the pages' CSP allows no inline styles."""
        return Response(
            f":root {{ --theme: {tenant.theme_color}; }}\n",
            media_type="text/css",
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )

    @get("/t/{slug:str}/admin/rules", name="tenants:rules", opt={"access": Access.tenant_admin})
    async def rules(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        """The decision tables, with a rule tester: submitting the form answers with the office, the
        matched row highlighted and the path walked up the tree (htmx swaps just that panel)."""
        book = await services.rule_book(tenant)
        form = {name: value for name, value in request.query_params.items() if value}
        context: dict[str, Any] = {
            "tenant": tenant,
            "book": book,
            "form": form,
            "errors": {},
            "outcome": None,
            **_form_choices(book.tree),
        }
        status = 200
        if form:
            try:
                context["outcome"] = book.resolve(services.parse_case_facts(form, book.tree))
            except services.QueryError as error:
                context["errors"] = {error.parameter: error.message}
                status = HTTP_422_UNPROCESSABLE_ENTITY
        return render(request, "tenants/rules.html", context, partial="tester_panel", status_code=status)


def _form_choices(tree: OrgTree) -> dict[str, Any]:
    by_kind: dict[OrgKind, list[Any]] = {}
    for node in tree.nodes.values():
        by_kind.setdefault(node.kind, []).append(node)
    return {
        "procedures": list(Procedure),
        "routes": list(Route),
        "levels": list(Level),
        "certificates": list(CertificateScope),
        "orgs_by_kind": [(kind, by_kind[kind]) for kind in OrgKind if kind in by_kind],
        "committees": by_kind.get(OrgKind.committee, []),
    }


class TenantApiController(Controller):
    path = "/api/v1/tenants/{slug:str}"
    dependencies = TENANT_DEPENDENCIES

    @get("/orgs", name="api:orgs", opt={"access": Access.public})
    async def orgs(self, tenant: NamedDependency[Tenant]) -> list[dict[str, Any]]:
        tree = await services.org_tree(tenant)
        return [
            {"code": node.code, "name": node.name, "kind": node.kind.value, "parent": node.parent}
            for node in tree.nodes.values()
        ]

    @get("/authority", name="api:authority", opt={"access": Access.public})
    async def authority(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> Response[dict[str, Any]]:
        book: RuleBook = await services.rule_book(tenant)
        params = dict(request.query_params.items())
        if len(params) != len(list(request.query_params.multi_items())):
            repeated = next(k for k in params if len(request.query_params.getall(k)) > 1)
            return Response({"parameter": repeated, "error": "参数重复"}, status_code=HTTP_400_BAD_REQUEST)
        try:
            facts = services.parse_case_facts(params, book.tree)
        except services.QueryError as error:
            return Response(
                {"parameter": error.parameter, "error": error.message}, status_code=HTTP_400_BAD_REQUEST
            )
        outcome = book.resolve(facts)
        if isinstance(outcome, Refusal):
            return Response(
                {"refused": outcome.message, "rule": outcome.rule.id if outcome.rule else None},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return Response(_assignment_json(outcome))


def _assignment_json(assignment: Assignment) -> dict[str, Any]:
    return {
        "office": {"code": assignment.office.code, "name": assignment.office.name},
        "rule": assignment.rule.id,
        "citation": assignment.rule.citation,
        "path": [node.code for node in assignment.path],
    }
