"""The authority-rules engine (DESIGN.md §3): pure functions over an org tree and a decision table.

A tenant has, per procedure, an ordered list of rules. The first rule whose conditions all hold for the case
decides: either it names the kind(s) of office that handles the case — found by walking up the org tree from
the employer (or from the reviewing committee) to the first ancestor of that kind — or it refuses with a
message. Presets must end every table with an unconditional row, so every case meets an explicit answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Any

from tenants.vocabulary import CertificateScope, Jurisdiction, Level, OrgKind, Procedure, Route

# Walking up from an org, the first of these kinds met decides which level of government it answers to.
JURISDICTION_OF_KIND: Mapping[OrgKind, Jurisdiction] = {
    OrgKind.university: Jurisdiction.university,
    OrgKind.county_hr: Jurisdiction.county,
    OrgKind.city_office: Jurisdiction.city,
    OrgKind.department: Jurisdiction.province,
    OrgKind.province_office: Jurisdiction.province,
}

NO_COMMITTEE = "none"

CONDITION_TITLES = {
    "route": "取得方式",
    "level": "级别",
    "certificate": "证书类别",
    "employer_kind": "单位类型",
    "employer_jurisdiction": "单位所属层级",
    "committee_jurisdiction": "评委会层级",
    "obtained_before": "取得资格时间早于",
    "obtained_from": "取得资格时间不早于",
    "obtained_unknown": "未填取得资格时间",
}


def _label(value: Any) -> str:
    return "未指明评委会" if value == NO_COMMITTEE else value.label


class WalkFrom(StrEnum):
    employer = "employer"
    committee = "committee"


@dataclass(frozen=True)
class OrgNode:
    code: str
    name: str
    kind: OrgKind
    parent: str | None = None
    division: str | None = None


@dataclass(frozen=True)
class OutlineEntry:
    """One line of an org picker's tree."""

    node: OrgNode
    depth: int
    choosable: bool


