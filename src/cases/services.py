"""Cases as plain service functions (no HTTP): starting, filling in, uploading, submitting and acting on a
case, and reading the review queue. Every function takes the tenant explicitly and scopes every query by it.

Concurrency: each change to a case names the ``version`` its actor saw; the row is updated only where that
version still holds (``UPDATE … WHERE version = ?``), so of two people acting at once exactly one wins and the
other gets ``Conflict``, with nothing written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from accounts.identity import mask_id_number
from accounts.roles import AccountKind, Role
from accounts.secrets import decrypt, encrypt, lookup_hash
from accounts.services import account_in_tenant, id_context, id_number_of, separation_violation
from accounts.sessions import Principal
from audit.services import Actor, record
from cases.forms import Cleaned, clean_fields, display_value, missing_fields, refusal
from cases.queue import holder_matches
from cases.tables import Attachment, Case, CaseEvent
from cases.workflow import (
    EDITABLE_STATES,
    WAITING_STATES,
    Action,
    PlanError,
    PlannedStep,
    State,
    plan_steps,
    with_recheck,
)
from certificates.services import Holder, IssueError, Title, issue_certificate
from core.db import write_transaction
from core.previews import PreviewError, preview_png
from core.storage import read_bytes, store_bytes
from core.uploads import CheckedUpload, UploadError, UploadSpec, check_upload, photo_as_jpeg
from tenants import calendar
from tenants.authority import Assignment, CaseFacts, OrgTree, Refusal, UnresolvableError
from tenants.procedures import (
    EMPLOYER_FIELD,
    HOLDER_NAME_FIELD,
    ID_NUMBER_FIELD,
    Check,
    Completion,
    Filer,
    ProcedureDefinition,
    window_error,
)
from tenants.services import org_ids, org_tree, procedure_definition, rule_book
from tenants.tables import Org, Tenant
from tenants.vocabulary import CertificateScope, Level, Procedure, Route

LEVEL_ORDER = {Level.junior: 0, Level.intermediate: 1, Level.associate_senior: 2, Level.senior: 3}
REASON_MAX = 500
FILENAME_MAX = 200
ACTIVE_STATES = (State.in_review.value, State.approved.value, State.completed.value)


class CaseError(ValueError):
    """Why something cannot be done, in Chinese; ``field`` names the form field it is about, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.message, self.field = message, field
        super().__init__(message)


class Conflict(CaseError):
    """Someone else changed the case since the actor loaded it."""


class FormInvalid(CaseError):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("请按提示修改后再保存")


CONFLICT_MESSAGE = "该案件刚刚已被他人处理或修改，您的操作未生效。请查看最新状态后再操作。"


def _now() -> datetime:
    return datetime.now(UTC)


# --- reading a case ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRecord:
    """A case row with what the services need to reason about it."""

    row: dict[str, Any]
    definition: ProcedureDefinition
    tree: OrgTree
    org_codes: dict[int, str]

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def state(self) -> State:
        return State(self.row["state"])

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.row["data"])

    @property
    def plan(self) -> list[PlannedStep]:
        return [PlannedStep.from_json(step) for step in self.row["plan"]]

    @property
    def current_step(self) -> PlannedStep | None:
        plan = self.plan
        if self.state in WAITING_STATES and self.row["step"] < len(plan):
            return plan[self.row["step"]]
        return None

    def code(self, org_id: int | None) -> str | None:
        return None if org_id is None else self.org_codes.get(org_id)


async def load_case(tenant: Tenant, case_id: int) -> CaseRecord:
    row = (
        await Case.select().where(Case.tenant == tenant.id, Case.id == case_id).output(load_json=True).first()
    )
    if row is None:
        raise CaseError("案件不存在")
    definition = await procedure_definition(tenant, Procedure(row["procedure"]))
    if definition is None:
        raise CaseError("该事项未配置")
    ids = await org_ids(tenant)
    return CaseRecord(row, definition, await org_tree(tenant), {org_id: code for code, org_id in ids.items()})


def holder_id_number(tenant: Tenant, row: Mapping[str, Any]) -> str | None:
    if not row.get("holder_id_cipher"):
        return None
    return decrypt(row["holder_id_cipher"], context=id_context(tenant))


def can_file(definition: ProcedureDefinition, principal: Principal) -> list[str | None]:
    """The orgs (codes) ``principal`` may file this procedure for; ``None`` stands for filing as the
    applicant themself. Empty when they may not file it at all."""
    allowed: list[str | None] = []
    for filer in definition.filers:
        if filer.applicant and principal.kind is AccountKind.applicant:
            allowed.append(None)
        elif filer.role is not None and principal.kind is AccountKind.staff:
            allowed += sorted(principal.orgs_with(filer.role))
    return allowed


def _filer_for(definition: ProcedureDefinition, tree: OrgTree, org_code: str | None) -> Filer | None:
    for filer in definition.filers:
        if org_code is None and filer.applicant:
            return filer
        if org_code is not None and org_code in tree and tree[org_code].kind in filer.org_kinds:
            return filer
    return None


