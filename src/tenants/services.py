"""Services of the tenants package: plain async functions over the tables, no HTTP.

Every query for tenant-owned rows goes through ``scoped`` so that no caller can forget the tenant.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from piccolo.query import Select
from piccolo.table import Table

from audit.services import Actor, record
from core.db import write_transaction
from core.web import tenant_slug_of
from tenants.authority import CaseFacts, OrgNode, OrgTree, Rule, RuleBook, WalkFrom
from tenants.presets import (
    Preset,
    PresetError,
    conditions_from_mapping,
    conditions_to_mapping,
    preset_paths,
    read_preset,
)
from tenants.procedures import ProcedureDefinition, definition_from_text
from tenants.tables import AuthorityRule, Org, ProcedureConfig, Tenant
from tenants.vocabulary import CertificateScope, Level, OrgKind, Procedure, Route


def scoped(table: type[Table], tenant: Tenant, *columns: Any) -> Select:
    """A select of ``table`` limited to one tenant's rows: the one place tenant scoping happens."""
    return table.select(*columns).where(table._meta.get_column_by_name("tenant") == tenant.id)


async def list_tenants() -> list[Tenant]:
    return await Tenant.objects().order_by(Tenant.id).output(load_json=True)


async def get_tenant(slug: str) -> Tenant | None:
    return await Tenant.objects().get(Tenant.slug == slug).output(load_json=True)


FRAME_ANCESTORS_TTL = 60.0  # seconds; an administrator's change reaches every process within a minute
_frame_ancestors_cache: dict[str, tuple[float, list[str]]] = {}


async def frame_ancestors(slug: str) -> list[str]:
    """The portal origins allowed to frame this tenant's pages (cached: asked on every response)."""
    cached = _frame_ancestors_cache.get(slug)
    if cached and time.monotonic() - cached[0] < FRAME_ANCESTORS_TTL:
        return cached[1]
    tenant = await get_tenant(slug)
    origins = list(tenant.frame_ancestors) if tenant else []
    _frame_ancestors_cache[slug] = (time.monotonic(), origins)
    return origins


VERIFICATION_PATH = re.compile(r"^/[vV](/|$)")


async def frame_ancestors_for_path(path: str) -> list[str]:
    """Who may frame this page: a tenant's portals for its pages; every tenant's portals for the public
    verification pages (a QR code does not say which portal shows it); nobody for the rest."""
    slug = tenant_slug_of(path)
    if slug is not None:
        return await frame_ancestors(slug)
    if VERIFICATION_PATH.match(path):
        origins: list[str] = []
        for tenant in await list_tenants():
            origins += [origin for origin in await frame_ancestors(tenant.slug) if origin not in origins]
        return origins
    return []


async def org_ids(tenant: Tenant) -> dict[str, int]:
    """The tenant's org ids by code."""
    return {row["code"]: row["id"] for row in await scoped(Org, tenant, Org.id, Org.code)}


async def org_tree(tenant: Tenant) -> OrgTree:
    rows = await scoped(
        Org,
        tenant,
        Org.id,
        Org.code,
        Org.name,
        Org.kind,
        Org.division_code,
        Org.parent.code.as_alias("parent_code"),
    ).order_by(Org.position)
    return OrgTree(
        OrgNode(row["code"], row["name"], OrgKind(row["kind"]), row["parent_code"], row["division_code"])
        for row in rows
    )


async def rule_book(tenant: Tenant) -> RuleBook:
    rows = (
        await scoped(AuthorityRule, tenant)
        .order_by(AuthorityRule.procedure)
        .order_by(AuthorityRule.position)
        .output(load_json=True)
    )
    tables: dict[Procedure, list[Rule]] = {}
    for row in rows:
        procedure = Procedure(row["procedure"])
        tables.setdefault(procedure, []).append(
            Rule(
                id=row["rule_id"],
                procedure=procedure,
                citation=row["citation"],
                note=row["note"],
                conditions=conditions_from_mapping(row["conditions"], f"{tenant.slug} 规则 {row['rule_id']}"),
                authority=tuple(OrgKind(kind) for kind in row["authority"]),
                walk_from=WalkFrom(row["walk_from"]),
                refusal=row["refusal"],
            )
        )
    offered = [Procedure(procedure) for procedure in tenant.procedures]
    return RuleBook(
        tenant_name=tenant.name,
        offered=frozenset(offered),
        tree=await org_tree(tenant),
        # In the tenant's own order of procedures, as its pages list them.
        rules={procedure: tuple(tables[procedure]) for procedure in offered if procedure in tables},
    )


# --- the authority query, as the API and the admin rule tester receive it ---------------------------------

AUTHORITY_QUERY_PARAMETERS = (
    "procedure",
    "route",
    "level",
    "employer",
    "committee",
    "obtained",
    "certificate",
)
REQUIRED_AUTHORITY_PARAMETERS = ("procedure", "route", "level", "employer")


