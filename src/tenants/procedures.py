"""Procedures as tenant data (DESIGN.md §3): what a case of each procedure asks for, who may file it, which
checks refuse it, which orgs and roles act on it in turn, and what finishing it does.

A definition is read from the tenant's preset (``procedures:``), checked here with line-numbered errors, and
stored as JSON; ``definition_from_json`` reads the stored form back through the same checks, so a definition
an administrator edits later is held to the same rules. Nothing here knows a tenant by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import yaml

from accounts.roles import Role
from core.patterns import AdminPattern, PatternError, admin_pattern
from tenants.preset_reader import LineLoader, Mapping, PresetError, Reader
from tenants.vocabulary import CertificateScope, Level, OrgKind, Procedure, Route

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELD_LENGTH = 200
ID_NUMBER_FIELD = "id_number"
HOLDER_NAME_FIELD = "holder_name"
EMPLOYER_FIELD = "employer"


class FieldType(StrEnum):
    text = "text"
    name = "name"  # a person's name
    id_number = "id_number"  # GB 11643, checksum verified
    date = "date"
    choice = "choice"
    level = "level"
    route = "route"
    scope = "scope"  # 省证 / 国证
    series = "series"  # one of the tenant's series
    org = "org"  # one of the tenant's orgs, of the given kinds
    flag = "flag"  # yes / no


VOCABULARY_TYPES: dict[FieldType, type[StrEnum]] = {
    FieldType.level: Level,
    FieldType.route: Route,
    FieldType.scope: CertificateScope,
}


class StepAt(StrEnum):
    """Where a step's org comes from."""

    authority = "authority"  # the office the authority rules resolve
    employer = "employer"  # the case's employer (现工作单位)
    nearest = "nearest"  # the nearest org of ``kind`` walking up from the employer
    chain = "chain"  # every org from the employer up to the root, one step each (自下而上多次审核)
    root = "root"  # the top of the tree (省职改办 / 自治区人社厅)
    field = "field"  # an org the filer chose in a form field (e.g. 审核机构)


class Completion(StrEnum):
    certificate = "certificate"  # the last step seals and issues an e-certificate
    collected = "collected"  # the record is marked collected, for the export to the ministry


class Check(StrEnum):
    """Eligibility checks that need the holder's other cases."""

    highest_first = "highest_first"  # 甘人社通〔2021〕166号 二(一): the highest level of each series first
    only_highest = "only_highest"  # 原人社函〔2021〕85号 一(二): a 正高 holder gets only the 正高 certificate


class Derivation(StrEnum):
    # 甘人社通〔2021〕166号 二(二)2: 资格文件号 + 身份证后四位,
    # e.g. 甘职改办〔2013〕121号 and …6421 → 甘职改办〔2013〕1216421号
    doc_no_with_id_tail = "doc_no_with_id_tail"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: FieldType
    required: bool = True
    required_when: dict[str, frozenset[str]] | None = None
    choices: tuple[tuple[str, str], ...] = ()  # (value, label); vocabulary types fill them in
    org_kinds: tuple[OrgKind, ...] = ()
    pattern: AdminPattern | None = None  # compiled once, with RE2 (core.patterns)
    pattern_message: str | None = None
    normalize: str | None = None  # a regex replacement template giving the stored form
    max_length: int = 64
    help: str = ""
    derive: Derivation | None = None
    derive_from: str | None = None
    derive_when: dict[str, frozenset[str]] | None = None
    not_after_today: bool = True

    def is_required(self, values: dict[str, Any]) -> bool:
        if self.required_when is not None:
            return holds(self.required_when, values)
        return self.required


@dataclass(frozen=True)
class FormPart:
    title: str
    fields: tuple[FieldSpec, ...]


@dataclass(frozen=True)
class AttachmentSpec:
    slot: str
    label: str
    formats: tuple[str, ...]
    max_kb: int
    required: bool = True
    required_when: dict[str, frozenset[str]] | None = None
    photo: str | None = None
    help: str = ""

    def is_required(self, values: dict[str, Any]) -> bool:
        if self.required_when is not None:
            return holds(self.required_when, values)
        return self.required


