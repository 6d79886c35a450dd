"""HTTP surface of filing a case: the applicant's and the employer's pages — 我的申请, starting a case, the
form in steps, the attachments with their upload progress, the case page with its history, and submitting.

Thin handlers over ``cases.services``: the services decide who may do what; a refusal (``CaseError``) comes
back as a Chinese page or fragment (403 for no right, 404 for nothing there, 422 for what can be corrected).
Every form works without JavaScript; with htmx a form swaps only its own block (``core.web.render``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, ClassVar
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import FromPath
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from accounts.identity import mask_id_number
from accounts.roles import AccountKind, Role
from accounts.sessions import Principal
from accounts.web import Access, require_principal
from cases import services
from cases.forms import EARLIEST_DATE, NAME_MAX, display_value
from cases.services import CaseError, CaseRecord, Conflict, FormInvalid
from cases.workflow import APPLICANT_MILESTONES, EDITABLE_STATES, Action, State
from core.uploads import PHOTO_RULES
from core.web import is_htmx, render, uploaded_file
from tenants import calendar
from tenants.authority import OrgTree
from tenants.controllers import TENANT_DEPENDENCIES
from tenants.procedures import (
    ID_NUMBER_FIELD,
    AttachmentSpec,
    FieldSpec,
    FieldType,
    ProcedureDefinition,
    as_text,
    window_note,
)
from tenants.services import org_tree, procedure_definition
from tenants.tables import Tenant
from tenants.vocabulary import Procedure

# The largest slot a procedure may declare (tenants.procedures: max_kb ≤ 20480) plus room for the multipart
# envelope and the other form fields. Each slot's own limit (2 MB for the seeds' PDFs, 1 MB for Ningxia's
# cover photos, 512 KB for a two-inch photo) is checked by the services and answered with 422 next to the
# slot; a body past this ceiling is cut off by Litestar (413) before it is read.
UPLOAD_BODY_LIMIT = 20 * 1024 * 1024 + 256 * 1024
FORMAT_NAMES = {"pdf": "PDF", "jpeg": "JPG", "png": "PNG"}
ACCEPT = {"pdf": ".pdf,application/pdf", "jpeg": ".jpg,.jpeg,image/jpeg", "png": ".png,image/png"}
MEDIA_NAMES = {"application/pdf": "PDF", "image/jpeg": "JPG", "image/png": "PNG"}
SELECT_TYPES = frozenset(
    {FieldType.choice, FieldType.level, FieldType.route, FieldType.scope, FieldType.series, FieldType.org}
)
FLAG_TEXT = {"true": "是", "false": "否"}


class PageRefusal(Exception):
    """A refusal shown as the cases error page (with the tenant's header), not the bare error page."""

    def __init__(self, tenant: Tenant, status: int, message: str, case_id: int | None = None) -> None:
        self.tenant, self.status, self.message, self.case_id = tenant, status, message, case_id
        super().__init__(message)


def refusal_page(request: Request[Any, Any, Any], exc: PageRefusal) -> Response[str]:
    return render(
        request,
        "cases/error.html",
        {"tenant": exc.tenant, "status": exc.status, "message": exc.message, "case_id": exc.case_id},
        status_code=exc.status,
    )


def too_large_page(request: Request[Any, Any, Any], exc: RequestEntityTooLarge) -> Response[str]:
    """A body past UPLOAD_BODY_LIMIT: the handler never ran, so there is no tenant row to hand; the page
    names the ceiling and leads back to the attachments page."""
    slug = str(request.path_params.get("slug", ""))
    case_id = request.path_params.get("case_id")
    back = (
        f"/t/{quote(slug)}/cases/{case_id}/attachments" if case_id is not None else f"/t/{quote(slug)}/cases"
    )
    return render(
        request,
        "cases/too_large.html",
        {"limit": _size_text(UPLOAD_BODY_LIMIT - 256 * 1024), "back": back},
        status_code=exc.status_code,
    )


# --- small helpers ------------------------------------------------------------------------------------------


def _size_text(size: int) -> str:
    """2097152 → 2MB, 524288 → 512KB, 1536000 → 1.5MB, 900 → 900字节."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f}".removesuffix(".0") + "MB"
    if size >= 1024:
        return f"{size / 1024:.1f}".removesuffix(".0") + "KB"
    return f"{size}字节"


def _china_time(at: datetime | None) -> str:
    if at is None:
        return ""
    # SQLite hands timestamps back naive (stored in UTC); PostgreSQL hands them back aware.
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(calendar.CHINA).strftime("%Y-%m-%d %H:%M")


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _version(form: Mapping[str, Any]) -> int:
    raw = _text(form, "version").strip()
    return int(raw) if raw.isdigit() else -1


def _form_text(values: Mapping[str, Any]) -> dict[str, str]:
    """Stored values as the inputs show them (dates ISO, flags "true"/"false")."""
    return {name: as_text(value) for name, value in values.items()}


def _value_label(spec: FieldSpec | None, value: str, tree: OrgTree) -> str:
    if spec is None:
        return value
    if spec.type is FieldType.flag:
        return FLAG_TEXT.get(value, value)
    return display_value(spec, value, tree) or value


def _condition(definition: ProcedureDefinition, when: Mapping[str, frozenset[str]], tree: OrgTree) -> str:
    """How a condition reads: {certificate_status: {遗失}, certificate_no_known: {false}} →
    “职称证书”为“遗失”、“记得原证书编号”为“否”."""
    parts = []
    for name, allowed in when.items():
        spec = definition.field(name)
        label = spec.label if spec else name
        values = "或".join(f"“{_value_label(spec, value, tree)}”" for value in sorted(allowed))
        parts.append(f"“{label}”为{values}")
    return "、".join(parts)


def _filers_text(definition: ProcedureDefinition) -> str:
    who = []
    for filer in definition.filers:
        if filer.applicant:
            who.append("申请人本人")
        elif filer.role is not None:
            kinds = "、".join(kind.label for kind in filer.org_kinds)
            who.append(f"{kinds}的{filer.role.label}")
    return "或".join(who)


def _steps_total(definition: ProcedureDefinition) -> int:
    return len(definition.parts) + (1 if definition.attachments else 0)


def _safe_stem(name: str, slot: str) -> str:
    """The uploader's file name without its extension (the download's follows the checked content) and
    without what would break the Content-Disposition header."""
    stem = re.sub(r"[\x00-\x1f\x7f\"\\/]", "", name).strip()
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return stem or slot


def _redirect(request: Request[Any, Any, Any], url: str) -> Response[str]:
    """After a successful POST: 303 for a plain form; htmx follows redirects inside its XHR, so it is told to
    load the page itself."""
    if is_htmx(request):
        return Response("", status_code=200, headers={"HX-Redirect": url})
    return Response("", status_code=HTTP_303_SEE_OTHER, headers={"Location": url})


async def _load(tenant: Tenant, case_id: int) -> CaseRecord:
    try:
        return await services.load_case(tenant, case_id)
    except CaseError as error:
        raise PageRefusal(tenant, HTTP_404_NOT_FOUND, error.message) from None


async def _viewable(tenant: Tenant, principal: Principal, case_id: int) -> CaseRecord:
    case = await _load(tenant, case_id)
    if not await services.may_view(tenant, case, principal):
        raise PageRefusal(
            tenant, HTTP_403_FORBIDDEN, "您无权查看该申请：只有填报人、持证人和经办机构可以查看"
        )
    return case


async def _editable(tenant: Tenant, principal: Principal, case_id: int) -> CaseRecord:
    case = await _viewable(tenant, principal, case_id)
    if not services.may_edit(case, principal)[0]:
        raise PageRefusal(
            tenant,
            HTTP_403_FORBIDDEN,
            f"该申请当前为“{case.state.label}”，不能修改。已退回或尚未提交的申请才能修改。",
            case.id,
        )
    return case


def _where_is(definition: ProcedureDefinition, name: str) -> int | None:
    """The form part holding field ``name``; None for an attachment slot or anything else."""
    for index, part in enumerate(definition.parts):
        if any(spec.name == name for spec in part.fields):
            return index
    return None


# --- view models --------------------------------------------------------------------------------


def _field_view(
    definition: ProcedureDefinition,
    spec: FieldSpec,
    tree: OrgTree,
    known: Mapping[str, Any],
    locked: frozenset[str],
    today: date,
) -> dict[str, Any]:
    if spec.required_when is not None:
        marker = f"（{_condition(definition, spec.required_when, tree)}时必填）"
    else:
        marker = "" if spec.required else "（选填）"
    derive_note = ""
    if spec.derive_when is not None:
        derive_note = f"{_condition(definition, spec.derive_when, tree)}时，由系统自动生成，无需填写"
        if spec.name in known and all(as_text(known.get(k)) in v for k, v in spec.derive_when.items()):
            derive_note += f"（已生成：{known[spec.name]}）"
    if spec.name in locked:
        widget = "locked"
    elif spec.type is FieldType.org:
        widget = "org"
    elif spec.type is FieldType.flag:
        widget = "radio"
    elif spec.type in SELECT_TYPES:
        widget = "select"
    elif spec.type is FieldType.date:
        widget = "date"
    else:
        widget = "text"
    attrs: dict[str, str] = {}
    if spec.type is FieldType.id_number:
        # An ID number may end with X: a text input, not numeric; nothing remembered by the browser.
        attrs = {
            "maxlength": "18",
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
        }
    elif spec.type is FieldType.name:
        attrs = {"maxlength": str(NAME_MAX), "autocomplete": "off"}
    elif spec.type is FieldType.text:
        # A little room over max_length: the services trim spaces and normalise brackets before counting.
        attrs = {"maxlength": str(spec.max_length + 8), "autocomplete": "off"}
    elif spec.type is FieldType.date:
        attrs = {"min": EARLIEST_DATE.isoformat()}
        if spec.not_after_today:
            attrs["max"] = today.isoformat()
    outline = (
        tree.outline(
            (node.code for node in tree.nodes.values() if node.kind in spec.org_kinds), with_parents=True
        )
        if spec.type is FieldType.org
        else []
    )
    return {
        "name": spec.name,
        "label": spec.label,
        "widget": widget,
        "marker": marker,
        "help": spec.help,
        "derive_note": derive_note,
        "attrs": attrs,
        "choices": list(spec.choices),
        "outline": outline,
        "locked_text": "来自您的账号信息，不能在此修改" if spec.name in locked else "",
    }


def _slot_view(
    tenant: Tenant,
    case: CaseRecord,
    spec: AttachmentSpec,
    values: Mapping[str, Any],
    present: Mapping[str, dict[str, Any]],
    *,
    editable: bool,
    error: str = "",
    notice: str = "",
) -> dict[str, Any]:
    upload = services.upload_spec(case.definition, spec.slot)
    formats = upload.accepted_formats
    limit = _size_text(upload.size_limit)
    photo = PHOTO_RULES.get(spec.photo) if spec.photo else None
    photo_text = ""
    if photo is not None:
        photo_text = (
            f"{photo.name}：{photo.width_mm}mm×{photo.height_mm}mm（宽:高≈{photo.ratio}），"
            f"至少 {photo.min_width}×{photo.min_height} 像素{'，彩色' if photo.colour else ''}"
            f"{'，纯色背景' if photo.plain_background else ''}"
        )
    required = spec.is_required(dict(values))
    if required:
        marker = "必传"
    elif spec.required_when is not None:
        marker = f"可选（{_condition(case.definition, spec.required_when, case.tree)}时必传）"
    else:
        marker = "可选"
    row = present.get(spec.slot)
    current = None
    if row is not None:
        current = {
            "filename": row["filename"],
            "size": _size_text(row["size"]),
            "kind": MEDIA_NAMES.get(row["media_type"], row["media_type"]),
            "pages": row["pages"],
            "width": row["width"],
            "height": row["height"],
            "at": _china_time(row["uploaded_at"]),
            "url": f"/t/{tenant.slug}/cases/{case.id}/files/{spec.slot}",
        }
    return {
        "slot": spec.slot,
        "label": spec.label,
        "help": spec.help,
        "rule": f"{'、'.join(FORMAT_NAMES[kind] for kind in formats)}，不超过{limit}",
        "photo": photo_text,
        "required": required,
        "marker": marker,
        "accept": ",".join(ACCEPT[kind] for kind in formats),
        "max_bytes": upload.size_limit,
        "limit": limit,
        "current": current,
        "error": error,
        "notice": notice,
        "editable": editable,
        "action": f"/t/{tenant.slug}/cases/{case.id}/attachments/{spec.slot}",
    }


def _state_view(case: CaseRecord) -> dict[str, Any]:
    state = case.state
    view: dict[str, Any] = {"value": state.value, "label": state.label, "detail": "", "reason": ""}
    if state is State.returned:
        view["reason"] = case.row["return_reason"] or ""
        view["detail"] = "请按退回理由修改后重新提交"
    elif state is State.refused:
        view["reason"] = case.row["decision_reason"] or ""
    elif state is State.draft:
        view["detail"] = "尚未提交"
    step = case.current_step
    if step is not None:
        org = case.tree[step.org].name if step.org in case.tree else step.org
        view["detail"] = f"当前由{org}办理：{step.label}"
    return view


# --- the controller -----------------------------------------------------------------------------


class FilingController(Controller):
    path = "/t/{slug:str}/cases"
    dependencies = TENANT_DEPENDENCIES
    exception_handlers: ClassVar[dict[Any, Any]] = {PageRefusal: refusal_page}

    # 我的申请 --------------------------------------------------------------------------------

    @get("/", name="cases:mine", opt={"access": Access.signed_in})
    async def mine(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        principal = require_principal(request)
        return await self._mine(request, tenant, principal, partial="case_list")

    async def _mine(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        principal: Principal,
        *,
        message: str = "",
        status_code: int = 200,
        partial: str | None = None,
    ) -> Response[str]:
        definitions: dict[str, ProcedureDefinition] = {}
        for value in tenant.procedures:
            definition = await procedure_definition(tenant, Procedure(value))
            if definition is not None:
                definitions[value] = definition
        today = calendar.today_in_china()
        offers = []
        for value, definition in definitions.items():
            if services.can_file(definition, principal):
                closed, note = window_note(definition, today)
                offers.append({"procedure": value, "title": definition.title, "closed": closed, "note": note})
        params = request.query_params
        filters = services.MyCasesFilter(
            q=params.get("q", "").strip()[:NAME_MAX],
            procedure=Procedure(params["procedure"]) if params.get("procedure") in definitions else None,
            state=State(params["state"]) if params.get("state") in State.__members__ else None,
        )
        rows = []
        for row in await services.my_cases(tenant, principal, filters):
            state = State(row["state"])
            definition = definitions.get(row["procedure"])
            rows.append(
                {
                    "id": row["id"],
                    "title": definition.title if definition else Procedure(row["procedure"]).label,
                    "holder_name": row["holder_name"],
                    "id_tail": row["holder_id_tail"],
                    "state": state.value,
                    "state_label": state.label,
                    "return_reason": row["return_reason"] if state is State.returned else "",
                    "decision_reason": row["decision_reason"] if state is State.refused else "",
                    "certificate": bool(row["certificate"]),
                    "editable": state in EDITABLE_STATES,
                    "updated": _china_time(row["updated_at"]),
                }
            )
        return render(
            request,
            "cases/my_cases.html",
            {
                "tenant": tenant,
                "offers": offers,
                "cases": rows,
                "message": message,
                "filters": filters,
                "filtered": bool(filters.q or filters.procedure or filters.state),
                "procedures": [(value, definition.title) for value, definition in definitions.items()],
                "states": list(State),
            },
            status_code=status_code,
            partial=partial,
        )

    # Starting a case ----------------------------------------------------------------------------------------

    async def _start_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        principal: Principal,
        procedure_value: str,
        *,
        errors: dict[str, str] | None = None,
        chosen_org: str = "",
        status_code: int = 200,
    ) -> Response[str]:
        try:
            procedure = Procedure(procedure_value)
        except ValueError:
            procedure = None
        definition = (
            await procedure_definition(tenant, procedure)
            if procedure is not None and procedure.value in tenant.procedures
            else None
        )
        if definition is None:
            return await self._mine(
                request,
                tenant,
                principal,
                message="本地区未开通该事项，请从下列事项中选择",
                status_code=HTTP_404_NOT_FOUND if not errors else HTTP_422_UNPROCESSABLE_ENTITY,
            )
        allowed = services.can_file(definition, principal)
        errors = dict(errors or {})
        if not allowed:
            errors = {"form": f"“{definition.title}”由{_filers_text(definition)}填报，您的账号不能发起该事项"}
            status_code = HTTP_403_FORBIDDEN
        closed, window = window_note(definition, calendar.today_in_china())
        tree = await org_tree(tenant)
        orgs = [(code, tree[code].name) for code in allowed if code is not None and code in tree]
        return render(
            request,
            "cases/new.html",
            {
                "tenant": tenant,
                "definition": definition,
                "procedure": definition.procedure.value,
                "allowed": bool(allowed),
                "as_applicant": None in allowed,
                "orgs": orgs,
                "chosen_org": chosen_org,
                "closed": closed,
                "window": window,
                "filers": _filers_text(definition),
                "steps_total": _steps_total(definition),
                "errors": errors,
                "csrf_token": principal.csrf_token,
            },
            status_code=status_code,
        )

    @get("/new", name="cases:new", opt={"access": Access.signed_in})
    async def new(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        principal = require_principal(request)
        return await self._start_page(request, tenant, principal, request.query_params.get("procedure", ""))

    @post("/", name="cases:start", opt={"access": Access.signed_in}, status_code=200)
    async def start(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        principal = require_principal(request)
        form = await request.form()
        procedure_value = _text(form, "procedure")
        filer_org = _text(form, "filer_org").strip() or None
        try:
            procedure = Procedure(procedure_value)
        except ValueError:
            return await self._start_page(
                request,
                tenant,
                principal,
                procedure_value,
                errors={"form": "请选择要办理的事项"},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        definition = await procedure_definition(tenant, procedure)
        allowed = services.can_file(definition, principal) if definition is not None else []
        if filer_org is None and None not in allowed and len(allowed) > 1:
            return await self._start_page(
                request,
                tenant,
                principal,
                procedure_value,
                errors={"filer_org": "请选择以哪个单位的名义填报"},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        try:
            case_id = await services.start_case(tenant, principal, procedure, filer_org)
        except CaseError as error:
            return await self._start_page(
                request,
                tenant,
                principal,
                procedure_value,
                errors={error.field or "form": error.message},
                chosen_org=filer_org or "",
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return _redirect(request, f"/t/{tenant.slug}/cases/{case_id}/parts/0")

    # The form, one part at a time ----------------------------------------------------------------------

    async def _part_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        case: CaseRecord,
        part: int,
        *,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        message: str = "",
        version: int | None = None,
        status_code: int = 200,
        partial: str | None = None,
    ) -> Response[str]:
        principal = require_principal(request)
        definition = case.definition
        known = services.form_values(tenant, case)
        shown = _form_text(known)
        locked = services.locked_fields(case)
        if form is not None:
            # Locked inputs are not posted (no name): they keep the account's values, not an empty echo.
            shown.update({name: value for name, value in form.items() if name not in locked})
        today = calendar.today_in_china()
        fields = [
            _field_view(definition, spec, case.tree, known, locked, today)
            for spec in definition.parts[part].fields
        ]
        base = f"/t/{tenant.slug}/cases/{case.id}"
        return render(
            request,
            "cases/part.html",
            {
                "tenant": tenant,
                "case_id": case.id,
                "title": definition.title,
                "part": part,
                "part_title": definition.parts[part].title,
                "step": part + 1,
                "steps_total": _steps_total(definition),
                "step_titles": [item.title for item in definition.parts]
                + (["上传附件"] if definition.attachments else []),
                "fields": fields,
                "form": shown,
                "errors": errors or {},
                "message": message,
                "version": case.row["version"] if version is None else version,
                "action": f"{base}/parts/{part}",
                "back": f"{base}/parts/{part - 1}" if part > 0 else base,
                "back_label": "上一步" if part > 0 else "返回申请",
                "last": part + 1 == len(definition.parts),
                "has_attachments": bool(definition.attachments),
                "csrf_token": principal.csrf_token,
            },
            partial=partial,
            status_code=status_code,
        )

    @get("/{case_id:int}/parts/{part:int}", name="cases:part", opt={"access": Access.signed_in})
    async def part(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        case_id: FromPath[int],
        part: FromPath[int],
    ) -> Response[str]:
        principal = require_principal(request)
        case = await _editable(tenant, principal, case_id)
        if not 0 <= part < len(case.definition.parts):
            raise PageRefusal(tenant, HTTP_404_NOT_FOUND, "表单步骤不存在", case.id)
        return await self._part_page(request, tenant, case, part)

    @post(
        "/{case_id:int}/parts/{part:int}",
        name="cases:part-save",
        opt={"access": Access.signed_in},
        status_code=200,
    )
    async def save(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        case_id: FromPath[int],
        part: FromPath[int],
    ) -> Response[str]:
        principal = require_principal(request)
        case = await _editable(tenant, principal, case_id)
        if not 0 <= part < len(case.definition.parts):
            raise PageRefusal(tenant, HTTP_404_NOT_FOUND, "表单步骤不存在", case.id)
        form = await request.form()
        names = [spec.name for spec in case.definition.parts[part].fields]
        raw = {name: _text(form, name) for name in names}
        version = _version(form)
        try:
            cleaned = await services.save_part(tenant, principal, case.id, part, raw, version)
        except Conflict as error:
            return await self._part_page(
                request,
                tenant,
                case,
                part,
                form=raw,
                message=f"{error.message}请复制好您填写的内容，刷新页面后再保存。",
                version=version,
                status_code=HTTP_409_CONFLICT,
                partial="part_form",
            )
        except CaseError as error:
            raise PageRefusal(tenant, HTTP_403_FORBIDDEN, error.message, case.id) from None
        if cleaned.errors or cleaned.refusal:
            # The valid values were stored (and the version moved on); every input comes back as typed. An
            # eligibility refusal is told here, where its value was entered, and again at submit.
            errors = dict(cleaned.errors)
            if cleaned.refusal_field:
                errors[cleaned.refusal_field] = cleaned.refusal
            fresh = await _load(tenant, case.id)
            return await self._part_page(
                request,
                tenant,
                fresh,
                part,
                form=raw,
                errors=errors,
                message=cleaned.refusal or "请按提示修改后再保存",
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                partial="part_form",
            )
        base = f"/t/{tenant.slug}/cases/{case.id}"
        if part + 1 < len(case.definition.parts):
            return _redirect(request, f"{base}/parts/{part + 1}")
        return _redirect(request, f"{base}/attachments" if case.definition.attachments else base)

    # Attachments ------------------------------------------------------------------------------------------

    async def _attachments_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        case: CaseRecord,
        *,
        slot: str | None = None,
        error: str = "",
        notice: str = "",
        status_code: int = 200,
    ) -> Response[str]:
        principal = require_principal(request)
        values = services.form_values(tenant, case)
        present = await services.attachments_of(tenant, case.id)
        editable = services.may_edit(case, principal)[0]
        slots = [
            _slot_view(
                tenant,
                case,
                spec,
                values,
                present,
                editable=editable,
                error=error if spec.slot == slot else "",
                notice=notice if spec.slot == slot else "",
            )
            for spec in case.definition.attachments
        ]
        base = f"/t/{tenant.slug}/cases/{case.id}"
        context = {
            "tenant": tenant,
            "case_id": case.id,
            "title": case.definition.title,
            "slots": slots,
            "item": next((item for item in slots if item["slot"] == slot), None),
            "step": _steps_total(case.definition),
            "steps_total": _steps_total(case.definition),
            "back": f"{base}/parts/{len(case.definition.parts) - 1}",
            "case_url": base,
            "editable": editable,
            "csrf_token": principal.csrf_token,
        }
        return render(
            request,
            "cases/attachments.html",
            context,
            partial="slot" if slot is not None else None,
            status_code=status_code,
        )

    @get("/{case_id:int}/attachments", name="cases:attachments", opt={"access": Access.signed_in})
    async def attachments(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], case_id: FromPath[int]
    ) -> Response[str]:
        principal = require_principal(request)
        case = await _viewable(tenant, principal, case_id)
        return await self._attachments_page(request, tenant, case)

    @post(
        "/{case_id:int}/attachments/{slot:str}",
        name="cases:upload",
        opt={"access": Access.signed_in},
        status_code=200,
        request_max_body_size=UPLOAD_BODY_LIMIT,
        exception_handlers={RequestEntityTooLarge: too_large_page},
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        case_id: FromPath[int],
        slot: FromPath[str],
    ) -> Response[str]:
        principal = require_principal(request)
        case = await _editable(tenant, principal, case_id)
        if case.definition.attachment(slot) is None:
            raise PageRefusal(tenant, HTTP_404_NOT_FOUND, "附件栏目不存在", case.id)
        upload = (await request.form()).get("file")
        content = await upload.read() if isinstance(upload, UploadFile) else b""
        filename = upload.filename if isinstance(upload, UploadFile) else ""
        try:
            if not content:
                raise CaseError("请选择要上传的文件" if not filename else "文件为空", slot)
            await services.upload_attachment(tenant, principal, case.id, slot, filename, content)
        except CaseError as error:
            return await self._attachments_page(
                request,
                tenant,
                case,
                slot=slot,
                error=error.message,
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        if is_htmx(request):
            return await self._attachments_page(request, tenant, case, slot=slot, notice="上传成功")
        return Response(
            "",
            status_code=HTTP_303_SEE_OTHER,
            headers={"Location": f"/t/{tenant.slug}/cases/{case.id}/attachments#slot-{slot}"},
        )

    @get(
        "/{case_id:int}/files/{slot:str}/preview", name="cases:file-preview", opt={"access": Access.signed_in}
    )
    async def file_preview(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        case_id: FromPath[int],
        slot: FromPath[str],
    ) -> Response[bytes]:
        """The attachment as a PNG to look at beside the case's data, for the same people as the file."""
        principal = require_principal(request)
        case = await _viewable(tenant, principal, case_id)
        try:
            png = await services.attachment_preview(tenant, principal, case.id, slot)
        except CaseError as error:
            raise PageRefusal(tenant, HTTP_404_NOT_FOUND, error.message, case.id) from None
        return Response(
            png,
            media_type="image/png",
            headers={
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
            },
        )

    @get("/{case_id:int}/files/{slot:str}", name="cases:file", opt={"access": Access.signed_in})
    async def file(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        case_id: FromPath[int],
        slot: FromPath[str],
    ) -> Response[bytes]:
        principal = require_principal(request)
        case = await _viewable(tenant, principal, case_id)
        try:
            row, content = await services.attachment_content(tenant, principal, case.id, slot)
        except CaseError as error:
            raise PageRefusal(tenant, HTTP_404_NOT_FOUND, error.message, case.id) from None
        return uploaded_file(content, row["media_type"], slot, _safe_stem(row["filename"], slot))

    # The case page and submitting --------------------------------------------------------------------------

    async def _case_page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        case: CaseRecord,
        *,
        problems: list[dict[str, str]] | None = None,
        message: str = "",
        status_code: int = 200,
        partial: str | None = None,
    ) -> Response[str]:
        principal = require_principal(request)
        definition = case.definition
        values = services.form_values(tenant, case)
        holder = await services.is_holder(tenant, case, principal)
        full_id = holder or services.checks_identity(case, principal)
        parts = []
        for index, part in enumerate(definition.parts):
            rows = []
            for spec in part.fields:
                value = values.get(spec.name)
                shown = display_value(spec, value, case.tree)
                if spec.name == ID_NUMBER_FIELD and shown and not full_id:
                    shown = mask_id_number(shown)
                rows.append({"label": spec.label, "value": shown})
            parts.append({"index": index, "title": part.title, "rows": rows})
        present = await services.attachments_of(tenant, case.id)
        editable, _, _ = services.may_edit(case, principal)
        withdrawal = await services.withdrawal_of(tenant, case, principal)
        slots = [
            _slot_view(tenant, case, spec, values, present, editable=False) for spec in definition.attachments
        ]
        labels = {spec.name: spec.label for spec in definition.fields}
        labels.update({spec.slot: spec.label for spec in definition.attachments})
        events = []
        for row in await services.case_events(tenant, case.id):
            action = Action(row["action"])
            if principal.kind is AccountKind.applicant and action not in APPLICANT_MILESTONES:
                continue
            changed = [labels.get(key, key) for key in row["diff"] if key in labels] if row["diff"] else []
            events.append(
                {
                    "at": _china_time(row["at"]),
                    "action": action.label,
                    "actor": row["actor_name"],
                    "role": Role(row["role"]).label if row["role"] else "",
                    "org": row["org_name"] or "",
                    "reason": row["reason"] or "",
                    "changed": "、".join(changed) if action in (Action.save, Action.upload) else "",
                    "to_state": State(row["to_state"]).label if row["to_state"] != row["from_state"] else "",
                }
            )
        base = f"/t/{tenant.slug}/cases/{case.id}"
        return render(
            request,
            "cases/case.html",
            {
                "tenant": tenant,
                "case_id": case.id,
                "title": definition.title,
                "cite": definition.cite,
                "holder_name": case.row["holder_name"],
                "state": _state_view(case),
                "certificate": bool(case.row["certificate"]),
                "holder": holder,
                "submitted": _china_time(case.row["submitted_at"]),
                "parts": parts,
                "slots": slots,
                "events": list(reversed(events)),
                "editable": editable,
                "can_submit": editable and case.state in EDITABLE_STATES,
                "withdrawal": withdrawal.value if withdrawal else "",
                "version": case.row["version"],
                "problems": problems or [],
                "message": message,
                "base": base,
                "csrf_token": principal.csrf_token,
            },
            partial=partial,
            status_code=status_code,
        )

    @get("/{case_id:int}", name="cases:case", opt={"access": Access.signed_in})
    async def case(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], case_id: FromPath[int]
    ) -> Response[str]:
        principal = require_principal(request)
        return await self._case_page(request, tenant, await _viewable(tenant, principal, case_id))

    # Withdrawing: a confirmation page (works without JavaScript), then the command -----------------------

    @get("/{case_id:int}/withdraw", name="cases:withdraw-confirm", opt={"access": Access.signed_in})
    async def withdraw_confirm(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], case_id: FromPath[int]
    ) -> Response[str]:
        principal = require_principal(request)
        case = await _viewable(tenant, principal, case_id)
        withdrawal = await services.withdrawal_of(tenant, case, principal)
        if withdrawal is None:
            raise PageRefusal(
                tenant, HTTP_403_FORBIDDEN, "该申请不能撤回：只有填报人能撤回草稿或尚无人办理的申请", case.id
            )
        return render(
            request,
            "cases/withdraw.html",
            {
                "tenant": tenant,
                "case_id": case.id,
                "title": case.definition.title,
                "holder_name": case.row["holder_name"],
                "withdrawal": withdrawal.value,
                "version": case.row["version"],
                "base": f"/t/{tenant.slug}/cases/{case.id}",
                "csrf_token": principal.csrf_token,
            },
        )

    @post("/{case_id:int}/withdraw", name="cases:withdraw", opt={"access": Access.signed_in}, status_code=200)
    async def withdraw(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], case_id: FromPath[int]
    ) -> Response[str]:
        principal = require_principal(request)
        case = await _viewable(tenant, principal, case_id)
        try:
            withdrawal = await services.withdraw_case(
                tenant, principal, case.id, _version(await request.form())
            )
        except Conflict as error:
            raise PageRefusal(tenant, HTTP_409_CONFLICT, error.message, case.id) from None
        except CaseError as error:
            raise PageRefusal(tenant, HTTP_403_FORBIDDEN, error.message, case.id) from None
        if withdrawal is services.Withdrawal.delete:
            return _redirect(request, f"/t/{tenant.slug}/cases")
        return _redirect(request, f"/t/{tenant.slug}/cases/{case.id}")

    @post("/{case_id:int}/submit", name="cases:submit", opt={"access": Access.signed_in}, status_code=200)
    async def submit(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], case_id: FromPath[int]
    ) -> Response[str]:
        principal = require_principal(request)
        case = await _viewable(tenant, principal, case_id)
        form = await request.form()
        base = f"/t/{tenant.slug}/cases/{case.id}"
        try:
            await services.submit_case(tenant, principal, case.id, _version(form))
        except FormInvalid as invalid:
            problems = []
            for name, text in invalid.errors.items():
                index = _where_is(case.definition, name)
                if index is not None:
                    where = f"第{index + 1}步 {case.definition.parts[index].title}"
                    link = f"{base}/parts/{index}#f-{name}"
                elif case.definition.attachment(name) is not None:
                    where, link = "上传附件", f"{base}/attachments#slot-{name}"
                else:
                    where, link = "", base
                problems.append({"message": text, "where": where, "link": link})
            return await self._case_page(
                request,
                tenant,
                case,
                problems=problems,
                message="还不能提交：请补充以下内容",
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                partial="submit_panel",
            )
        except Conflict as error:
            return await self._case_page(
                request,
                tenant,
                await _load(tenant, case.id),
                message=f"{error.message}请刷新页面后再提交。",
                status_code=HTTP_409_CONFLICT,
                partial="submit_panel",
            )
        except CaseError as error:
            problems = []
            if error.field:
                index = _where_is(case.definition, error.field)
                if index is not None:
                    spec = case.definition.field(error.field)
                    problems.append(
                        {
                            "message": f"如“{spec.label if spec else error.field}”填写有误，请修改后再提交",
                            "where": f"第{index + 1}步 {case.definition.parts[index].title}",
                            "link": f"{base}/parts/{index}#f-{error.field}",
                        }
                    )
            status = (
                HTTP_422_UNPROCESSABLE_ENTITY if services.may_edit(case, principal)[0] else HTTP_403_FORBIDDEN
            )
            return await self._case_page(
                request,
                tenant,
                case,
                problems=problems,
                message=error.message,
                status_code=status,
                partial="submit_panel",
            )
        return _redirect(request, base)
