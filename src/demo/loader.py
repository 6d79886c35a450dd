"""Loading a tenant's demo through the real services, driven by the tenant's own data: the first offered
procedure that takes cases today gives the chain with cases waiting at each step and a returned one; the first
that can also finish today (no batch day in the way) issues the certificates, one of them voided. The case
values are found by trying the tenant's orgs, routes, levels, committees and dates against its form checks,
eligibility rules, authority rules and step chain, exactly as a submission would meet them.

Everything for one tenant is one transaction ending with its ``DemoLoad`` row, so a tenant has all of its
demo or none of it, and a second load changes nothing."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from accounts.roles import AccountKind, Role
from accounts.services import change_password, create_applicant, create_staff
from accounts.sessions import Grant, Principal
from audit.services import SYSTEM, record
from cases.forms import clean_fields, missing_fields, refusal
from cases.services import (
    CaseError,
    act,
    batch_day_error,
    case_facts,
    load_case,
    save_part,
    start_case,
    submit_case,
    upload_attachment,
    window_error,
)
from cases.workflow import Action, PlanError, PlannedStep, plan_steps
from certificates.services import void_certificate
from certificates.tables import Certificate
from core.db import write_transaction
from core.uploads import PHOTO_RULES
from demo.samples import id_number, pdf_file, photo
from demo.tables import DemoLoad
from seals.services import current_seal, ensure_default_template, sample_scan, store_seal
from settings import get_settings
from tenants import calendar
from tenants.authority import OrgTree, Refusal, RuleBook, UnresolvableError
from tenants.procedures import (
    EMPLOYER_FIELD,
    AttachmentSpec,
    Completion,
    FieldSpec,
    FieldType,
    ProcedureDefinition,
    StepAt,
)
from tenants.services import org_ids, org_tree, procedure_definition, rule_book
from tenants.tables import Tenant
from tenants.vocabulary import Level, OrgKind, Procedure

# The one password of every demo account, documented in README.md; demo accounts need no change of it.
DEMO_PASSWORD = "Demo-2026"
RETURN_REASON = "演示退回：1吋照片不清晰，请重新上传后再提交"
VOID_REMARK = "演示作废：持证人专业名称录入有误，已重新发证"
# Men at even places, as demo_person gives them male ID numbers (an even count keeps that past the end).
HOLDER_NAMES = ("张伟", "李娜", "王强", "刘芳", "陈杰", "杨静", "赵磊", "黄敏", "周涛", "吴婷")
# The demo files titles of the engineering series when the tenant has it, and a plain label otherwise.
DEMO_SERIES = "工程系列"
ENGINEERING_TITLES = {
    Level.junior: "助理工程师",
    Level.intermediate: "工程师",
    Level.associate_senior: "高级工程师",
    Level.senior: "正高级工程师",
}
DEMO_SPECIALTY = "电气工程"
ISSUED_CASES = 2


class DemoRefused(RuntimeError):
    """The demo cannot be loaded here (production) or for this tenant (its data leaves no workable case)."""


def production_refusal() -> str | None:
    if os.environ.get("ZHICHENG_ENV") == "production":
        return "ZHICHENG_ENV=production：生产环境不载入演示数据（演示账号使用公开的密码）"
    return None


async def demo_loaded() -> bool:
    """Whether any tenant carries demo data (every page then shows the demo banner)."""
    return bool(await DemoLoad.exists())


# --- sample seals ------------------------------------------------------------------------------------------


async def ensure_sample_seal(tenant: Tenant, org_code: str, org_name: str) -> None:
    """The sample imprint (样章, operator and leader 演示) for an authority without a seal yet, and the
    tenant's default template, so that it can issue."""
    await ensure_default_template(tenant)
    if await current_seal(tenant, (await org_ids(tenant))[org_code]) is not None:
        return
    await store_seal(
        tenant,
        SYSTEM,
        org_code=org_code,
        scan=sample_scan(),
        operator="演示经办人（样章）",
        leader="演示负责人（样章）",
        name=f"{org_name}（样章）",
    )


# --- finding workable case values in the tenant's data -----------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    gender: str  # 男 / 女, as GB 11643's sequence digit says


def demo_person(tenant: Tenant, index: int) -> Person:
    """The index-th demo holder: an ID number under the tenant's own division code, born 1976 onwards."""
    male = index % 2 == 0
    birthday = f"{1976 + index}{index % 12 + 1:02d}{index % 27 + 1:02d}"
    serial = 100 + 2 * index + (1 if male else 2)
    return Person(
        HOLDER_NAMES[index % len(HOLDER_NAMES)],
        id_number(tenant.division_code, birthday, serial),
        "男" if male else "女",
    )


