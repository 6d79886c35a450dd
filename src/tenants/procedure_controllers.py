"""The tenant administrator's procedure definitions (issue 4 item 1, "editable later by administrators"): a
page listing each procedure as the services read it, and an editor for its stored YAML text. Thin: checking
and storing are ``tenants.services.save_procedure_source``; this module only turns a definition into
readable lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from accounts.roles import Role
from accounts.services import actor_of
from accounts.web import Access, require_principal
from core.web import render
from tenants import services
from tenants.authority import OrgTree
from tenants.controllers import TENANT_DEPENDENCIES
from tenants.preset_reader import PresetError
from tenants.procedures import (
    AttachmentSpec,
    Check,
    Completion,
    Eligibility,
    Filer,
    ProcedureDefinition,
    StepAt,
    StepSpec,
)
from tenants.tables import Tenant
from tenants.vocabulary import Procedure

CHECK_LABELS = {
    Check.highest_first: "按本人其他案件检查：各系列先填报最高层级",
    Check.only_highest: "按本人其他案件检查：就高换发，已申请或取得更高级别的不再受理",
}
COMPLETION_LABELS = {
    Completion.certificate: "最后一步用印，生成电子证书",
    Completion.collected: "最后一步审核通过即办结，记录标记为已采集，供导出报送",
}
FORMAT_LABELS = {"pdf": "PDF", "jpeg": "JPG", "png": "PNG"}
PHOTO_LABELS = {"two_inch": "二寸照片", "one_inch": "一寸照片"}


def _filer_text(filer: Filer) -> str:
    if filer.applicant:
        return "申请人本人"
    kinds = "、".join(kind.label for kind in filer.org_kinds)
    return f"{kinds}的{filer.role.label if filer.role else ''}"


def _step_text(step: StepSpec, definition: ProcedureDefinition, tree: OrgTree) -> str:
    if step.at is StepAt.chain:
        roles = "，".join(f"{kind.label}由{role.label}" for kind, role in step.roles_by_kind.items())
        where = f"从所在单位起沿机构树逐级向上，每级审核一次（{roles}）"
    else:
        role = step.role.label if step.role else ""
        if step.at is StepAt.authority:
            org = "按办理机构规则确定的机构"
        elif step.at is StepAt.employer:
            org = "所在单位"
        elif step.at is StepAt.nearest:
            org = f"向上最近的{step.kind.label if step.kind else ''}"
        elif step.at is StepAt.root:
            roots = [node.name for node in tree.nodes.values() if node.parent is None]
            org = roots[0] if roots else "最上级机构"
        else:
            spec = definition.field(step.field or "")
            org = f"表单“{spec.label if spec else step.field}”所选的机构"
        where = f"{org}的{role}"
    extras = []
    if step.optional:
        extras.append("没有该机构时跳过")
    if step.edit:
        extras.append("可修改表单")
    if step.recheck_to is not None:
        extras.append(f"可申请{step.recheck_to.label}复查")
    if step.batch_day is not None:
        extras.append(f"每月{step.batch_day}日集中办理，遇节假日顺延")
    return f"{step.label}：{where}" + (f"（{'；'.join(extras)}）" if extras else "")


def _value_label(definition: ProcedureDefinition, name: str, value: str) -> str:
    if value in ("true", "false"):
        return "是" if value == "true" else "否"
    spec = definition.field(name)
    if spec is not None:
        for choice, label in spec.choices:
            if choice == value:
                return label
    return value


def _conditions_text(definition: ProcedureDefinition, when: dict[str, frozenset[str]]) -> str:
    parts = []
    for name, values in when.items():
        spec = definition.field(name)
        labels = "或".join(sorted(_value_label(definition, name, value) for value in values))
        parts.append(f"{spec.label if spec else name}为{labels}")
    return "且".join(parts)


def _attachment_text(spec: AttachmentSpec, definition: ProcedureDefinition) -> str:
    if spec.required_when is not None:
        need = f"当{_conditions_text(definition, spec.required_when)}时必传"
    else:
        need = "必传" if spec.required else "选传"
    formats = "/".join(FORMAT_LABELS.get(item, item) for item in spec.formats)
    size = f"{spec.max_kb // 1024} MB" if spec.max_kb % 1024 == 0 else f"{spec.max_kb} KB"
    photo = f"，{PHOTO_LABELS.get(spec.photo, spec.photo)}" if spec.photo else ""
    return f"{spec.label}：{formats}，不超过 {size}{photo}，{need}"


def _eligibility_text(rule: Eligibility, definition: ProcedureDefinition) -> str:
    if rule.when is not None:
        return f"当{_conditions_text(definition, rule.when)}时不予受理"
    return CHECK_LABELS.get(rule.check, str(rule.check)) if rule.check else ""


@dataclass(frozen=True)
class ProcedureSummary:
    procedure: Procedure
    definition: ProcedureDefinition | None
    error: str  # the stored text no longer reads (it was checked when saved; shown rather than hidden)
    updated_at: Any
    updated_by: str
    filers: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()
    eligibility: tuple[tuple[str, str, str, str], ...] = ()  # (id, cite, condition, refusal)
    completion: str = ""
    parts: tuple[tuple[str, str], ...] = ()  # (part title, field labels)


def summarize(
    procedure: Procedure, definition: ProcedureDefinition | None, row: dict[str, Any] | None, tree: OrgTree
) -> ProcedureSummary:
    updated_at = row["updated_at"] if row else None
    updated_by = row["updated_by"] if row else ""
    if definition is None:
        return ProcedureSummary(procedure, None, "", updated_at, updated_by)
    return ProcedureSummary(
        procedure=procedure,
        definition=definition,
        error="",
        updated_at=updated_at,
        updated_by=updated_by,
        filers=tuple(_filer_text(filer) for filer in definition.filers),
        steps=tuple(_step_text(step, definition, tree) for step in definition.steps),
        attachments=tuple(_attachment_text(spec, definition) for spec in definition.attachments),
        eligibility=tuple(
            (rule.id, rule.cite, _eligibility_text(rule, definition), rule.refuse)
            for rule in definition.eligibility
        ),
        completion=COMPLETION_LABELS[definition.completion],
        parts=tuple((part.title, "、".join(spec.label for spec in part.fields)) for part in definition.parts),
    )


def _offered(tenant: Tenant, value: str) -> Procedure:
    try:
        procedure = Procedure(value)
    except ValueError:
        raise NotFoundException("没有该事项") from None
    if procedure.value not in tenant.procedures:
        raise NotFoundException("本地区未开通该事项")
    return procedure


class ProcedureAdminController(Controller):
    path = "/t/{slug:str}/admin/procedures"
    dependencies = TENANT_DEPENDENCIES

    @get("/", name="tenants:procedures", opt={"access": Access.tenant_admin})
    async def index(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        tree = await services.org_tree(tenant)
        summaries = []
        for value in tenant.procedures:
            procedure = Procedure(value)
            row = await services.procedure_source(tenant, procedure)
            try:
                definition = await services.procedure_definition(tenant, procedure)
            except PresetError as error:
                summaries.append(
                    ProcedureSummary(
                        procedure,
                        None,
                        str(error),
                        row["updated_at"] if row else None,
                        row["updated_by"] if row else "",
                    )
                )
                continue
            summaries.append(summarize(procedure, definition, row, tree))
        return render(request, "tenants/procedures.html", {"tenant": tenant, "summaries": summaries})

    async def _editor(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        procedure: Procedure,
        *,
        text: str | None = None,
        error: str = "",
        notice: str = "",
        status_code: int = 200,
    ) -> Response[str]:
        row = await services.procedure_source(tenant, procedure)
        return render(
            request,
            "tenants/procedure_edit.html",
            {
                "tenant": tenant,
                "procedure": procedure,
                "row": row,
                "text": text if text is not None else (row["source"] if row else ""),
                "error": error,
                "notice": notice,
                "csrf_token": require_principal(request).csrf_token,
            },
            partial="editor_panel",
            status_code=status_code,
        )

    @get("/{procedure:str}", name="tenants:procedure", opt={"access": Access.tenant_admin})
    async def edit(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], procedure: FromPath[str]
    ) -> Response[str]:
        return await self._editor(request, tenant, _offered(tenant, procedure))

    @post(
        "/{procedure:str}",
        name="tenants:procedure-save",
        status_code=200,
        opt={"access": Access.tenant_admin},
    )
    async def save(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], procedure: FromPath[str]
    ) -> Response[str]:
        principal = require_principal(request)
        chosen = _offered(tenant, procedure)
        submitted = await request.form()
        raw = submitted.get("source")
        # Browsers send a textarea's lines with CRLF; the stored text keeps the preset files' LF.
        text = (raw if isinstance(raw, str) else "").replace("\r\n", "\n")
        org = next((grant.org_code for grant in principal.grants if grant.role is Role.tenant_admin), None)
        try:
            await services.save_procedure_source(
                tenant, actor_of(principal, Role.tenant_admin, org), chosen, text
            )
        except PresetError as error:
            return await self._editor(
                request,
                tenant,
                chosen,
                text=text,
                error=str(error),
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return await self._editor(
            request,
            tenant,
            chosen,
            notice="已保存。此后的填报、审核和导出都按新的定义办理；已提交案件的办理步骤不变。",
        )