def _is_filer(case: CaseRecord, principal: Principal) -> bool:
    """The account that filed it, or — for a case filed by staff — anyone holding the filing role at the
    filing org (a colleague can carry on an employer's case)."""
    if principal.account_id == case.row["filed_by"]:
        return True
    filer_org = case.code(case.row["filer_org"])
    if filer_org is None or principal.kind is not AccountKind.staff:
        return False
    filer = _filer_for(case.definition, case.tree, filer_org)
    return filer is not None and filer.role is not None and filer_org in principal.orgs_with(filer.role)


def _acts_now(case: CaseRecord, principal: Principal) -> bool:
    step = case.current_step
    return step is not None and step.org in principal.orgs_with(step.role)


# --- starting and filling in ------------------------------------------------------------------------------


async def start_case(
    tenant: Tenant, principal: Principal, procedure: Procedure, filer_org: str | None = None
) -> int:
    definition = await procedure_definition(tenant, procedure)
    if definition is None or procedure.value not in tenant.procedures:
        raise CaseError("本地区未开通该事项")
    allowed = can_file(definition, principal)
    if filer_org is None and None not in allowed and len(allowed) == 1:
        filer_org = allowed[0]
    if filer_org not in allowed:
        raise CaseError("您无权以该单位身份填报此事项", "filer_org")
    window = window_error(definition, calendar.today_in_china())
    if window:
        raise CaseError(window)
    tree = await org_tree(tenant)
    ids = await org_ids(tenant)
    values: dict[str, Any] = {}
    holder_name, id_cipher, id_hash, id_tail = "", None, None, ""
    employer = None
    if filer_org is None:
        account = await account_in_tenant(tenant, principal.account_id or 0)
        if account is None:
            raise CaseError("账号不存在")
        id_number = id_number_of(tenant, account) or ""
        holder_name = account["name"]
        values = {HOLDER_NAME_FIELD: holder_name, ID_NUMBER_FIELD: id_number}
        id_cipher = encrypt(id_number, context=id_context(tenant))
        id_hash = lookup_hash(id_number, context=id_context(tenant))
        id_tail = id_number[-4:]
        if account["org"] is not None and definition.field(EMPLOYER_FIELD) is not None:
            code = next((c for c, i in ids.items() if i == account["org"]), None)
            spec = definition.field(EMPLOYER_FIELD)
            if code is not None and spec is not None and tree[code].kind in spec.org_kinds:
                values[EMPLOYER_FIELD] = code
                employer = account["org"]
    elif definition.field(EMPLOYER_FIELD) is None:
        employer = ids[filer_org]
    now = _now()
    case = Case(
        tenant=tenant.id,
        procedure=procedure.value,
        state=State.draft.value,
        filed_by=principal.account_id,
        filer_org=ids[filer_org] if filer_org else None,
        employer=employer,
        holder_name=holder_name,
        holder_id_cipher=id_cipher,
        holder_id_hash=id_hash,
        holder_id_tail=id_tail,
        data={k: v for k, v in values.items() if k != ID_NUMBER_FIELD},
        created_at=now,
        updated_at=now,
    )
    await case.save()
    await _event(tenant, case.id, principal, None, None, Action.create, State.draft, State.draft, 0, None, {})
    return int(case.id)


def locked_fields(case: CaseRecord) -> frozenset[str]:
    """An applicant files for themself: their name and ID number come from their account."""
    if case.row["filer_org"] is None:
        return frozenset({HOLDER_NAME_FIELD, ID_NUMBER_FIELD})
    return frozenset()


def form_values(tenant: Tenant, case: CaseRecord) -> dict[str, Any]:
    """The case's stored values, with the ID number decrypted (it is kept out of ``data``)."""
    values = case.values
    id_number = holder_id_number(tenant, case.row)
    if id_number:
        values[ID_NUMBER_FIELD] = id_number
    return values


def may_edit(case: CaseRecord, principal: Principal) -> tuple[bool, Role | None, str | None]:
    """Whether ``principal`` may change the form now, and in which role/org (for the audit trail)."""
    if case.state in EDITABLE_STATES and _is_filer(case, principal):
        filer = _filer_for(case.definition, case.tree, case.code(case.row["filer_org"]))
        return True, filer.role if filer else None, case.code(case.row["filer_org"])
    step = case.current_step
    if step is not None and step.edit and _acts_now(case, principal) and case.state is State.in_review:
        return True, step.role, step.org
    return False, None, None


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    diff = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            if key == ID_NUMBER_FIELD:  # the audit log never holds a full ID number
                old = mask_id_number(old) if old else old
                new = mask_id_number(new) if new else new
            diff[key] = [old, new]
    return diff