@dataclass(frozen=True)
class Eligibility:
    id: str
    cite: str
    refuse: str
    when: dict[str, frozenset[str]] | None = None
    check: Check | None = None


@dataclass(frozen=True)
class StepSpec:
    label: str
    at: StepAt
    role: Role | None = None
    roles_by_kind: dict[OrgKind, Role] = field(default_factory=dict)  # for ``chain``
    kind: OrgKind | None = None  # for ``nearest``
    field: str | None = None  # for ``field``
    optional: bool = False  # skipped when no such org exists above the employer
    edit: bool = False  # the actor may correct the form (甘职改办〔2020〕2号 六(四) 审核编辑)
    recheck_to: OrgKind | None = None  # may escalate a recheck to that office (六(五), 五(三))
    batch_day: int | None = None  # may act only on the monthly batch day (四)


@dataclass(frozen=True)
class Filer:
    """Who may start a case: the applicant themself, or staff of an org of the given kinds in ``role``."""

    applicant: bool = False
    role: Role | None = None
    org_kinds: tuple[OrgKind, ...] = ()


@dataclass(frozen=True)
class CertificateMapping:
    """Where the certificate's fields come from when the case completes with a certificate."""

    review_body_field: str
    photo_slot: str | None = None
    replaces_field: str | None = None


@dataclass(frozen=True)
class ProcedureDefinition:
    procedure: Procedure
    title: str
    cite: str
    filers: tuple[Filer, ...]
    parts: tuple[FormPart, ...]
    attachments: tuple[AttachmentSpec, ...]
    eligibility: tuple[Eligibility, ...]
    steps: tuple[StepSpec, ...]
    completion: Completion
    certificate: CertificateMapping | None = None
    facts: dict[str, str] = field(default_factory=dict)  # fixed facts for the authority rules (route…)
    opens_on: date | None = None
    closes_on: date | None = None
    export_columns: tuple[tuple[str, str], ...] = ()  # (heading, field) for the procedure's export
    export_title: str = ""  # the export's title row; empty: made from the procedure's title
    export_signatures: tuple[tuple[str, ...], ...] = ()  # lines under the table, each of one or more cells
    notes: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        return tuple(spec for part in self.parts for spec in part.fields)

    def field(self, name: str) -> FieldSpec | None:
        return next((spec for spec in self.fields if spec.name == name), None)

    def attachment(self, slot: str) -> AttachmentSpec | None:
        return next((spec for spec in self.attachments if spec.slot == slot), None)


