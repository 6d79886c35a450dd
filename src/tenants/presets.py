"""Tenant presets: one reviewed YAML file per tenant (``presets/<slug>.yaml``), parsed and checked here.

Parsing is all-or-nothing and happens before anything touches the database: a broken preset raises
``PresetError`` naming its file and line, so nothing is half-loaded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from certificates.identifiers import (
    DEFAULT_NUMBER_PATTERN,
    IdentifierError,
    check_issuer_code,
    check_number_pattern,
    check_type_code,
)
from tenants.authority import NO_COMMITTEE, Conditions, OrgNode, Rule, WalkFrom
from tenants.preset_reader import LineLoader, Mapping, PresetError, Reader
from tenants.procedures import read_procedures
from tenants.vocabulary import CertificateScope, Jurisdiction, Level, OrgKind, Procedure, Route

PRESETS_DIR = Path(__file__).resolve().parent / "presets"

OFFICE_KINDS = frozenset({OrgKind.province_office, OrgKind.city_office, OrgKind.county_hr})
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
CODE_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,63}$")
DIVISION_PATTERN = re.compile(r"^[1-9][0-9]{5}$")
COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
ORIGIN_PATTERN = re.compile(r"^https://[a-z0-9.-]+(:[0-9]{1,5})?$")
URL_PATTERN = re.compile(r"^https?://\S+$")
ENV_NAME_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")


@dataclass(frozen=True)
class PortalLink:
    name: str
    url: str


@dataclass(frozen=True)
class TenantSettings:
    slug: str
    name: str
    authority_name: str
    division_code: str
    theme_color: str
    procedures: tuple[Procedure, ...]
    portal_links: tuple[PortalLink, ...]
    frame_ancestors: tuple[str, ...]
    contacts: tuple[str, ...]
    auth: dict[str, Any]
    # Certificate numbering and e-licence settings, as stored in ``Tenant.certificate_settings``:
    # {"number_pattern", "licence_type_code" | None, "issuer_code" | None, "validity",
    #  "notices": {"e_certificates"?, "void_notice"?}}.
    certificates: dict[str, Any]


@dataclass(frozen=True)
class Preset:
    source: str
    tenant: TenantSettings
    orgs: tuple[OrgNode, ...]  # parents before children
    rules: dict[Procedure, tuple[Rule, ...]]
    series: tuple[str, ...] = ()  # the tenant's 职称系列 vocabulary
    # Each offered procedure's definition as YAML text (stored as such, so administrators can edit it).
    procedures: dict[Procedure, str] = field(default_factory=dict)


_committee_jurisdiction_values = (*(member.value for member in Jurisdiction), NO_COMMITTEE)


def parse_preset(text: str, source: str) -> Preset:
    try:
        document = yaml.load(text, Loader=LineLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise PresetError(
            source, mark.line + 1 if mark else None, f"YAML 语法错误：{error.problem}"
        ) from None
    reader = Reader(source)
    root = reader.mapping(document, "预置文件", None, {"tenant", "orgs", "rules"}, {"series", "procedures"})
    tenant = _read_tenant(reader, root["tenant"], root)
    orgs = _read_orgs(reader, root["orgs"], root)
    rules = _read_rules(reader, root["rules"], root, tenant.procedures)
    kinds_present = {org.kind for org in orgs}
    for row, rule in zip(
        _rule_rows(root["rules"]), (r for table in rules.values() for r in table), strict=True
    ):
        missing = [kind for kind in rule.authority if kind not in kinds_present]
        if missing:
            raise reader.fail(
                row, f"规则 {rule.id} 指向的机构类型 {', '.join(missing)} 在本地区机构树中不存在"
            )
    series = reader.texts(root, "series")
    procedures: dict[Procedure, str] = {}
    if "procedures" in root:
        definitions = read_procedures(
            reader, root["procedures"], root, tenant.procedures, series, frozenset(kinds_present)
        )
        procedures = {
            procedure: procedure_text(root["procedures"][procedure.value]) for procedure in definitions
        }
    return Preset(source=source, tenant=tenant, orgs=orgs, rules=rules, series=series, procedures=procedures)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def procedure_text(spec: Any) -> str:
    return yaml.safe_dump(_plain(spec), allow_unicode=True, sort_keys=False, width=120)


def _rule_rows(tables: dict[str, list[Mapping]]) -> Iterable[Mapping]:
    for rows in tables.values():
        yield from rows


def _read_tenant(reader: Reader, value: Any, root: Mapping) -> TenantSettings:
    tenant = reader.mapping(
        value,
        "tenant",
        root,
        {"slug", "name", "authority_name", "division_code", "theme_color", "procedures"},
        {"portal_links", "frame_ancestors", "contacts", "auth", "certificates"},
    )
    links = []
    for link in tenant.get("portal_links", []):
        link = reader.mapping(link, "portal_links 条目", tenant, {"name", "url"}, set())
        links.append(PortalLink(reader.text(link, "name"), reader.text(link, "url", URL_PATTERN)))
    return TenantSettings(
        slug=reader.text(tenant, "slug", SLUG_PATTERN),
        name=reader.text(tenant, "name"),
        authority_name=reader.text(tenant, "authority_name"),
        division_code=reader.text(tenant, "division_code", DIVISION_PATTERN),
        theme_color=reader.text(tenant, "theme_color", COLOR_PATTERN),
        procedures=reader.members(tenant, "procedures", Procedure),
        portal_links=tuple(links),
        frame_ancestors=reader.texts(tenant, "frame_ancestors", ORIGIN_PATTERN),
        contacts=reader.texts(tenant, "contacts"),
        auth=_read_auth(reader, tenant.get("auth", Mapping()), tenant),
        certificates=_read_certificates(reader, tenant.get("certificates", Mapping()), tenant),
    )


DEFAULT_SESSION_IDLE_MINUTES = 30
DEFAULT_SESSION_MAX_HOURS = 12


def _read_auth(reader: Reader, value: Any, tenant: Mapping) -> dict[str, Any]:
    """Sign-in settings. The OIDC client secret is never in a preset: ``client_secret_env`` names the
    environment variable that holds it."""
    auth = reader.mapping(value, "auth", tenant, set(), {"session_idle_minutes", "session_max_hours", "oidc"})
    result: dict[str, Any] = {
        "session_idle_minutes": _bounded_int(
            reader, auth, "session_idle_minutes", DEFAULT_SESSION_IDLE_MINUTES, 5, 480
        ),
        "session_max_hours": _bounded_int(
            reader, auth, "session_max_hours", DEFAULT_SESSION_MAX_HOURS, 1, 72
        ),
        "oidc": None,
    }
    if auth.get("oidc") is not None:
        oidc = reader.mapping(
            auth["oidc"],
            "auth.oidc",
            auth,
            {"issuer", "client_id", "client_secret_env"},
            {"id_number_claim", "name_claim", "label"},
        )
        result["oidc"] = {
            "issuer": reader.text(oidc, "issuer", URL_PATTERN),
            "client_id": reader.text(oidc, "client_id"),
            "client_secret_env": reader.text(oidc, "client_secret_env", ENV_NAME_PATTERN),
            "id_number_claim": reader.text(oidc, "id_number_claim")
            if "id_number_claim" in oidc
            else "id_number",
            "name_claim": reader.text(oidc, "name_claim") if "name_claim" in oidc else "name",
            "label": reader.text(oidc, "label") if "label" in oidc else "统一身份认证",
        }
    return result


DEFAULT_CERTIFICATE_VALIDITY = "长期"
NOTICE_KEYS = ("e_certificates", "void_notice")


def _read_certificates(reader: Reader, value: Any, tenant: Mapping) -> dict[str, Any]:
    """Certificate numbering and e-licence settings. ``number_pattern`` uses ``{year}``, ``{division}`` (the
    tenant's division code) and ``{seq}``; ``licence_type_code`` and ``issuer_code`` (the issuing office's
    unified social credit code) make the GB/T 36904 e-licence identifier and come together or not at all."""
    certificates = reader.mapping(
        value,
        "certificates",
        tenant,
        set(),
        {"number_pattern", "licence_type_code", "issuer_code", "validity", "notices"},
    )
    result: dict[str, Any] = {
        "number_pattern": DEFAULT_NUMBER_PATTERN,
        "licence_type_code": None,
        "issuer_code": None,
        "validity": DEFAULT_CERTIFICATE_VALIDITY,
        "notices": _read_notices(reader, certificates.get("notices", Mapping()), certificates),
    }
    checks = {
        "number_pattern": check_number_pattern,
        "licence_type_code": check_type_code,
        "issuer_code": check_issuer_code,
        "validity": None,
    }
    for key, check in checks.items():
        if key not in certificates:
            continue
        text = reader.text(certificates, key)
        if check is not None:
            try:
                check(text)
            except IdentifierError as error:
                raise reader.fail(certificates, f"certificates.{key}：{error.message}") from None
        result[key] = text
    if ("licence_type_code" in certificates) != ("issuer_code" in certificates):
        raise reader.fail(
            certificates, "certificates.licence_type_code 与 issuer_code 须同时填写（电子证照标识需要两者）"
        )
    return result


def _read_notices(reader: Reader, value: Any, certificates: Mapping) -> dict[str, str]:
    """The tenant's own notices the public pages cite: ``e_certificates`` (the verification page) and
    ``void_notice`` (the yearly 作废公告); a tenant whose notices say nothing on one leaves it out."""
    notices = reader.mapping(value, "certificates.notices", certificates, set(), set(NOTICE_KEYS))
    return {key: reader.text(notices, key) for key in NOTICE_KEYS if key in notices}


def _bounded_int(reader: Reader, mapping: Mapping, key: str, default: int, low: int, high: int) -> int:
    value = mapping.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise reader.fail(mapping, f"{key} 应为 {low} 到 {high} 之间的整数")
    return value


def _read_orgs(reader: Reader, value: Any, root: Mapping) -> tuple[OrgNode, ...]:
    if not isinstance(value, list) or not value:
        raise reader.fail(root, "orgs 应为非空列表")
    nodes: dict[str, OrgNode] = {}
    lines: dict[str, Mapping] = {}
    for entry in value:
        org = reader.mapping(entry, "机构", root, {"code", "name", "kind"}, {"parent", "division"})
        code = reader.text(org, "code", CODE_PATTERN)
        if code in nodes:
            raise reader.fail(org, f"机构代码 {code} 重复（首次出现在第{lines[code].line}行）")
        (kind,) = reader.members(org, "kind", OrgKind)
        division = reader.text(org, "division", DIVISION_PATTERN) if "division" in org else None
        parent = reader.text(org, "parent") if "parent" in org else None
        nodes[code] = OrgNode(code, reader.text(org, "name"), kind, parent, division)
        lines[code] = org
    roots = [node for node in nodes.values() if node.parent is None]
    if len(roots) != 1 or roots[0].kind is not OrgKind.province_office:
        where = lines[roots[1].code] if len(roots) > 1 else root
        raise reader.fail(where, "机构树必须恰有一个根，且为 province_office（不写 parent 的只能是它）")
    for node in nodes.values():
        if node.parent is not None and node.parent not in nodes:
            raise reader.fail(lines[node.code], f"上级机构 {node.parent} 不存在")
    for node in nodes.values():
        seen = {node.code}
        current = node.parent
        while current is not None:
            if current in seen:
                raise reader.fail(lines[node.code], f"机构 {node.code} 的上级关系成环")
            seen.add(current)
            current = nodes[current].parent
    return tuple(_parents_first(nodes.values()))


def _parents_first(nodes: Iterable[OrgNode]) -> list[OrgNode]:
    """Keep the file's order, but move every org after its parent (the loader inserts in this order)."""
    ordered: list[OrgNode] = []
    placed: set[str] = set()
    pending = list(nodes)
    while pending:
        waiting = []
        for node in pending:
            if node.parent is None or node.parent in placed:
                ordered.append(node)
                placed.add(node.code)
            else:
                waiting.append(node)
        pending = waiting
    return ordered