async def save_part(
    tenant: Tenant, principal: Principal, case_id: int, part: int, raw: Mapping[str, str], version: int
) -> Cleaned:
    """Checks and stores one part of the form. Valid values are kept even when others in the part are
    wrong; the caller shows ``errors`` next to their fields with the raw input refilled."""
    case = await load_case(tenant, case_id)
    allowed, role, org = may_edit(case, principal)
    if not allowed:
        raise CaseError("该案件当前不能修改")
    if not 0 <= part < len(case.definition.parts):
        raise CaseError("表单步骤不存在")
    before = form_values(tenant, case)
    cleaned = clean_fields(
        case.definition.parts[part].fields,
        raw,
        before,
        tree=case.tree,
        today=calendar.today_in_china(),
        locked=locked_fields(case),
    )
    await _store_values(tenant, principal, case, before, cleaned.values, version, role, org)
    if cleaned.errors:
        return cleaned
    # Each eligibility rule is told at the step where its last input is entered, not only at submit.
    try:
        await screen(tenant, case, cleaned.values, entered=entered_by(case.definition, part))
    except CaseError as error:
        return replace(cleaned, refusal=error.message, refusal_field=error.field)
    return cleaned


async def _store_values(
    tenant: Tenant,
    principal: Principal,
    case: CaseRecord,
    before: dict[str, Any],
    values: dict[str, Any],
    version: int,
    role: Role | None,
    org: str | None,
) -> None:
    id_number = values.get(ID_NUMBER_FIELD)
    update: dict[Any, Any] = {
        Case.data: {k: v for k, v in values.items() if k != ID_NUMBER_FIELD},
        Case.holder_name: values.get(HOLDER_NAME_FIELD, ""),
        Case.level: values.get("level", ""),
        Case.series: values.get("series", ""),
        Case.updated_at: _now(),
    }
    if id_number != before.get(ID_NUMBER_FIELD):
        context = id_context(tenant)
        update[Case.holder_id_cipher] = encrypt(id_number, context=context) if id_number else None
        update[Case.holder_id_hash] = lookup_hash(id_number, context=context) if id_number else None
        update[Case.holder_id_tail] = id_number[-4:] if id_number else ""
    employer_code = values.get(EMPLOYER_FIELD)
    if case.definition.field(EMPLOYER_FIELD) is not None:
        ids = {code: org_id for org_id, code in case.org_codes.items()}
        update[Case.employer] = ids.get(employer_code) if employer_code else None
    diff = _diff(before, values)
    await _change(case, version, update)
    if diff:
        await _event(
            tenant,
            case.id,
            principal,
            role,
            org,
            Action.save,
            case.state,
            case.state,
            case.row["step"],
            None,
            diff,
        )


async def _change(case: CaseRecord, version: int, update: dict[Any, Any]) -> None:
    """Applies ``update`` only if the case is still at ``version``; bumps the version."""
    update = {**update, Case.version: version + 1}
    changed = await Case.update(update).where(Case.id == case.id, Case.version == version).returning(Case.id)
    if not changed:
        raise Conflict(CONFLICT_MESSAGE)


# --- attachments ------------------------------------------------------------------------------------------


def upload_spec(definition: ProcedureDefinition, slot: str) -> UploadSpec:
    spec = definition.attachment(slot)
    if spec is None:
        raise CaseError("附件栏目不存在")
    return UploadSpec(formats=spec.formats, max_bytes=spec.max_kb * 1024, photo=spec.photo)


async def upload_attachment(
    tenant: Tenant, principal: Principal, case_id: int, slot: str, filename: str, content: bytes
) -> CheckedUpload:
    """Checks a file by its content (core.uploads, in a sandboxed process) and keeps it for the slot,
    replacing an earlier one."""
    case = await load_case(tenant, case_id)
    allowed, role, org = may_edit(case, principal)
    if not allowed:
        raise CaseError("该案件当前不能修改")
    spec = upload_spec(case.definition, slot)
    try:
        checked = await check_upload(content, spec)
    except UploadError as error:
        raise CaseError(str(error), slot) from None
    digest = store_bytes(content)
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1][:FILENAME_MAX] or slot
    values = {
        Attachment.filename: name,
        Attachment.media_type: checked.media_type,
        Attachment.size: checked.size,
        Attachment.sha256: digest,
        Attachment.pages: checked.pages,
        Attachment.width: checked.width,
        Attachment.height: checked.height,
        Attachment.uploaded_by: principal.account_id,
        Attachment.uploaded_at: _now(),
    }
    existing = (
        await Attachment.select(Attachment.id, Attachment.sha256)
        .where(Attachment.case == case.id, Attachment.slot == slot)
        .first()
    )
    if existing is None:
        await Attachment(
            tenant=tenant.id,
            case=case.id,
            slot=slot,
            **{column._meta.name: v for column, v in values.items()},
        ).save()
    else:
        await Attachment.update(values).where(Attachment.id == existing["id"])
    await Case.update({Case.updated_at: _now()}).where(Case.id == case.id)
    await _event(
        tenant,
        case.id,
        principal,
        role,
        org,
        Action.upload,
        case.state,
        case.state,
        case.row["step"],
        None,
        {slot: [existing["sha256"] if existing else None, digest]},
    )
    return checked


async def attachments_of(tenant: Tenant, case_id: int) -> dict[str, dict[str, Any]]:
    rows = await Attachment.select().where(Attachment.tenant == tenant.id, Attachment.case == case_id)
    return {row["slot"]: row for row in rows}