@dataclass(frozen=True)
class Scenario:
    """Values a case of the procedure can be filed with, and the chain it then climbs."""

    definition: ProcedureDefinition
    employer: str
    filer_org: str | None  # None: the applicant files for themself
    filer_role: Role | None
    choices: dict[str, str]  # the raw form input apart from the holder's own fields
    authority: str
    plan: list[PlannedStep]


def _example(spec: FieldSpec) -> str | None:
    """A value for a patterned text field: the example its own error message gives (“如…”)."""
    assert spec.pattern is not None
    for piece in re.split(r"[“”，,\s：:（）()]+|如", spec.pattern_message or ""):
        if piece and spec.pattern.fullmatch(piece):
            return piece
    return None


def _text(spec: FieldSpec, tenant: Tenant, level: Level, committee_name: str | None) -> str:
    if spec.pattern is not None:
        return _example(spec) or ""
    if spec.name == "title_name":
        return ENGINEERING_TITLES[level] if DEMO_SERIES in tenant.series else f"{level.label}职称（演示）"
    if spec.name == "specialty":
        return DEMO_SPECIALTY
    if spec.name == "review_body":
        return committee_name or f"{tenant.name}{DEMO_SERIES}职称评审委员会（演示）"
    return f"演示{spec.label}"[: spec.max_length]


def _fields(definition: ProcedureDefinition) -> Iterator[FieldSpec]:
    for part in definition.parts:
        yield from part.fields


def _field_of_type(definition: ProcedureDefinition, kind: FieldType) -> FieldSpec | None:
    return next((spec for spec in _fields(definition) if spec.type is kind), None)


def _raw_input(
    definition: ProcedureDefinition,
    tenant: Tenant,
    tree: OrgTree,
    *,
    employer: str,
    route: str | None,
    level: Level,
    committee: str | None,
    obtained: date,
    chosen_orgs: dict[str, str],
) -> dict[str, str]:
    series = DEMO_SERIES if DEMO_SERIES in tenant.series else (tenant.series or [""])[0]
    committee_name = tree[committee].name if committee else None
    raw: dict[str, str] = {}
    for spec in _fields(definition):
        value: str | None = None
        if spec.type is FieldType.org:
            value = {EMPLOYER_FIELD: employer, "committee": committee}.get(spec.name) or chosen_orgs.get(
                spec.name
            )
        elif spec.type is FieldType.route:
            value = route
        elif spec.type is FieldType.level:
            value = level.value  # the level filed is the holder's highest too
        elif spec.type is FieldType.series:
            value = series
        elif spec.type is FieldType.date:
            value = obtained.isoformat()
        elif spec.type is FieldType.flag:
            value = "false"
        elif spec.type in (FieldType.choice, FieldType.scope):
            value = spec.choices[0][0] if spec.choices else None
        elif spec.type is FieldType.text:
            value = _text(spec, tenant, level, committee_name)
        if value:
            raw[spec.name] = value
    return raw


def _holder_input(definition: ProcedureDefinition, person: Person) -> dict[str, str]:
    raw = {}
    for spec in _fields(definition):
        if spec.type is FieldType.name:
            raw[spec.name] = person.name
        elif spec.type is FieldType.id_number:
            raw[spec.name] = person.id_number
        elif spec.type is FieldType.choice and person.gender in {value for value, _ in spec.choices}:
            raw[spec.name] = person.gender
    return raw


def _cleaned(
    definition: ProcedureDefinition, tree: OrgTree, raw: dict[str, str], today: date
) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    for part in definition.parts:
        cleaned = clean_fields(part.fields, raw, values, tree=tree, today=today)
        if cleaned.errors:
            return None
        values = cleaned.values
    if missing_fields(definition, values) or refusal(definition, values) is not None:
        return None
    return values


def _filers(
    definition: ProcedureDefinition, tree: OrgTree, employer: str
) -> list[tuple[str | None, Role | None]]:
    """Who may file for ``employer``: the applicant themself, or staff of the nearest org on its chain that
    the definition lets file."""
    found: list[tuple[str | None, Role | None]] = []
    for filer in definition.filers:
        if filer.applicant:
            found.append((None, None))
            continue
        node = next((node for node in tree.chain(employer) if node.kind in filer.org_kinds), None)
        if node is not None:
            found.append((node.code, filer.role))
    return found