def _read_rules(
    reader: Reader, value: Any, root: Mapping, offered: tuple[Procedure, ...]
) -> dict[Procedure, tuple[Rule, ...]]:
    if not isinstance(value, dict):
        raise reader.fail(root, "rules 应为映射：事项 → 规则列表")
    tables: dict[Procedure, tuple[Rule, ...]] = {}
    seen_ids: dict[str, Mapping] = {}
    for key, rows in value.items():
        try:
            procedure = Procedure(key)
        except ValueError:
            raise reader.fail(value, f"rules 中的事项 “{key}” 不存在") from None
        if procedure not in offered:
            raise reader.fail(value, f"rules 含 {procedure} 的规则，但 tenant.procedures 未开通该事项")
        if not isinstance(rows, list) or not rows:
            raise reader.fail(value, f"{procedure} 的规则表应为非空列表")
        table = []
        for row in rows:
            rule = _read_rule(reader, row, value, procedure)
            if rule.id in seen_ids:
                raise reader.fail(row, f"规则编号 {rule.id} 重复（首次出现在第{seen_ids[rule.id].line}行）")
            seen_ids[rule.id] = row
            table.append(rule)
        if not table[-1].conditions.is_unconditional:
            raise reader.fail(
                rows[-1], f"{procedure} 的最后一条规则必须没有 when 条件（兜底），保证每个案件都有明确答复"
            )
        tables[procedure] = tuple(table)
    for procedure in offered:
        if procedure not in tables:
            raise reader.fail(value, f"已开通的事项 {procedure} 没有规则表")
    return tables