async def attachment_content(
    tenant: Tenant, principal: Principal, case_id: int, slot: str
) -> tuple[dict[str, Any], bytes]:
    case = await load_case(tenant, case_id)
    if not await may_view(tenant, case, principal):
        raise CaseError("您无权查看该附件")
    row = (await attachments_of(tenant, case_id)).get(slot)
    if row is None:
        raise CaseError("附件不存在")
    return row, read_bytes(row["sha256"])


async def attachment_preview(tenant: Tenant, principal: Principal, case_id: int, slot: str) -> bytes:
    """A PNG of the attachment (a PDF's first page, a photo re-encoded), for whoever may see the attachment
    itself; rendered in the sandbox, cached by the file's hash (core.previews)."""
    row, content = await attachment_content(tenant, principal, case_id, slot)
    try:
        return await preview_png(row["sha256"], content, row["media_type"])
    except PreviewError as error:
        raise CaseError(str(error), slot) from None


async def is_holder(tenant: Tenant, case: CaseRecord, principal: Principal) -> bool:
    """Whether the signed-in applicant is the person the case is about (same keyed hash of the ID number)."""
    if principal.kind is not AccountKind.applicant or not case.row["holder_id_hash"]:
        return False
    account = await account_in_tenant(tenant, principal.account_id or 0)
    return account is not None and account["id_number_hash"] == case.row["holder_id_hash"]


def checks_identity(case: CaseRecord, principal: Principal) -> bool:
    """The filer and whoever acts on the case now must 核对 the holder's identity, so they see the full ID
    number; everyone else (other staff on the chain, administrators) sees it masked."""
    return _is_filer(case, principal) or _acts_now(case, principal)


async def may_view(tenant: Tenant, case: CaseRecord, principal: Principal) -> bool:
    """The filer, the holder, staff of any org on the case's chain, and the tenant's administrators."""
    if _is_filer(case, principal) or Role.tenant_admin in principal.roles:
        return True
    if principal.kind is AccountKind.applicant:
        return await is_holder(tenant, case, principal)
    chain = {step.org for step in case.plan}
    return any(grant.org_code in chain for grant in principal.grants)


# --- submitting -------------------------------------------------------------------------------------------


# The form fields the authority rules read (``case_facts``): a procedure's rules are evaluated once all of the
# fields its form has among these are entered.
FACT_FIELDS = ("route", "level", EMPLOYER_FIELD, "committee", "obtained_on", "certificate")
# The fields each check against the holder's other cases reads.
CHECK_INPUTS = {Check.highest_first: {"level", "series", "highest_level"}, Check.only_highest: {"level"}}


def entered_by(definition: ProcedureDefinition, part: int) -> frozenset[str]:
    """The fields of the form's parts up to and including ``part``."""
    return frozenset(spec.name for item in definition.parts[: part + 1] for spec in item.fields)


def _has_inputs(definition: ProcedureDefinition, inputs: Iterable[str], entered: frozenset[str]) -> bool:
    """Whether every one of ``inputs`` the form asks for has been entered (the rest are fixed facts)."""
    return all(name in entered for name in inputs if definition.field(name) is not None)


def case_facts(definition: ProcedureDefinition, values: Mapping[str, Any], employer: str) -> CaseFacts:
    """What the authority rules look at, from a case's form values."""
    obtained = values.get("obtained_on")
    return CaseFacts(
        procedure=definition.procedure,
        route=Route(values.get("route") or definition.facts["route"]),
        level=Level(values["level"]),
        employer=employer,
        committee=values.get("committee") or None,
        obtained=date.fromisoformat(obtained) if obtained else None,
        certificate=CertificateScope(
            values.get("certificate") or definition.facts.get("certificate") or CertificateScope.provincial
        ),
    )


async def _check_other_cases(
    tenant: Tenant, case: CaseRecord, values: Mapping[str, Any], entered: frozenset[str]
) -> tuple[str, str | None] | None:
    """Eligibility checks that look at the holder's other cases: (message, field) when refused."""
    for rule in case.definition.eligibility:
        if rule.check is None or not _has_inputs(case.definition, CHECK_INPUTS[rule.check], entered):
            continue
        level = Level(values["level"])
        others = await Case.select(Case.level, Case.series, Case.state).where(
            Case.tenant == tenant.id,
            Case.procedure == case.row["procedure"],
            Case.holder_id_hash == case.row["holder_id_hash"],
            Case.id != case.id,
            Case.state.is_in(list(ACTIVE_STATES)),
        )
        if rule.check is Check.highest_first:
            highest = values.get("highest_level")
            if not highest:
                return "请填写本系列已取得的最高级别", "highest_level"
            if LEVEL_ORDER[Level(highest)] < LEVEL_ORDER[level]:
                return "本系列已取得的最高级别不能低于本次填报级别", "highest_level"
            if highest != level.value and not any(
                other["series"] == values.get("series") and other["level"] == highest for other in others
            ):
                return f"{rule.refuse}（请先填报{Level(highest).label}）", "level"
        elif rule.check is Check.only_highest and any(
            LEVEL_ORDER[Level(other["level"])] > LEVEL_ORDER[level] for other in others if other["level"]
        ):
            return rule.refuse, "level"
    return None