def _employers(definition: ProcedureDefinition, tree: OrgTree) -> list[str]:
    spec = definition.field(EMPLOYER_FIELD)
    if spec is not None:
        kinds = set(spec.org_kinds)
    else:  # the filer's own org is the employer
        kinds = {kind for filer in definition.filers for kind in filer.org_kinds} or {OrgKind.employer}
    return [node.code for node in tree.nodes.values() if node.kind in kinds]


def _org_choices(definition: ProcedureDefinition, tree: OrgTree, name: str, base: str) -> list[str]:
    """The orgs an org field may name for a case filed at ``base``: its own chain, of the field's kinds."""
    spec = definition.field(name)
    kinds = spec.org_kinds if spec is not None else ()
    return [node.code for node in tree.chain(base) if node.kind in kinds]


def _candidate_values(
    definition: ProcedureDefinition, tree: OrgTree, today: date
) -> Iterator[tuple[Any, ...]]:
    """(route, level, committee, obtained) in the order of the definition's own choices."""
    route_spec = _field_of_type(definition, FieldType.route)
    routes: list[str | None] = [value for value, _ in route_spec.choices] if route_spec else [None]
    level_spec = _field_of_type(definition, FieldType.level)
    levels = [Level(value) for value, _ in level_spec.choices] if level_spec else list(Level)
    committee_spec = definition.field("committee")
    committees: list[str | None] = [None]
    if committee_spec is not None:
        committees += [node.code for node in tree.nodes.values() if node.kind in committee_spec.org_kinds]
    # Long enough ago for the reissue and digitization cut-offs, or recent for procedures that start later.
    dates = [date(2016, 6, 30), date(today.year - 1, 6, 30)]
    return itertools.product(routes, levels, committees, dates)


def find_scenario(
    tenant: Tenant,
    definition: ProcedureDefinition,
    tree: OrgTree,
    book: RuleBook,
    today: date,
    prefer: frozenset[str] = frozenset(),
) -> Scenario | None:
    """The first workable case values, in the order of the tenant's data; one whose whole chain stays within
    ``prefer`` (orgs already staffed) first."""
    field_steps = [spec.field for spec in definition.steps if spec.at is StepAt.field and spec.field]
    sample_holder = _holder_input(definition, demo_person(tenant, 0))
    fallback: Scenario | None = None
    for employer in _employers(definition, tree):
        for filer_org, filer_role in _filers(definition, tree, employer):
            if filer_org is None and definition.field(EMPLOYER_FIELD) is None:
                continue  # an applicant's case takes its employer from the form
            options = [_org_choices(definition, tree, name, filer_org or employer) for name in field_steps]
            for (route, level, committee, obtained), picked in itertools.product(
                _candidate_values(definition, tree, today), itertools.product(*options)
            ):
                raw = _raw_input(
                    definition,
                    tenant,
                    tree,
                    employer=employer,
                    route=route,
                    level=level,
                    committee=committee,
                    obtained=obtained,
                    chosen_orgs=dict(zip(field_steps, picked, strict=True)),
                )
                values = _cleaned(definition, tree, {**raw, **sample_holder}, today)
                if values is None:
                    continue
                try:
                    answer = book.resolve(case_facts(definition, values, employer))
                    if isinstance(answer, Refusal):
                        continue
                    plan = plan_steps(
                        definition,
                        tree,
                        employer=employer,
                        authority=answer.office.code,
                        filer_org=filer_org,
                        values=values,
                    )
                except (UnresolvableError, PlanError):
                    continue
                scenario = Scenario(
                    definition, employer, filer_org, filer_role, raw, answer.office.code, plan
                )
                if not prefer or {step.org for step in plan} <= prefer:
                    return scenario
                fallback = fallback or scenario
    return fallback


# --- loading -----------------------------------------------------------------------------------------------


@dataclass
class DemoReport:
    slug: str
    loaded: bool  # False: it was there already, nothing changed
    summary: dict[str, Any] = field(default_factory=dict)

    def lines(self) -> list[str]:
        state = "已载入演示数据" if self.loaded else "演示数据已存在，无变化"
        accounts = self.summary.get("accounts", [])
        return [
            f"{self.slug}: {state}（演示账号的密码均为 {DEMO_PASSWORD}）",
            *(f"  员工 {row['login']}：{row['what']}" for row in accounts if row["kind"] == "staff"),
            *(
                f"  申请人 身份证号 {row['login']} 姓名 {row['name']}：{row['what']}"
                for row in accounts
                if row["kind"] == "applicant"
            ),
            *(
                f"  证书 {row['number']}（{row['state']}）：{row['url']}"
                for row in self.summary.get("certificates", [])
            ),
        ]