class QueryError(ValueError):
    def __init__(self, parameter: str, message: str) -> None:
        self.parameter, self.message = parameter, message
        super().__init__(f"{parameter}: {message}")


def _member(enum: type[Any], parameter: str, value: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise QueryError(parameter, f"取值 “{value}” 无效，可选：{allowed}") from None


def parse_case_facts(params: Mapping[str, str], tree: OrgTree) -> CaseFacts:
    """Checks an authority query's parameters; the first bad one raises ``QueryError`` naming it."""
    for name in params:
        if name not in AUTHORITY_QUERY_PARAMETERS:
            raise QueryError(name, "未知参数")
    for name in REQUIRED_AUTHORITY_PARAMETERS:
        if not params.get(name):
            raise QueryError(name, "必填")
    employer = params["employer"]
    if employer not in tree:
        raise QueryError("employer", f"机构代码 “{employer}” 不存在")
    if tree[employer].kind is OrgKind.committee:
        raise QueryError("employer", "评审委员会不是用人单位，请填写申请人的工作单位或档案托管机构")
    committee = params.get("committee") or None
    if committee is not None and (committee not in tree or tree[committee].kind is not OrgKind.committee):
        raise QueryError("committee", f"“{committee}” 不是本地区的评审委员会代码")
    obtained = None
    if params.get("obtained"):
        try:
            obtained = date.fromisoformat(params["obtained"])
        except ValueError:
            raise QueryError("obtained", "日期格式应为 YYYY-MM-DD") from None
    certificate = params.get("certificate") or CertificateScope.provincial.value
    return CaseFacts(
        procedure=_member(Procedure, "procedure", params["procedure"]),
        route=_member(Route, "route", params["route"]),
        level=_member(Level, "level", params["level"]),
        employer=employer,
        committee=committee,
        obtained=obtained,
        certificate=_member(CertificateScope, "certificate", certificate),
    )


# --- loading presets ------------------------------------------------------------------------------------


@dataclass
class LoadReport:
    slug: str
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: dict[str, int], table: str) -> None:
        bucket[table] = bucket.get(table, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def summary(self) -> str:
        if not self.changed:
            return f"{self.slug}: 无变化"
        parts = [
            f"{verb} {table} {count}"
            for verb, bucket in (("新增", self.created), ("更新", self.updated), ("删除", self.deleted))
            for table, count in sorted(bucket.items())
        ]
        return f"{self.slug}: " + "，".join(parts)


def _tenant_values(preset: Preset) -> dict[str, Any]:
    settings = preset.tenant
    return {
        "name": settings.name,
        "authority_name": settings.authority_name,
        "division_code": settings.division_code,
        "theme_color": settings.theme_color,
        "procedures": [procedure.value for procedure in settings.procedures],
        "portal_links": [{"name": link.name, "url": link.url} for link in settings.portal_links],
        "frame_ancestors": list(settings.frame_ancestors),
        "contacts": list(settings.contacts),
        "auth": settings.auth,
        "certificate_settings": settings.certificates,
        "series": list(preset.series),
    }


def _rule_values(rule: Rule, position: int) -> dict[str, Any]:
    return {
        "procedure": rule.procedure.value,
        "position": position,
        "citation": rule.citation,
        "note": rule.note,
        "conditions": conditions_to_mapping(rule.conditions),
        "authority": [kind.value for kind in rule.authority],
        "walk_from": rule.walk_from.value,
        "refusal": rule.refusal,
    }


def _differs(row: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    return any(row[key] != value for key, value in values.items())


async def load_preset(preset: Preset) -> LoadReport:
    """Creates or brings up to date one tenant from its preset, in one transaction. Loading the same preset
    again writes nothing. Orgs missing from the preset are kept: employers are also created at run time."""
    report = LoadReport(preset.tenant.slug)
    async with write_transaction(Tenant._meta.db):
        tenant = await get_tenant(preset.tenant.slug)
        values = _tenant_values(preset)
        if tenant is None:
            tenant = Tenant(slug=preset.tenant.slug, **values)
            await tenant.save()
            report.count(report.created, "tenant")
        else:
            current = (
                await Tenant.select(*Tenant.all_columns())
                .where(Tenant.id == tenant.id)
                .output(load_json=True)
                .first()
            ) or {}
            if _differs(current, values):
                await Tenant.update(values).where(Tenant.id == tenant.id)
                report.count(report.updated, "tenant")
        await _sync_orgs(tenant, preset, report)
        await _sync_rules(tenant, preset, report)
        await _sync_procedures(tenant, preset, report)
    return report


PRESET_AUTHOR = "system"


async def _sync_procedures(tenant: Tenant, preset: Preset, report: LoadReport) -> None:
    """Definitions an administrator has edited since are kept: the preset is only the starting point."""
    existing = {row["procedure"]: row for row in await scoped(ProcedureConfig, tenant)}
    for procedure, source in preset.procedures.items():
        row = existing.get(procedure.value)
        if row is None:
            await ProcedureConfig(
                tenant=tenant.id, procedure=procedure.value, source=source, updated_at=datetime.now(UTC)
            ).save()
            report.count(report.created, "procedure_config")
        elif row["updated_by"] == PRESET_AUTHOR and row["source"] != source:
            await ProcedureConfig.update(
                {ProcedureConfig.source: source, ProcedureConfig.updated_at: datetime.now(UTC)}
            ).where(ProcedureConfig.id == row["id"])
            report.count(report.updated, "procedure_config")


async def _sync_orgs(tenant: Tenant, preset: Preset, report: LoadReport) -> None:
    existing = {row["code"]: row for row in await scoped(Org, tenant)}
    ids = {code: row["id"] for code, row in existing.items()}
    for position, node in enumerate(preset.orgs):
        values = {
            "name": node.name,
            "kind": node.kind.value,
            "parent": ids[node.parent] if node.parent else None,
            "division_code": node.division,
            "position": position,
        }
        row = existing.get(node.code)
        if row is None:
            org = Org(tenant=tenant.id, code=node.code, **values)
            await org.save()
            ids[node.code] = org.id
            report.count(report.created, "org")
        elif _differs(row, values):
            await Org.update(values).where(Org.id == row["id"])
            report.count(report.updated, "org")


async def _sync_rules(tenant: Tenant, preset: Preset, report: LoadReport) -> None:
    existing = {row["rule_id"]: row for row in await scoped(AuthorityRule, tenant).output(load_json=True)}
    wanted = set()
    for rules in preset.rules.values():
        for position, rule in enumerate(rules):
            wanted.add(rule.id)
            values = _rule_values(rule, position)
            row = existing.get(rule.id)
            if row is None:
                await AuthorityRule(tenant=tenant.id, rule_id=rule.id, **values).save()
                report.count(report.created, "authority_rule")
            elif _differs(row, values):
                await AuthorityRule.update(values).where(AuthorityRule.id == row["id"])
                report.count(report.updated, "authority_rule")
    for rule_id, row in existing.items():
        if rule_id not in wanted:
            await AuthorityRule.delete().where(AuthorityRule.id == row["id"])
            report.count(report.deleted, "authority_rule")


async def load_all_presets() -> list[LoadReport]:
    """Parses every preset first, so one broken file stops the run before any tenant is written."""
    presets = [read_preset(path) for path in preset_paths()]
    return [await load_preset(preset) for preset in presets]


# --- procedure definitions (tenants.procedures) ----------------------------------------------------------

_definitions: dict[tuple[int, str], tuple[str, ProcedureDefinition]] = {}


async def _org_kinds(tenant: Tenant) -> frozenset[OrgKind]:
    rows = await Org.select(Org.kind).where(Org.tenant == tenant.id).distinct()
    return frozenset(OrgKind(row["kind"]) for row in rows)


async def procedure_definition(tenant: Tenant, procedure: Procedure) -> ProcedureDefinition | None:
    """The tenant's current definition of ``procedure`` (parsed once per stored text)."""
    row = (
        await scoped(ProcedureConfig, tenant, ProcedureConfig.source)
        .where(ProcedureConfig.procedure == procedure.value)
        .first()
    )
    if row is None:
        return None
    key = (tenant.id, procedure.value)
    cached = _definitions.get(key)
    if cached is not None and cached[0] == row["source"]:
        return cached[1]
    definition = definition_from_text(
        row["source"], procedure, tuple(tenant.series), await _org_kinds(tenant), f"{tenant.slug}/{procedure}"
    )
    _definitions[key] = (row["source"], definition)
    return definition


async def procedure_source(tenant: Tenant, procedure: Procedure) -> dict[str, Any] | None:
    return await scoped(ProcedureConfig, tenant).where(ProcedureConfig.procedure == procedure.value).first()


async def save_procedure_source(tenant: Tenant, actor: Actor, procedure: Procedure, text: str) -> None:
    """An administrator's edit of one definition: checked exactly like a preset (PresetError names the
    line), then stored and audited. Later preset loads keep it."""
    if procedure.value not in tenant.procedures:
        raise PresetError(f"{tenant.slug}/{procedure}", None, "本地区未开通该事项")
    definition_from_text(text, procedure, tuple(tenant.series), await _org_kinds(tenant), f"{procedure}")
    row = await procedure_source(tenant, procedure)
    values = {
        ProcedureConfig.source: text,
        ProcedureConfig.updated_at: datetime.now(UTC),
        ProcedureConfig.updated_by: actor.label,
    }
    if row is None:
        await ProcedureConfig(
            tenant=tenant.id,
            procedure=procedure.value,
            source=text,
            updated_at=datetime.now(UTC),
            updated_by=actor.label,
        ).save()
    else:
        await ProcedureConfig.update(values).where(ProcedureConfig.id == row["id"])
    await record(tenant, actor, "procedure.save", f"procedure:{procedure}", {"chars": len(text)})