def as_text(value: Any) -> str:
    """The form in which conditions compare values: flags as "true"/"false", everything else as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def holds(when: dict[str, frozenset[str]], values: dict[str, Any]) -> bool:
    return all(as_text(values.get(name)) in allowed for name, allowed in when.items())


# --- reading --------------------------------------------------------------------------------------------

FIELD_KEYS = {
    "required",
    "required_when",
    "choices",
    "org_kinds",
    "pattern",
    "pattern_message",
    "normalize",
    "max_length",
    "help",
    "derive",
    "not_after_today",
}
ATTACHMENT_FORMATS = ("pdf", "jpeg", "png")
PHOTO_SPECS = ("two_inch", "one_inch")


class _ProcedureReader:
    def __init__(self, reader: Reader, series: tuple[str, ...], org_kinds: frozenset[OrgKind]) -> None:
        self.reader, self.series, self.org_kinds = reader, series, org_kinds

    def fail(self, where: Any, message: str) -> PresetError:
        return self.reader.fail(where, message)

    def flag(self, mapping: Mapping, key: str, default: bool) -> bool:
        value = mapping.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(mapping, f"{key} 应为 true 或 false")
        return value

    def when(self, mapping: Mapping, key: str, names: set[str]) -> dict[str, frozenset[str]] | None:
        if key not in mapping:
            return None
        when = self.reader.mapping(mapping[key], key, mapping, set(), names)
        if not when:
            raise self.fail(mapping, f"{key} 不能为空")
        result = {}
        for name, raw in when.items():
            values = raw if isinstance(raw, list) else [raw]
            if not values:
                raise self.fail(when, f"{key}.{name} 不能为空列表")
            result[name] = frozenset(as_text(value) for value in values)
        return result

    def field(self, value: Any, parent: Any, earlier: set[str]) -> FieldSpec:
        spec = self.reader.mapping(value, "表单字段", parent, {"name", "label", "type"}, FIELD_KEYS)
        name = self.reader.text(spec, "name", NAME_PATTERN)
        kind = self.reader.members(spec, "type", FieldType)[0]
        choices: tuple[tuple[str, str], ...] = ()
        if kind in VOCABULARY_TYPES:
            enum = VOCABULARY_TYPES[kind]
            members = self.reader.members(spec, "choices", enum) if "choices" in spec else tuple(enum)
            choices = tuple((member.value, member.label) for member in members)  # type: ignore[attr-defined]
        elif kind is FieldType.series:
            if not self.series:
                raise self.fail(spec, "series 类型的字段需要预置文件顶层的 series 列表")
            choices = tuple((item, item) for item in self.series)
        elif kind is FieldType.choice:
            raw = spec.get("choices")
            if (
                not isinstance(raw, list)
                or not raw
                or not all(isinstance(item, str) and item for item in raw)
            ):
                raise self.fail(spec, f"字段 {name} 的 choices 应为非空文本列表")
            choices = tuple((item, item) for item in raw)
        elif "choices" in spec:
            raise self.fail(spec, f"字段 {name} 的类型不接受 choices")
        org_kinds: tuple[OrgKind, ...] = ()
        if kind is FieldType.org:
            org_kinds = self.reader.members(spec, "org_kinds", OrgKind)
            missing = [item for item in org_kinds if item not in self.org_kinds]
            if missing:
                raise self.fail(spec, f"字段 {name} 的机构类型 {', '.join(missing)} 在本地区机构树中不存在")
        pattern = spec.get("pattern")
        compiled: AdminPattern | None = None
        if pattern is not None:
            if kind is not FieldType.text:
                raise self.fail(spec, f"只有 text 字段可以写 pattern（字段 {name}）")
            if not isinstance(pattern, str):
                raise self.fail(spec, f"字段 {name} 的 pattern 应为文本")
            try:
                compiled = admin_pattern(pattern)
            except PatternError as error:
                raise self.fail(spec, f"字段 {name} 的 pattern 不能使用：{error}") from None
            if "pattern_message" not in spec:
                raise self.fail(spec, f"字段 {name} 写了 pattern，也须写 pattern_message（格式不符时的提示）")
        normalize = spec.get("normalize")
        if normalize is not None:
            if compiled is None:
                raise self.fail(spec, f"字段 {name} 的 normalize 需要 pattern")
            try:
                compiled.check_template(str(normalize))
            except PatternError as error:
                raise self.fail(spec, f"字段 {name} 的 normalize 不能使用：{error}") from None
        max_length = spec.get("max_length", 64)
        if not isinstance(max_length, int) or not 1 <= max_length <= MAX_FIELD_LENGTH:
            raise self.fail(spec, f"max_length 应为 1–{MAX_FIELD_LENGTH} 的整数")
        derive = derive_from = derive_when = None
        if "derive" in spec:
            rule = self.reader.mapping(spec["derive"], "derive", spec, {"rule", "from", "when"}, set())
            derive = self.reader.members(rule, "rule", Derivation)[0]
            derive_from = self.reader.text(rule, "from")
            if derive_from not in earlier:
                raise self.fail(rule, f"derive.from 应为本字段之前的字段（{derive_from} 不存在）")
            derive_when = self.when(rule, "when", earlier)
        required_when = self.when(spec, "required_when", earlier)
        return FieldSpec(
            name=name,
            label=self.reader.text(spec, "label"),
            type=kind,
            required=self.flag(spec, "required", True),
            required_when=required_when,
            choices=choices,
            org_kinds=org_kinds,
            pattern=compiled,
            pattern_message=spec.get("pattern_message"),
            normalize=None if normalize is None else str(normalize),
            max_length=max_length,
            help=str(spec.get("help", "")),
            derive=derive,
            derive_from=derive_from,
            derive_when=derive_when,
            not_after_today=self.flag(spec, "not_after_today", True),
        )

    def attachment(self, value: Any, parent: Any, names: set[str]) -> AttachmentSpec:
        spec = self.reader.mapping(
            value,
            "附件",
            parent,
            {"slot", "label", "formats", "max_kb"},
            {"required", "required_when", "photo", "help"},
        )
        formats = self.reader.texts(spec, "formats")
        unknown = [item for item in formats if item not in ATTACHMENT_FORMATS]
        if not formats or unknown:
            raise self.fail(spec, f"formats 只能取 {', '.join(ATTACHMENT_FORMATS)}")
        max_kb = spec["max_kb"]
        if not isinstance(max_kb, int) or not 1 <= max_kb <= 20 * 1024:
            raise self.fail(spec, "max_kb 应为 1–20480 的整数")
        photo = spec.get("photo")
        if photo is not None and (photo not in PHOTO_SPECS or "pdf" in formats):
            raise self.fail(spec, f"photo 只能取 {', '.join(PHOTO_SPECS)}，且照片不能是 PDF")
        return AttachmentSpec(
            slot=self.reader.text(spec, "slot", NAME_PATTERN),
            label=self.reader.text(spec, "label"),
            formats=formats,
            max_kb=max_kb,
            required=self.flag(spec, "required", True),
            required_when=self.when(spec, "required_when", names),
            photo=photo,
            help=str(spec.get("help", "")),
        )

    def eligibility(self, value: Any, parent: Any, names: set[str]) -> Eligibility:
        rule = self.reader.mapping(value, "受理条件", parent, {"id", "cite", "refuse"}, {"when", "check"})
        if ("when" in rule) == ("check" in rule):
            raise self.fail(rule, "受理条件必须且只能写 when（表单条件）或 check（按本人其他案件检查）之一")
        return Eligibility(
            id=self.reader.text(rule, "id"),
            cite=self.reader.text(rule, "cite"),
            refuse=self.reader.text(rule, "refuse"),
            when=self.when(rule, "when", names),
            check=self.reader.members(rule, "check", Check)[0] if "check" in rule else None,
        )

    def step(self, value: Any, parent: Any, names: set[str]) -> StepSpec:
        step = self.reader.mapping(
            value,
            "办理步骤",
            parent,
            {"label", "at"},
            {"role", "roles", "kind", "field", "optional", "edit", "recheck_to", "batch_day"},
        )
        at = self.reader.members(step, "at", StepAt)[0]
        role = self.reader.members(step, "role", Role)[0] if "role" in step else None
        roles_by_kind: dict[OrgKind, Role] = {}
        if at is StepAt.chain:
            roles = self.reader.mapping(
                step.get("roles"), "roles", step, set(), {kind.value for kind in OrgKind}
            )
            roles_by_kind = {OrgKind(kind): self.reader.members(roles, kind, Role)[0] for kind in roles}
            if not roles_by_kind or role is not None:
                raise self.fail(step, "chain 步骤用 roles（机构类型 → 角色）指定每级的角色，不写 role")
        elif role is None:
            raise self.fail(
                step,
                "办理步骤须写 role（录入员 clerk / 审核员 reviewer / 用印员 sealer / 单位管理员 org_admin）",
            )
        kind = self.reader.members(step, "kind", OrgKind)[0] if "kind" in step else None
        if (at is StepAt.nearest) != (kind is not None):
            raise self.fail(step, "at: nearest 须且只有它须写 kind（向上找的机构类型）")
        field_name = step.get("field")
        if (at is StepAt.field) != (field_name is not None):
            raise self.fail(step, "at: field 须且只有它须写 field（表单中选择机构的字段）")
        if field_name is not None and field_name not in names:
            raise self.fail(step, f"字段 {field_name} 不在表单中")
        batch_day = step.get("batch_day")
        if batch_day is not None and (not isinstance(batch_day, int) or not 1 <= batch_day <= 28):
            raise self.fail(step, "batch_day 应为 1–28 的整数（每月集中办理日）")
        return StepSpec(
            label=self.reader.text(step, "label"),
            at=at,
            role=role,
            roles_by_kind=roles_by_kind,
            kind=kind,
            field=field_name,
            optional=self.flag(step, "optional", False),
            edit=self.flag(step, "edit", False),
            recheck_to=self.reader.members(step, "recheck_to", OrgKind)[0] if "recheck_to" in step else None,
            batch_day=batch_day,
        )

    def filer(self, value: Any, parent: Any) -> Filer:
        if value == "applicant":
            return Filer(applicant=True)
        filer = self.reader.mapping(value, "filed_by 条目", parent, {"role", "org_kinds"}, set())
        return Filer(
            role=self.reader.members(filer, "role", Role)[0],
            org_kinds=self.reader.members(filer, "org_kinds", OrgKind),
        )

    def definition(self, procedure: Procedure, value: Any, parent: Any) -> ProcedureDefinition:
        spec = self.reader.mapping(
            value,
            f"事项 {procedure}",
            parent,
            {"title", "cite", "filed_by", "form", "steps", "completion"},
            {
                "attachments",
                "eligibility",
                "certificate",
                "facts",
                "opens_on",
                "closes_on",
                "export",
                "export_title",
                "export_signatures",
                "notes",
            },
        )
        if not isinstance(spec["filed_by"], list) or not spec["filed_by"]:
            raise self.fail(spec, "filed_by 应为非空列表")
        filers = tuple(self.filer(item, spec) for item in spec["filed_by"])
        if not isinstance(spec["form"], list) or not spec["form"]:
            raise self.fail(spec, "form 应为非空列表（每项是表单的一步：title + fields）")
        names: set[str] = set()
        parts = []
        for raw_part in spec["form"]:
            part = self.reader.mapping(raw_part, "表单步骤", spec, {"title", "fields"}, set())
            if not isinstance(part["fields"], list) or not part["fields"]:
                raise self.fail(part, "fields 应为非空列表")
            fields = []
            for raw_field in part["fields"]:
                item = self.field(raw_field, part, names)
                if item.name in names:
                    raise self.fail(raw_field, f"字段名 {item.name} 重复")
                names.add(item.name)
                fields.append(item)
            parts.append(FormPart(self.reader.text(part, "title"), tuple(fields)))
        for required in (HOLDER_NAME_FIELD, ID_NUMBER_FIELD):
            if required not in names:
                raise self.fail(spec, f"表单须有字段 {required}（持证人姓名、身份证号）")
        attachments = tuple(self.attachment(item, spec, names) for item in spec.get("attachments", []))
        slots = [item.slot for item in attachments]
        if len(set(slots)) != len(slots):
            raise self.fail(spec, "附件 slot 重复")
        eligibility = tuple(self.eligibility(item, spec, names) for item in spec.get("eligibility", []))
        if not isinstance(spec["steps"], list) or not spec["steps"]:
            raise self.fail(spec, "steps 应为非空列表")
        steps = tuple(self.step(item, spec, names) for item in spec["steps"])
        completion = self.reader.members(spec, "completion", Completion)[0]
        certificate = None
        if completion is Completion.certificate:
            mapping = self.reader.mapping(
                spec.get("certificate"), "certificate", spec, {"review_body"}, {"photo", "replaces"}
            )
            for key in ("review_body", "replaces"):
                if key in mapping and mapping[key] not in names:
                    raise self.fail(mapping, f"certificate.{key} 指向的字段 {mapping[key]} 不在表单中")
            if "photo" in mapping and mapping["photo"] not in slots:
                raise self.fail(mapping, f"certificate.photo 指向的附件 {mapping['photo']} 不存在")
            for needed in ("gender", "series", "title_name", "specialty", "obtained_on", "level"):
                if needed not in names:
                    raise self.fail(spec, f"发证事项的表单须有字段 {needed}")
            certificate = CertificateMapping(
                review_body_field=mapping["review_body"],
                photo_slot=mapping.get("photo"),
                replaces_field=mapping.get("replaces"),
            )
        facts = self.reader.mapping(
            spec.get("facts", Mapping()), "facts", spec, set(), {"route", "certificate"}
        )
        fixed = {}
        for key, enum in (("route", Route), ("certificate", CertificateScope)):
            if key in facts:
                fixed[key] = self.reader.members(facts, key, enum)[0].value
        if "route" not in fixed and "route" not in names:
            raise self.fail(spec, "表单没有 route 字段时，须在 facts 中写明取得方式")
        if "level" not in names:
            raise self.fail(spec, "表单须有字段 level（级别）")
        export = spec.get("export", [])
        if not isinstance(export, list):
            raise self.fail(spec, "export 应为列表")
        columns = []
        for raw in export:
            column = self.reader.mapping(raw, "导出列", spec, {"heading", "field"}, set())
            columns.append((self.reader.text(column, "heading"), self.reader.text(column, "field")))
        signatures = spec.get("export_signatures", [])
        if not isinstance(signatures, list) or not all(
            isinstance(line, list) and line and all(isinstance(cell, str) for cell in line)
            for line in signatures
        ):
            raise self.fail(spec, "export_signatures 应为列表，每行是一个或多个文本单元格的列表")
        return ProcedureDefinition(
            procedure=procedure,
            title=self.reader.text(spec, "title"),
            cite=self.reader.text(spec, "cite"),
            filers=filers,
            parts=tuple(parts),
            attachments=attachments,
            eligibility=eligibility,
            steps=steps,
            completion=completion,
            certificate=certificate,
            facts=fixed,
            opens_on=self.reader.day(spec, "opens_on") if "opens_on" in spec else None,
            closes_on=self.reader.day(spec, "closes_on") if "closes_on" in spec else None,
            export_columns=tuple(columns),
            export_title=self.reader.text(spec, "export_title") if "export_title" in spec else "",
            export_signatures=tuple(tuple(line) for line in signatures),
            notes=self.reader.texts(spec, "notes"),
        )


def read_procedures(
    reader: Reader,
    value: Any,
    parent: Any,
    offered: tuple[Procedure, ...],
    series: tuple[str, ...],
    org_kinds: frozenset[OrgKind],
) -> dict[Procedure, ProcedureDefinition]:
    if not isinstance(value, dict):
        raise reader.fail(parent, "procedures 应为映射：事项 → 定义")
    procedures_reader = _ProcedureReader(reader, series, org_kinds)
    definitions = {}
    for key, spec in value.items():
        try:
            procedure = Procedure(key)
        except ValueError:
            raise reader.fail(value, f"procedures 中的事项 “{key}” 不存在") from None
        if procedure not in offered:
            raise reader.fail(value, f"procedures 含 {procedure}，但 tenant.procedures 未开通该事项")
        definitions[procedure] = procedures_reader.definition(procedure, spec, value)
    for procedure in offered:
        if procedure not in definitions:
            raise reader.fail(value, f"已开通的事项 {procedure} 没有 procedures 定义")
    return definitions


def definition_from_text(
    text: str, procedure: Procedure, series: tuple[str, ...], org_kinds: frozenset[OrgKind], source: str
) -> ProcedureDefinition:
    """One procedure's definition from its YAML text, as an administrator edits it."""
    try:
        document = yaml.load(text, Loader=LineLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise PresetError(
            source, mark.line + 1 if mark else None, f"YAML 语法错误：{error.problem}"
        ) from None
    reader = Reader(source)
    return _ProcedureReader(reader, series, org_kinds).definition(procedure, document, None)


def window_error(definition: ProcedureDefinition, today: date) -> str | None:
    """Why the procedure takes no new cases today (its configured window), or None."""
    if definition.opens_on is not None and today < definition.opens_on:
        return f"“{definition.title}”将于{definition.opens_on:%Y年%m月%d日}开始受理"
    if definition.closes_on is not None and today > definition.closes_on:
        return f"“{definition.title}”已于{definition.closes_on:%Y年%m月%d日}截止"
    return None


def window_note(definition: ProcedureDefinition, today: date) -> tuple[bool, str]:
    """(closed, text) for the links that start a case: why it is closed, or until when it is open."""
    closed = window_error(definition, today)
    if closed:
        return True, closed
    if definition.closes_on is not None:
        return False, f"受理截止：{definition.closes_on:%Y年%m月%d日}"
    return False, ""