@dataclass
class _Loader:
    tenant: Tenant
    tree: OrgTree
    ids: dict[str, int]
    staff: dict[tuple[str, Role], Principal] = field(default_factory=dict)
    accounts: list[dict[str, str]] = field(default_factory=list)
    people: int = 0

    def _principal(
        self, account_id: int, kind: AccountKind, name: str, grants: tuple[Grant, ...] = ()
    ) -> Principal:
        return Principal(
            session_id=0,
            tenant_id=self.tenant.id,
            tenant_slug=self.tenant.slug,
            csrf_token="",
            account_id=account_id,
            kind=kind,
            name=name,
            grants=grants,
        )

    async def staff_member(self, org_code: str, role: Role) -> Principal:
        """The demo account holding ``role`` at the org, made once, with the demo password."""
        if (org_code, role) in self.staff:
            return self.staff[org_code, role]
        node = self.tree[org_code]
        login = f"demo-{self.tenant.slug}-{node.kind.value}-{role.value}".replace("_", "-")
        taken = {row["login"] for row in self.accounts}
        login = next(
            candidate
            for candidate in (login if n == 1 else f"{login}-{n}" for n in itertools.count(1))
            if candidate not in taken
        )
        name = f"演示{role.label}"
        account_id, one_time = await create_staff(
            self.tenant, SYSTEM, name=name, username=login, grants=[(self.ids[org_code], role)]
        )
        principal = self._principal(account_id, AccountKind.staff, name, (Grant(org_code, node.name, role),))
        await change_password(self.tenant, principal, one_time, DEMO_PASSWORD, DEMO_PASSWORD)
        self.staff[org_code, role] = principal
        self.accounts.append(
            {"kind": "staff", "login": login, "name": name, "what": f"{node.name}{role.label}"}
        )
        return principal

    async def applicant(self, employer: str) -> tuple[Person, Principal]:
        """The next demo holder, with an applicant account under ``employer`` and the demo password."""
        person = demo_person(self.tenant, self.people)
        self.people += 1
        account_id = await create_applicant(
            self.tenant, SYSTEM, name=person.name, id_number=person.id_number, org_id=self.ids[employer]
        )
        principal = self._principal(account_id, AccountKind.applicant, person.name)
        await change_password(self.tenant, principal, person.id_number[-8:], DEMO_PASSWORD, DEMO_PASSWORD)
        self.accounts.append(
            {
                "kind": "applicant",
                "login": person.id_number,
                "name": person.name,
                "what": self.tree[employer].name,
            }
        )
        return person, principal

    async def file(self, scenario: Scenario) -> int:
        """A case filed and submitted by its filer for the next demo holder, with its files uploaded."""
        person, holder = await self.applicant(scenario.employer)
        filer = holder
        if scenario.filer_org is not None and scenario.filer_role is not None:
            filer = await self.staff_member(scenario.filer_org, scenario.filer_role)
        definition = scenario.definition
        case_id = await start_case(self.tenant, filer, scenario.definition.procedure, scenario.filer_org)
        raw = {**scenario.choices, **_holder_input(definition, person)}
        for index, part in enumerate(definition.parts):
            version = (await load_case(self.tenant, case_id)).row["version"]
            cleaned = await save_part(self.tenant, filer, case_id, index, raw, version)
            if cleaned.errors:
                raise DemoRefused(f"{self.tenant.slug} {part.title}: {cleaned.errors}")
        values = (await load_case(self.tenant, case_id)).values
        for spec in definition.attachments:
            if spec.is_required(values):
                await upload_attachment(self.tenant, filer, case_id, spec.slot, *_sample_file(spec, person))
        await submit_case(self.tenant, filer, case_id, (await load_case(self.tenant, case_id)).row["version"])
        return case_id

    async def advance(self, case_id: int, steps: int) -> int | None:
        """Approves the case's next ``steps`` steps, each by its step's demo staff; the certificate, if the
        last one issued it. Stops early where a step cannot act today (its batch day)."""
        certificate = None
        for _ in range(steps):
            case = await load_case(self.tenant, case_id)
            step = case.current_step
            if step is None:
                break
            actor = await self.staff_member(step.org, step.role)
            try:
                outcome = await act(self.tenant, actor, case_id, Action.approve, version=case.row["version"])
            except CaseError:
                break
            certificate = outcome.certificate_id
        return certificate