async def screen(
    tenant: Tenant, case: CaseRecord, values: Mapping[str, Any], *, entered: frozenset[str] | None = None
) -> Assignment | None:
    """The one evaluator of a case's eligibility: the definition's ``when`` refusals, the checks against the
    holder's other cases, then the tenant's authority rules — each only once the fields it reads are
    ``entered`` (every field when None, at submit). Raises ``CaseError`` with the seed's message; returns
    the office the authority rules assign, or None while their inputs are still missing."""
    definition = case.definition
    entered = entered if entered is not None else frozenset(spec.name for spec in definition.fields)
    refused = refusal(definition, values, entered)
    if refused is not None and refused.when is not None:
        inputs = [spec.name for spec in definition.fields if spec.name in refused.when]
        raise CaseError(refused.refuse, inputs[-1] if inputs else None)
    other = await _check_other_cases(tenant, case, values, entered)
    if other is not None:
        raise CaseError(*other)
    employer = (
        values.get(EMPLOYER_FIELD) if definition.field(EMPLOYER_FIELD) else case.code(case.row["employer"])
    )
    if not _has_inputs(definition, FACT_FIELDS, entered) or not employer or not values.get("level"):
        return None
    book = await rule_book(tenant)
    try:
        answer = book.resolve(case_facts(case.definition, values, employer))
    except UnresolvableError as error:
        raise CaseError(f"无法确定办理机构：{error}") from None
    if isinstance(answer, Refusal):
        raise CaseError(answer.message)
    return answer


async def submit_case(tenant: Tenant, principal: Principal, case_id: int, version: int) -> PlannedStep:
    """Checks the whole case and sends it to the first step of its chain. Raises ``FormInvalid`` with every
    problem at once, or ``CaseError`` when the procedure refuses the case."""
    case = await load_case(tenant, case_id)
    if case.state not in EDITABLE_STATES or not _is_filer(case, principal):
        raise CaseError("该案件当前不能提交")
    window = window_error(case.definition, calendar.today_in_china())
    if window:
        raise CaseError(window)
    values = form_values(tenant, case)
    errors = missing_fields(case.definition, values)
    if errors:
        raise FormInvalid(errors)
    employer = case.code(case.row["employer"])
    if employer is None:
        raise FormInvalid({EMPLOYER_FIELD: "请选择工作单位"})
    # The same rules the form's steps already told, all of them now; a case the seeds refuse is told so
    # before being asked for files it could never use.
    answer = await screen(tenant, case, values)
    if answer is None:  # every field is entered: only a form without 级别 gets here
        raise CaseError("无法确定办理机构：请填写级别", "level")
    present = await attachments_of(tenant, case.id)
    for spec in case.definition.attachments:
        if spec.is_required(values) and spec.slot not in present:
            errors[spec.slot] = f"请上传{spec.label}"
    if errors:
        raise FormInvalid(errors)
    try:
        plan = plan_steps(
            case.definition,
            case.tree,
            employer=employer,
            authority=answer.office.code,
            filer_org=case.code(case.row["filer_org"]),
            values=values,
        )
    except PlanError as error:
        raise CaseError(str(error)) from None
    ids = {code: org_id for org_id, code in case.org_codes.items()}
    now = _now()
    filer = _filer_for(case.definition, case.tree, case.code(case.row["filer_org"]))
    await _change(
        case,
        version,
        {
            Case.state: State.in_review.value,
            Case.plan: [step.to_json() for step in plan],
            Case.step: 0,
            Case.authority: ids[answer.office.code],
            Case.current_org: ids[plan[0].org],
            Case.current_role: plan[0].role.value,
            Case.queued_at: now,
            Case.submitted_at: now,
            Case.updated_at: now,
        },
    )
    await _event(
        tenant,
        case.id,
        principal,
        filer.role if filer else None,
        case.code(case.row["filer_org"]),
        Action.submit,
        case.state,
        State.in_review,
        0,
        None,
        {"authority": answer.office.code, "rule": answer.rule.id},
    )
    return plan[0]


# --- withdrawing ------------------------------------------------------------------------------------------


class Withdrawal(StrEnum):
    delete = "delete"  # a draft nobody else has seen: removed
    recall = "recall"  # a submitted case nobody has acted on: back to a draft, out of the queue


async def withdrawal_of(tenant: Tenant, case: CaseRecord, principal: Principal) -> Withdrawal | None:
    """What withdrawing would do for ``principal`` now, or None when they cannot withdraw the case."""
    if not _is_filer(case, principal):
        return None
    if case.state is State.draft:
        return Withdrawal.delete
    if case.state is not State.in_review or case.row["step"] != 0:
        return None
    events = (
        await CaseEvent.select(CaseEvent.action)
        .where(CaseEvent.tenant == tenant.id, CaseEvent.case == case.id)
        .order_by(CaseEvent.id, ascending=False)
    )
    # Nobody has acted on it: nothing recorded since the submission (the version check covers the race).
    return Withdrawal.recall if events and events[0]["action"] == Action.submit.value else None