class OrgTree:
    """A tenant's orgs, indexed for walking upwards."""

    def __init__(self, nodes: Iterable[OrgNode]) -> None:
        self.nodes: dict[str, OrgNode] = {node.code: node for node in nodes}

    def __contains__(self, code: object) -> bool:
        return code in self.nodes

    def __getitem__(self, code: str) -> OrgNode:
        return self.nodes[code]

    def outline(self, codes: Iterable[str], *, with_parents: bool = False) -> list[OutlineEntry]:
        """The given orgs in tree order (each parent before its children, siblings in preset order), each
        with its depth among those shown: what an org picker shows as an indented tree. ``with_parents``
        also shows their ancestors, not to be chosen, so that scattered orgs (a form's employers) still
        stand under their offices."""
        wanted = set(codes)
        shown = set(wanted)
        if with_parents:
            shown.update(node.code for code in wanted if code in self.nodes for node in self.chain(code))
        children: dict[str | None, list[OrgNode]] = {}
        for node in self.nodes.values():
            children.setdefault(node.parent, []).append(node)
        outline: list[OutlineEntry] = []

        def visit(parent: str | None, depth: int) -> None:
            for node in children.get(parent, []):
                if node.code in shown:
                    outline.append(OutlineEntry(node, depth, node.code in wanted))
                visit(node.code, depth + 1 if node.code in shown else depth)

        visit(None, 0)
        return outline

    def chain(self, code: str) -> list[OrgNode]:
        """The org itself, then its parent, and so on up to the root."""
        chain: list[OrgNode] = []
        current: str | None = code
        while current is not None:
            node = self.nodes[current]
            chain.append(node)
            current = node.parent
        return chain

    @cached_property
    def _children(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = {}
        for node in self.nodes.values():
            if node.parent is not None:
                children.setdefault(node.parent, []).append(node.code)
        return children

    def descendants(self, code: str) -> list[str]:
        """Every org below ``code`` (not itself)."""
        found: list[str] = []
        pending = list(self._children.get(code, ()))
        while pending:
            current = pending.pop()
            found.append(current)
            pending += self._children.get(current, ())
        return found

    def jurisdiction(self, code: str) -> Jurisdiction:
        for node in self.chain(code):
            if node.kind in JURISDICTION_OF_KIND:
                return JURISDICTION_OF_KIND[node.kind]
        # Presets have exactly one root and it is the province office, so this is a data error.
        raise UnresolvableError(f"机构 {code} 不在任何职改办/人社部门之下")

    def walk_to(self, code: str, kinds: Iterable[OrgKind]) -> list[OrgNode] | None:
        """The path from ``code`` up to the nearest org of the first of ``kinds`` that has one."""
        chain = self.chain(code)
        for kind in kinds:
            for depth, node in enumerate(chain):
                if node.kind == kind:
                    return chain[: depth + 1]
        return None


@dataclass(frozen=True)
class CaseFacts:
    """What the rules may ask about a case."""

    procedure: Procedure
    route: Route
    level: Level
    employer: str
    committee: str | None = None
    obtained: date | None = None
    certificate: CertificateScope = CertificateScope.provincial


@dataclass(frozen=True)
class Conditions:
    """All given conditions must hold; an absent one (None) holds for every case."""

    route: frozenset[Route] | None = None
    level: frozenset[Level] | None = None
    certificate: frozenset[CertificateScope] | None = None
    employer_kind: frozenset[OrgKind] | None = None
    employer_jurisdiction: frozenset[Jurisdiction] | None = None
    # Values are Jurisdiction members or NO_COMMITTEE, for cases that name no reviewing committee.
    committee_jurisdiction: frozenset[str] | None = None
    obtained_before: date | None = None
    obtained_from: date | None = None
    obtained_unknown: bool | None = None

    def holds(self, facts: CaseFacts, tree: OrgTree) -> bool:
        if self.route is not None and facts.route not in self.route:
            return False
        if self.level is not None and facts.level not in self.level:
            return False
        if self.certificate is not None and facts.certificate not in self.certificate:
            return False
        if self.employer_kind is not None and tree[facts.employer].kind not in self.employer_kind:
            return False
        if self.employer_jurisdiction is not None and (
            tree.jurisdiction(facts.employer) not in self.employer_jurisdiction
        ):
            return False
        if self.committee_jurisdiction is not None:
            committee = NO_COMMITTEE if facts.committee is None else tree.jurisdiction(facts.committee)
            if committee not in self.committee_jurisdiction:
                return False
        if self.obtained_unknown is not None and (facts.obtained is None) != self.obtained_unknown:
            return False
        if self.obtained_before is not None and (
            facts.obtained is None or facts.obtained >= self.obtained_before
        ):
            return False
        return self.obtained_from is None or (
            facts.obtained is not None and facts.obtained >= self.obtained_from
        )

    def describe(self) -> list[str]:
        """The conditions in Chinese, one phrase each, for the admin's view of the table."""

        def labels(values: frozenset[Any]) -> str:
            return "、".join(sorted(_label(value) for value in values))

        phrases = []
        for name, title in CONDITION_TITLES.items():
            value = getattr(self, name)
            if isinstance(value, frozenset):
                phrases.append(f"{title}：{labels(value)}")
            elif isinstance(value, date):
                phrases.append(f"{title}{value.isoformat()}")
            elif value is not None:
                phrases.append(title if value else f"非{title}")
        return phrases

    @property
    def is_unconditional(self) -> bool:
        return all(getattr(self, name) is None for name in self.__dataclass_fields__)


@dataclass(frozen=True)
class Rule:
    id: str
    procedure: Procedure
    citation: str
    note: str
    conditions: Conditions = field(default_factory=Conditions)
    authority: tuple[OrgKind, ...] = ()
    walk_from: WalkFrom = WalkFrom.employer
    refusal: str | None = None


@dataclass(frozen=True)
class Assignment:
    """The case goes to ``office``; ``path`` is the walk from the starting org up to it."""

    office: OrgNode
    rule: Rule
    path: tuple[OrgNode, ...]


@dataclass(frozen=True)
class Refusal:
    message: str
    rule: Rule | None


class UnresolvableError(Exception):
    """The tenant's data cannot answer: a rule names an office kind the case's org tree does not have."""


@dataclass(frozen=True)
class RuleBook:
    """Everything needed to answer 'who handles this case' for one tenant."""

    tenant_name: str
    offered: frozenset[Procedure]
    tree: OrgTree
    rules: Mapping[Procedure, tuple[Rule, ...]]

    def resolve(self, facts: CaseFacts) -> Assignment | Refusal:
        if facts.procedure not in self.offered:
            return Refusal(f"{self.tenant_name}未开通“{facts.procedure.label}”事项", None)
        for rule in self.rules.get(facts.procedure, ()):
            if not rule.conditions.holds(facts, self.tree):
                continue
            if rule.refusal is not None:
                return Refusal(rule.refusal, rule)
            start = facts.employer if rule.walk_from is WalkFrom.employer else facts.committee
            if start is None:
                raise UnresolvableError(f"规则 {rule.id} 从评审委员会出发，但案件未指明评审委员会")
            path = self.tree.walk_to(start, rule.authority)
            if path is None:
                kinds = "、".join(kind.label for kind in rule.authority)
                raise UnresolvableError(f"规则 {rule.id}：从 {start} 向上找不到{kinds}")
            return Assignment(office=path[-1], rule=rule, path=tuple(path))
        raise UnresolvableError(f"“{facts.procedure.label}”的规则表没有兜底规则")