CONDITION_READERS: dict[str, Callable[[Reader, Mapping, str], Any]] = {
    "route": lambda reader, when, key: frozenset(reader.members(when, key, Route)),
    "level": lambda reader, when, key: frozenset(reader.members(when, key, Level)),
    "certificate": lambda reader, when, key: frozenset(reader.members(when, key, CertificateScope)),
    "employer_kind": lambda reader, when, key: frozenset(reader.members(when, key, OrgKind)),
    "employer_jurisdiction": lambda reader, when, key: frozenset(reader.members(when, key, Jurisdiction)),
    "committee_jurisdiction": lambda reader, when, key: frozenset(
        _checked_committee_jurisdictions(reader, when, key)
    ),
    "obtained_before": lambda reader, when, key: reader.day(when, key),
    "obtained_from": lambda reader, when, key: reader.day(when, key),
    "obtained_unknown": lambda reader, when, key: _checked_flag(reader, when, key),
}


def _checked_committee_jurisdictions(reader: Reader, when: Mapping, key: str) -> tuple[str, ...]:
    values = when[key] if isinstance(when[key], list) else [when[key]]
    for value in values:
        if value not in _committee_jurisdiction_values:
            allowed = ", ".join(_committee_jurisdiction_values)
            raise reader.fail(when, f"{key} 的值 “{value}” 不存在（可选：{allowed}）")
    return tuple(NO_COMMITTEE if value == NO_COMMITTEE else Jurisdiction(value) for value in values)