async def withdraw_case(tenant: Tenant, principal: Principal, case_id: int, version: int) -> Withdrawal:
    """Deletes a draft, or takes a submitted case nobody has acted on back to a draft; one transaction with
    its audit record."""
    case = await load_case(tenant, case_id)
    async with write_transaction(Case._meta.db):
        withdrawal = await withdrawal_of(tenant, case, principal)
        if withdrawal is None:
            raise CaseError(
                "该申请已有工作人员办理，不能撤回" if case.state is State.in_review else "该申请不能撤回"
            )
        filer = _filer_for(case.definition, case.tree, case.code(case.row["filer_org"]))
        role, org = (filer.role if filer else None), case.code(case.row["filer_org"])
        if withdrawal is Withdrawal.delete:
            deleted = (
                await Case.delete()
                .where(Case.tenant == tenant.id, Case.id == case.id, Case.version == version)
                .returning(Case.id)
            )
            if not deleted:
                raise Conflict(CONFLICT_MESSAGE)
            await record(
                tenant,
                Actor(principal.actor_label, role.value if role else None, org),
                "case.delete",
                f"case:{case.id}",
                {"procedure": case.row["procedure"], "holder_name": case.row["holder_name"]},
            )
            return withdrawal
        await _change(
            case,
            version,
            {
                Case.state: State.draft.value,
                Case.plan: [],
                Case.step: 0,
                Case.authority: None,
                Case.current_org: None,
                Case.current_role: None,
                Case.queued_at: None,
                Case.submitted_at: None,
                Case.updated_at: _now(),
            },
        )
        await _event(
            tenant, case.id, principal, role, org, Action.withdraw, case.state, State.draft, 0, None, {}
        )
        return withdrawal


# --- acting on a case -------------------------------------------------------------------------------------


async def _acted(case_id: int) -> dict[Role, set[int]]:
    """Who has acted on the case in which role, over its whole life (separation of duties): a reviewer of an
    earlier round, before a return and resubmission, is still its reviewer (甘职改办〔2020〕2号 五(四))."""
    query = CaseEvent.select(CaseEvent.role, CaseEvent.account).where(
        CaseEvent.case == case_id,
        CaseEvent.action.is_in([Action.approve.value, Action.recheck.value, Action.submit.value]),
    )
    acted: dict[Role, set[int]] = {}
    for row in await query:
        if row["role"] and row["account"]:
            acted.setdefault(Role(row["role"]), set()).add(row["account"])
    return acted


def batch_day_error(tenant_calendar: calendar.WorkCalendar, day_of_month: int, today: date) -> str | None:
    """甘职改办〔2020〕2号 四: offices act once a month, on the 25th moved past weekends and holidays."""
    try:
        this_month = calendar.batch_day(tenant_calendar, today.year, today.month, day_of_month)
    except calendar.CalendarMissing as error:
        return str(error)
    if today == this_month:
        return None
    # The previous month's batch day may have been moved into this month.
    previous = date(today.year - 1, 12, 1) if today.month == 1 else date(today.year, today.month - 1, 1)
    try:
        if calendar.batch_day(tenant_calendar, previous.year, previous.month, day_of_month) == today:
            return None
    except calendar.CalendarMissing:
        pass
    upcoming = this_month if this_month > today else None
    if upcoming is None:
        following = date(today.year + 1, 1, 1) if today.month == 12 else date(today.year, today.month + 1, 1)
        try:
            upcoming = calendar.batch_day(tenant_calendar, following.year, following.month, day_of_month)
        except calendar.CalendarMissing as error:
            return f"今天不是集中办理日。{error}"
    return f"补办证书每月{day_of_month}日集中办理（遇节假日顺延），下一个集中办理日是{upcoming:%Y年%m月%d日}"


async def closed_batch_days(tenant: Tenant, days_of_month: Iterable[int]) -> dict[int, str]:
    """The monthly batch days among ``days_of_month`` that are not today, each with why and the next one (the
    queue disables its sealing controls with that text; ``act`` refuses with it)."""
    wanted = set(days_of_month)
    if not wanted:
        return {}
    tenant_calendar, today = await calendar.work_calendar(tenant), calendar.today_in_china()
    reasons = {day: batch_day_error(tenant_calendar, day, today) for day in wanted}
    return {day: reason for day, reason in reasons.items() if reason}


# Decisions that take a case out of the queue: where it goes, where the reason is kept, what the actor hears.
LEAVING = {
    Action.return_: (State.returned, Case.return_reason, "已退回，填报人修改后可重新提交"),
    Action.refuse: (State.refused, Case.decision_reason, "已作出不予办理决定"),
}


@dataclass(frozen=True)
class Outcome:
    state: State
    message: str
    certificate_id: int | None = None