def _sample_file(spec: AttachmentSpec, person: Person) -> tuple[str, bytes]:
    rule = PHOTO_RULES.get(spec.photo or "")
    if rule is not None:
        return f"{person.name}{person.id_number}.jpg", photo(rule.width_mm, rule.height_mm)
    if "pdf" in spec.formats:
        return f"{spec.slot}.pdf", pdf_file()
    return f"{spec.slot}.jpg", photo(90, 60)


async def _can_finish_today(tenant: Tenant, definition: ProcedureDefinition) -> bool:
    days = {spec.batch_day for spec in definition.steps if spec.batch_day is not None}
    if not days:
        return True
    work_calendar = await calendar.work_calendar(tenant)
    return all(batch_day_error(work_calendar, day, calendar.today_in_china()) is None for day in days)


async def _certificate_line(certificate_id: int) -> dict[str, str]:
    row = (
        await Certificate.select(Certificate.number, Certificate.qr_text, Certificate.status)
        .where(Certificate.id == certificate_id)
        .first()
    )
    assert row is not None
    token = row["qr_text"].rsplit("/V/", 1)[1]
    state = "已作废" if row["status"] == "void" else "有效"
    return {"number": row["number"], "state": state, "url": f"{get_settings().public_url}/v/{token}"}


async def load_demo(tenant: Tenant) -> DemoReport:
    """The tenant's demo, or nothing when it is loaded already. Raises DemoRefused in production or when the
    tenant's data offers no case that can be filed."""
    refused = production_refusal()
    if refused:
        raise DemoRefused(refused)
    existing = (
        await DemoLoad.select(DemoLoad.summary)
        .where(DemoLoad.tenant == tenant.id)
        .output(load_json=True)
        .first()
    )
    if existing is not None:
        return DemoReport(tenant.slug, False, existing["summary"])
    today = calendar.today_in_china()
    tree, book = await org_tree(tenant), await rule_book(tenant)
    definitions = [
        definition
        for procedure in tenant.procedures
        if (definition := await procedure_definition(tenant, Procedure(procedure))) is not None
        and window_error(definition, today) is None
    ]
    async with write_transaction(DemoLoad._meta.db):
        loader = _Loader(tenant, tree, await org_ids(tenant))
        chain = next(
            (s for d in definitions if (s := find_scenario(tenant, d, tree, book, today)) is not None), None
        )
        if chain is None:
            raise DemoRefused(f"{tenant.slug}: 没有今天可以受理的事项，无法生成演示案件")
        staffed = frozenset(step.org for step in chain.plan)
        issuing = None
        for definition in definitions:
            if definition.completion is Completion.certificate and await _can_finish_today(
                tenant, definition
            ):
                issuing = find_scenario(tenant, definition, tree, book, today, prefer=staffed)
                if issuing is not None:
                    break
        root = tree.chain(chain.employer)[-1].code
        admin = await loader.staff_member(root, Role.tenant_admin)
        for scenario in (chain, issuing):
            if scenario is not None and scenario.definition.completion is Completion.certificate:
                await ensure_sample_seal(tenant, scenario.authority, tree[scenario.authority].name)
        await loader.applicant(chain.employer)  # one with no case yet, to file one on a phone
        # A case waiting at each step of the chain, and one returned by its first step with the reason.
        for waiting_at in range(len(chain.plan)):
            await loader.advance(await loader.file(chain), waiting_at)
        returned = await loader.file(chain)
        first = chain.plan[0]
        await act(
            tenant,
            await loader.staff_member(first.org, first.role),
            returned,
            Action.return_,
            version=(await load_case(tenant, returned)).row["version"],
            reason=RETURN_REASON,
        )
        certificates = []
        if issuing is not None:
            for _ in range(ISSUED_CASES):
                case_id = await loader.file(issuing)
                certificate_id = await loader.advance(case_id, len(issuing.plan))
                if certificate_id is not None:
                    certificates.append(certificate_id)
        if certificates:
            await void_certificate(tenant, admin, certificates[-1], VOID_REMARK)
        summary = {
            "accounts": loader.accounts,
            "certificates": [await _certificate_line(certificate_id) for certificate_id in certificates],
        }
        await DemoLoad(tenant=tenant.id, loaded_at=datetime.now(UTC), summary=summary).save()
        await record(tenant, SYSTEM, "demo.load", f"tenant:{tenant.slug}", {"accounts": len(loader.accounts)})
    return DemoReport(tenant.slug, True, summary)