def _checked_flag(reader: Reader, when: Mapping, key: str) -> bool:
    if not isinstance(when[key], bool):
        raise reader.fail(when, f"{key} 应为 true 或 false")
    return when[key]


def conditions_from_mapping(when: dict[str, Any], source: str) -> Conditions:
    """Conditions from their stored form (the preset's ``when`` mapping, as kept in the database)."""
    reader = Reader(source)
    checked = reader.mapping(Mapping(when), "when", None, set(), set(CONDITION_READERS))
    return Conditions(**{key: CONDITION_READERS[key](reader, checked, key) for key in checked})


def conditions_to_mapping(conditions: Conditions) -> dict[str, Any]:
    stored: dict[str, Any] = {}
    for name in conditions.__dataclass_fields__:
        value = getattr(conditions, name)
        if isinstance(value, frozenset):
            stored[name] = sorted(str(member) for member in value)
        elif isinstance(value, date):
            stored[name] = value.isoformat()
        elif value is not None:
            stored[name] = value
    return stored


def _read_rule(reader: Reader, value: Any, table: Mapping, procedure: Procedure) -> Rule:
    row = reader.mapping(
        value, "规则", table, {"id", "cite", "note"}, {"when", "authority", "refuse", "walk_from"}
    )
    if ("authority" in row) == ("refuse" in row):
        raise reader.fail(row, "规则必须且只能写 authority（办理机构类型）或 refuse（拒绝理由）之一")
    when = reader.mapping(row.get("when", Mapping()), "when", row, set(), set(CONDITION_READERS))
    conditions = Conditions(**{key: CONDITION_READERS[key](reader, when, key) for key in when})
    authority: tuple[OrgKind, ...] = ()
    if "authority" in row:
        authority = reader.members(row, "authority", OrgKind)
    walk_from = reader.members(row, "walk_from", WalkFrom)[0] if "walk_from" in row else WalkFrom.employer
    if walk_from is WalkFrom.committee and (
        conditions.committee_jurisdiction is None or NO_COMMITTEE in conditions.committee_jurisdiction
    ):
        raise reader.fail(row, "walk_from: committee 需要 when.committee_jurisdiction 且不含 none")
    return Rule(
        id=reader.text(row, "id", CODE_PATTERN),
        procedure=procedure,
        citation=reader.text(row, "cite"),
        note=reader.text(row, "note"),
        conditions=conditions,
        authority=authority,
        walk_from=walk_from,
        refusal=reader.text(row, "refuse") if "refuse" in row else None,
    )


def preset_paths() -> list[Path]:
    return sorted(PRESETS_DIR.glob("*.yaml"))


def read_preset(path: Path) -> Preset:
    preset = parse_preset(path.read_text(encoding="utf-8"), path.name)
    if preset.tenant.slug != path.stem:
        raise PresetError(path.name, None, f"文件名应与 tenant.slug（{preset.tenant.slug}）一致")
    return preset