async def act(
    tenant: Tenant,
    principal: Principal,
    case_id: int,
    action: Action,
    *,
    version: int,
    reason: str | None = None,
) -> Outcome:
    """One step's decision: approve (the last step completes the case), return with a reason, refuse with a
    reason, or escalate a recheck."""
    case = await load_case(tenant, case_id)
    step = case.current_step
    if step is None:
        raise CaseError("该案件当前不在审核中")
    if not _acts_now(case, principal):
        raise CaseError("该案件不在您的待办中（须由当前步骤的机构和角色办理）")
    reason = (reason or "").strip()
    if action in (Action.return_, Action.refuse) and not reason:
        raise CaseError("请填写理由：退回或不予办理必须注明原因，方便填报人补充修改", "reason")
    if len(reason) > REASON_MAX:
        raise CaseError(f"理由最多{REASON_MAX}字", "reason")
    if action in (Action.approve, Action.recheck):
        acted = await _acted(case.id)
        violation = separation_violation(acted, step.role, principal.account_id or 0)
        if violation:
            raise CaseError(f"{violation}：您已在本案件中担任其他角色")
    ids = {code: org_id for org_id, code in case.org_codes.items()}
    now = _now()
    index = case.row["step"]
    if action in LEAVING:
        to_state, reason_column, message = LEAVING[action]
        await _change(
            case,
            version,
            {
                Case.state: to_state.value,
                Case.current_org: None,
                Case.current_role: None,
                Case.queued_at: None,
                reason_column: reason,
                Case.updated_at: now,
            },
        )
        await _event(
            tenant, case.id, principal, step.role, step.org, action, case.state, to_state, index, reason, {}
        )
        return Outcome(to_state, message)
    plan = case.plan
    if action is Action.recheck:
        if case.state is not State.in_review:
            raise CaseError("该案件已审核通过，不能再申请复查")
        try:
            plan = with_recheck(plan, index)
        except PlanError as error:
            raise CaseError(str(error)) from None
    elif action is not Action.approve:
        raise CaseError("不支持的操作")
    elif step.batch_day is not None:
        error = (await closed_batch_days(tenant, [step.batch_day])).get(step.batch_day)
        if error:
            raise CaseError(error)
    if index + 1 < len(plan):
        following = plan[index + 1]
        await _change(
            case,
            version,
            {
                Case.plan: [item.to_json() for item in plan],
                Case.step: index + 1,
                Case.current_org: ids[following.org],
                Case.current_role: following.role.value,
                Case.queued_at: now,
                Case.updated_at: now,
            },
        )
        await _event(
            tenant,
            case.id,
            principal,
            step.role,
            step.org,
            action,
            case.state,
            case.state,
            index,
            reason or None,
            {},
        )
        return Outcome(State.in_review, f"已转{case.tree[following.org].name}{following.label}")
    # The last step. The case leaves every queue while it completes (claimed by the version check), so no
    # second sealer can issue a second certificate for it; a failure to issue puts it back in the queue.
    await _change(
        case,
        version,
        {
            Case.state: State.approved.value,
            Case.current_org: None,
            Case.current_role: None,
            Case.updated_at: now,
        },
    )
    if case.state is State.in_review:
        await _event(
            tenant,
            case.id,
            principal,
            step.role,
            step.org,
            action,
            case.state,
            State.approved,
            index,
            reason or None,
            {},
        )
    return await _complete(tenant, principal, case, step, version + 1)


async def _complete(
    tenant: Tenant, principal: Principal, case: CaseRecord, step: PlannedStep, version: int
) -> Outcome:
    """What finishing the case does: issue its certificate, or mark the record collected. A failure to issue
    (say the authority has no seal yet) leaves the case approved at its last step, to be sealed again."""
    certificate_id = None
    if case.definition.completion is Completion.certificate:
        try:
            certificate_id = await _issue(tenant, principal, case, step)
        except IssueError as error:
            ids = {code: org_id for org_id, code in case.org_codes.items()}
            await _change(
                case,
                version,
                {
                    Case.current_org: ids[step.org],
                    Case.current_role: step.role.value,
                    Case.updated_at: _now(),
                },
            )
            return Outcome(State.approved, f"已审核通过，但未能生成证书：{error.message}")
    now = _now()
    await _change(
        case,
        version,
        {
            Case.state: State.completed.value,
            Case.current_org: None,
            Case.current_role: None,
            Case.queued_at: None,
            Case.certificate: certificate_id,
            Case.completed_at: now,
            Case.updated_at: now,
        },
    )
    await _event(
        tenant,
        case.id,
        principal,
        step.role,
        step.org,
        Action.complete,
        State.approved,
        State.completed,
        case.row["step"],
        None,
        {"certificate": certificate_id} if certificate_id else {},
    )
    if certificate_id:
        return Outcome(State.completed, "已用印，电子证书已生成", certificate_id)
    return Outcome(State.completed, "已审核通过，信息采集完成")


async def _issue(tenant: Tenant, principal: Principal, case: CaseRecord, step: PlannedStep) -> int:
    mapping = case.definition.certificate
    assert mapping is not None
    values = form_values(tenant, case)
    review_spec = case.definition.field(mapping.review_body_field)
    review_body = (
        display_value(review_spec, values.get(mapping.review_body_field), case.tree) if review_spec else ""
    )
    photo = None
    if mapping.photo_slot:
        attachment = (await attachments_of(tenant, case.id)).get(mapping.photo_slot)
        if attachment is not None:
            try:
                photo = await photo_as_jpeg(read_bytes(attachment["sha256"]), attachment["media_type"])
            except UploadError as error:
                raise CaseError(str(error), mapping.photo_slot) from None
    series_spec = case.definition.field("series")
    certificate = await issue_certificate(
        tenant,
        Actor(principal.actor_label, step.role.value, step.org),
        authority_code=case.code(case.row["authority"]) or step.org,
        holder=Holder(values[HOLDER_NAME_FIELD], values[ID_NUMBER_FIELD], values["gender"]),
        title=Title(
            series=display_value(series_spec, values["series"], case.tree)
            if series_spec
            else values["series"],
            title_name=values["title_name"],
            specialty=values["specialty"],
            obtained_on=date.fromisoformat(values["obtained_on"]),
            review_body=review_body,
        ),
        issue_date=calendar.today_in_china(),
        photo_jpeg=photo,
        replaces_paper_number=values.get(mapping.replaces_field) if mapping.replaces_field else None,
    )
    return int(certificate["id"])


@dataclass(frozen=True)
class BatchResult:
    case_id: int
    ok: bool
    message: str


async def seal_batch(tenant: Tenant, principal: Principal, items: list[tuple[int, int]]) -> list[BatchResult]:
    """The sealer's batch action on batch day: each (case, version) is sealed on its own, so one failure
    (a conflict, a missing seal) does not undo the others."""
    results = []
    for case_id, version in items:
        try:
            outcome = await act(tenant, principal, case_id, Action.approve, version=version)
        except CaseError as error:
            results.append(BatchResult(case_id, False, error.message))
        else:
            results.append(BatchResult(case_id, outcome.state is State.completed, outcome.message))
    return results


# --- the record of what happened ---------------------------------------------------------------------------


async def _event(
    tenant: Tenant,
    case_id: int,
    principal: Principal,
    role: Role | None,
    org_code: str | None,
    action: Action,
    from_state: State,
    to_state: State,
    step: int,
    reason: str | None,
    diff: dict[str, Any],
) -> None:
    org = (
        await Org.select(Org.id).where(Org.tenant == tenant.id, Org.code == org_code).first()
        if org_code
        else None
    )
    await CaseEvent(
        tenant=tenant.id,
        case=case_id,
        at=_now(),
        account=principal.account_id,
        actor_name=principal.name,
        role=role.value if role else None,
        org=org["id"] if org else None,
        action=action.value,
        from_state=from_state.value,
        to_state=to_state.value,
        step=step,
        reason=reason,
        diff=diff,
    ).save()
    await record(
        tenant,
        Actor(principal.actor_label, role.value if role else None, org_code),
        f"case.{action.value}",
        f"case:{case_id}",
        {"from": from_state.value, "to": to_state.value, "step": step, "reason": reason, "diff": diff},
    )


async def case_events(tenant: Tenant, case_id: int) -> list[dict[str, Any]]:
    return (
        await CaseEvent.select(*CaseEvent.all_columns(), CaseEvent.org.name.as_alias("org_name"))
        .where(CaseEvent.tenant == tenant.id, CaseEvent.case == case_id)
        .order_by(CaseEvent.id)
        .output(load_json=True)
    )


@dataclass(frozen=True)
class MyCasesFilter:
    """我的申请's search: a holder's name (or its first characters) or last four ID digits, a procedure, a
    state; empty ones do not filter."""

    q: str = ""
    procedure: Procedure | None = None
    state: State | None = None


async def my_cases(
    tenant: Tenant, principal: Principal, filters: MyCasesFilter | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The cases I filed (or my filing orgs did), and — for an applicant — the cases filed for me."""
    condition = Case.filed_by == principal.account_id
    if principal.kind is AccountKind.staff:
        # A colleague holding a filing role at the same org carries on the org's cases (see _is_filer).
        filing_orgs = [
            grant.org_code for grant in principal.grants if grant.role in (Role.clerk, Role.org_admin)
        ]
        if filing_orgs:
            ids = await org_ids(tenant)
            condition = condition | Case.filer_org.is_in([ids[code] for code in filing_orgs if code in ids])
    if principal.kind is AccountKind.applicant:
        account = await account_in_tenant(tenant, principal.account_id or 0)
        if account is not None and account["id_number_hash"]:
            condition = condition | (Case.holder_id_hash == account["id_number_hash"])
    query = Case.select(
        Case.id,
        Case.procedure,
        Case.state,
        Case.holder_name,
        Case.holder_id_tail,
        Case.level,
        Case.series,
        Case.return_reason,
        Case.decision_reason,
        Case.updated_at,
        Case.certificate,
    ).where(Case.tenant == tenant.id, condition)
    filters = filters or MyCasesFilter()
    if filters.q:
        query = query.where(holder_matches(filters.q))
    if filters.procedure is not None:
        query = query.where(Case.procedure == filters.procedure.value)
    if filters.state is not None:
        query = query.where(Case.state == filters.state.value)
    return await query.order_by(Case.updated_at, ascending=False).limit(limit)
