"""The reviewer queue as plain service functions (no HTTP): who a principal reviews for, the cases waiting
for them page by page, capped counts per procedure and state, and the case that comes next.

A case waits in exactly one queue: its ``current_org``/``current_role`` (set by the case services while it is
in review or approved, cleared when it leaves). A principal's queues are the (org, role) pairs of their
grants, resolved to org ids within the tenant, so every query below stays inside the tenant.

Speed with hundreds of thousands of cases: a page is one range scan per queue of the index
``case_file_queue`` (current_org, current_role, procedure, queued_at, id) in queue order, stopped after one
page (keyset paging on (queued_at, id), never OFFSET). Counts are capped: each (queue, procedure, state)
counts at most ``COUNT_CAP + 1`` entries of the index ``case_file_queue_state`` (migration cases_0003), all
in one statement, so a queue of 25,000 costs what a queue of 1,000 does and the tab shows "1000+". The
searches by ID tail and by name use their own indexes of cases_0003 rather than filtering the whole queue.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Any
from urllib.parse import urlencode

from piccolo.columns.combination import WhereRaw

from accounts.roles import Role
from accounts.sessions import Principal
from cases.tables import Case
from cases.workflow import State
from tenants.calendar import CHINA
from tenants.services import procedure_definition, scoped
from tenants.tables import Org, Tenant
from tenants.vocabulary import Level, Procedure

PAGE_SIZE = 30
COUNT_CAP = 1000
QUEUE_STATES = (State.in_review, State.approved)  # cases.workflow.WAITING_STATES, in display order
# Roles that act on case steps; a tenant administrator configures, they have no queue of their own.
QUEUE_ROLES = frozenset({Role.clerk, Role.reviewer, Role.sealer, Role.org_admin})
Q_MAX = 32
ID_TAIL = re.compile(r"^\d{3}[\dXx]$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Target:
    """One queue of the principal: an org (id and code) and the role they hold there."""

    org_id: int
    org_code: str
    org_name: str
    role: Role


# Org ids by code and procedure titles change only when an administrator edits the tenant; like the frame
# ancestors (tenants.services), they are kept for a minute so that a queue request does not ask for them.
CACHE_SECONDS = 60.0
_org_ids: dict[tuple[int, str], tuple[float, int]] = {}
_titles: dict[int, tuple[float, dict[Procedure, str]]] = {}


async def _org_ids_of(tenant: Tenant, codes: set[str]) -> dict[str, int]:
    now = monotonic()
    known = {
        code: cached[1]
        for code in codes
        if (cached := _org_ids.get((tenant.id, code))) and now - cached[0] < CACHE_SECONDS
    }
    missing = sorted(codes - set(known))
    if missing:
        for row in await scoped(Org, tenant, Org.id, Org.code).where(Org.code.is_in(missing)):
            _org_ids[(tenant.id, row["code"])] = (now, row["id"])
            known[row["code"]] = row["id"]
    return known


async def queue_targets(tenant: Tenant, principal: Principal) -> list[Target]:
    """The principal's queues, from their grants; grants naming an org outside the tenant give none."""
    grants = [grant for grant in principal.grants if grant.role in QUEUE_ROLES]
    if not grants or principal.tenant_id != tenant.id:
        return []
    ids = await _org_ids_of(tenant, {grant.org_code for grant in grants})
    return [
        Target(ids[grant.org_code], grant.org_code, grant.org_name, grant.role)
        for grant in grants
        if grant.org_code in ids
    ]


async def procedure_titles(tenant: Tenant, procedures: Sequence[Procedure]) -> dict[Procedure, str]:
    """The tabs' titles: each procedure's title in the tenant's definition."""
    cached = _titles.get(tenant.id)
    if cached and monotonic() - cached[0] < CACHE_SECONDS and set(procedures) <= set(cached[1]):
        return cached[1]
    definitions = await asyncio.gather(*(procedure_definition(tenant, procedure) for procedure in procedures))
    titles = {
        procedure: definition.title if definition else procedure.label
        for procedure, definition in zip(procedures, definitions, strict=True)
    }
    _titles[tenant.id] = (monotonic(), titles)
    return titles


def in_queue(targets: Sequence[Target], row: Mapping[str, Any]) -> bool:
    """Whether a case row waits in one of ``targets``."""
    if row.get("state") not in {state.value for state in QUEUE_STATES}:
        return False
    return any(
        t.org_id == row.get("current_org") and t.role.value == row.get("current_role") for t in targets
    )


# --- filters and the keyset cursor -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the (queued_at, id) of its last case. Written as ``<µs since 1970>-<id>``."""

    queued_at: datetime
    case_id: int

    def __str__(self) -> str:
        micros = (self.queued_at - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}-{self.case_id}"

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        match = re.fullmatch(r"(\d{1,17})-(\d{1,12})", text or "")
        if match is None:
            return None
        return cls(_EPOCH + timedelta(microseconds=int(match.group(1))), int(match.group(2)))

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Cursor:
        return cls(_aware(row["queued_at"]), int(row["id"]))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class QueueFilters:
    procedure: Procedure
    state: State | None = None
    level: str = ""
    series: str = ""
    submitted_from: date | None = None
    submitted_to: date | None = None
    q: str = ""
    after: Cursor | None = None

    def params(self, *, after: Cursor | None = None, **changes: Any) -> dict[str, str]:
        """The query parameters that give these filters back (``after`` only when passed)."""
        current = replace(self, **changes) if changes else self
        params = {
            "procedure": current.procedure.value,
            "state": current.state.value if current.state else "",
            "level": current.level,
            "series": current.series,
            "from": current.submitted_from.isoformat() if current.submitted_from else "",
            "to": current.submitted_to.isoformat() if current.submitted_to else "",
            "q": current.q,
            "after": str(after) if after else "",
        }
        return {key: value for key, value in params.items() if value}

    def query_string(self, *, after: Cursor | None = None, **changes: Any) -> str:
        params = self.params(after=after, **changes)
        return "?" + urlencode(params) if params else ""

    @property
    def narrowed(self) -> bool:
        """Whether anything beyond the tab narrows the list."""
        return bool(
            self.state or self.level or self.series or self.submitted_from or self.submitted_to or self.q
        )


@dataclass(frozen=True)
class ParsedFilters:
    filters: QueueFilters
    form: dict[str, str]  # the raw input, to refill the filter form
    errors: dict[str, str] = field(default_factory=dict)


def _date(raw: str, label: str, errors: dict[str, str], name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = f"{label}应为日期，如 2026-11-25"
        return None


def parse_filters(
    params: Mapping[str, str],
    offered: Sequence[Procedure],
    series: Sequence[str],
    default: Procedure | None = None,
) -> ParsedFilters:
    """The filters of a queue request. A wrong value is reported for its field and left out of the filter,
    so the list still shows; unknown procedures fall back to ``default`` (the first tab with work)."""
    form = {
        key: (params.get(key) or "").strip()
        for key in ("procedure", "state", "level", "series", "from", "to", "q")
    }
    errors: dict[str, str] = {}
    by_value = {procedure.value: procedure for procedure in offered}
    procedure = by_value.get(form["procedure"]) or default or (offered[0] if offered else Procedure.reissue)
    form["procedure"] = procedure.value
    state = None
    if form["state"]:
        if form["state"] in {s.value for s in QUEUE_STATES}:
            state = State(form["state"])
        else:
            errors["state"] = "请从列表中选择状态"
    level = ""
    if form["level"]:
        if form["level"] in {item.value for item in Level}:
            level = form["level"]
        else:
            errors["level"] = "请从列表中选择级别"
    chosen_series = ""
    if form["series"]:
        if form["series"] in series:
            chosen_series = form["series"]
        else:
            errors["series"] = "请从列表中选择职称系列"
    submitted_from = _date(form["from"], "提交日期（起）", errors, "from")
    submitted_to = _date(form["to"], "提交日期（止）", errors, "to")
    if submitted_from and submitted_to and submitted_from > submitted_to:
        errors["to"] = "结束日期不能早于开始日期"
        submitted_to = None
    q = " ".join(form["q"].split())
    if len(q) > Q_MAX:
        errors["q"] = f"姓名或身份证后四位最多{Q_MAX}个字"
        q = ""
    return ParsedFilters(
        QueueFilters(
            procedure=procedure,
            state=state,
            level=level,
            series=chosen_series,
            submitted_from=submitted_from,
            submitted_to=submitted_to,
            q=q,
            after=Cursor.parse(params.get("after") or ""),
        ),
        form,
        errors,
    )


def _china_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=CHINA)


# --- one page ----------------------------------------------------------------------------------------------

ROW_COLUMNS = (
    Case.id,
    Case.version,
    Case.procedure,
    Case.state,
    Case.holder_name,
    Case.holder_id_tail,
    Case.level,
    Case.series,
    Case.plan,
    Case.step,
    Case.current_org,
    Case.current_role,
    Case.queued_at,
)


@dataclass(frozen=True)
class QueueRow:
    id: int
    version: int
    procedure: Procedure
    state: State
    holder_name: str
    holder_id_tail: str
    level: str
    series: str
    step_label: str
    batch_day: int | None
    queued_at: datetime

    @property
    def masked_tail(self) -> str:
        return f"****{self.holder_id_tail}" if self.holder_id_tail else ""

    @property
    def level_label(self) -> str:
        return Level(self.level).label if self.level in Level.__members__ else self.level

    @property
    def waiting_since(self) -> str:
        return _aware(self.queued_at).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _row(row: Mapping[str, Any]) -> QueueRow:
    plan = row["plan"] or []
    step = plan[row["step"]] if 0 <= row["step"] < len(plan) else {}
    return QueueRow(
        id=row["id"],
        version=row["version"],
        procedure=Procedure(row["procedure"]),
        state=State(row["state"]),
        holder_name=row["holder_name"],
        holder_id_tail=row["holder_id_tail"],
        level=row["level"],
        series=row["series"],
        step_label=step.get("label", ""),
        batch_day=step.get("batch_day"),
        queued_at=row["queued_at"],
    )


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_cursor: Cursor | None  # set when there are more cases after this page

    @property
    def batch_days(self) -> set[int]:
        """The monthly batch days (day of the month) of the page's cases waiting at a batch-day step."""
        return {row.batch_day for row in self.rows if row.batch_day is not None}

    @property
    def batch(self) -> bool:
        """Whether the page's cases wait at a batch-day step (the reissue sealer): rows get checkboxes."""
        return bool(self.batch_days)


def _target_query(
    tenant: Tenant, target: Target, filters: QueueFilters, after: Cursor | None, limit: int
) -> Any:
    query = scoped(Case, tenant, *ROW_COLUMNS).where(
        Case.current_org == target.org_id,
        Case.current_role == target.role.value,
        Case.procedure == filters.procedure.value,
    )
    if filters.state:
        query = query.where(Case.state == filters.state.value)
    # Without a chosen state there is no condition on it: current_org/current_role are set only while the
    # case waits (in review or approved). A "state IN (…)" here would let PostgreSQL's generic plan for the
    # prepared statement pick case_file_queue_state and sort the whole queue (tens of ms for 25,000 cases)
    # instead of reading case_file_queue in order; _rows still drops any row that is not waiting.
    if after is not None:
        # ``queued_at >= t`` bounds the index range; the OR then skips the cases of that very instant.
        query = query.where(
            Case.queued_at >= after.queued_at,
            (Case.queued_at > after.queued_at) | (Case.id > after.case_id),
        )
    if filters.level:
        query = query.where(Case.level == filters.level)
    if filters.series:
        query = query.where(Case.series == filters.series)
    if filters.submitted_from:
        query = query.where(Case.submitted_at >= _china_midnight(filters.submitted_from))
    if filters.submitted_to:
        query = query.where(Case.submitted_at < _china_midnight(filters.submitted_to + timedelta(days=1)))
    if filters.q:
        query = query.where(holder_matches(filters.q))
    return query.order_by(Case.queued_at, Case.id).limit(limit).output(load_json=True)


def _after_prefix(prefix: str) -> str | None:
    """The first string after every string that starts with ``prefix``, in code-point order."""
    for cut in range(len(prefix) - 1, -1, -1):
        following = ord(prefix[cut]) + 1
        if 0xD800 <= following <= 0xDFFF:  # surrogates cannot be stored; skip to the next character
            following = 0xE000
        if following <= 0x10FFFF:
            return prefix[:cut] + chr(following)
    return None


def holder_matches(q: str) -> Any:
    """The cases whose holder ``q`` names: the last four ID digits, or a name or its first characters."""
    if ID_TAIL.match(q):
        return Case.holder_id_tail == q.upper()
    return _name_prefix(q)


def _name_prefix(prefix: str) -> Any:
    """Names that are ``prefix`` or start with it (a full name, or a surname), as a range of the index
    case_file_queue_name in code-point order (COLLATE "C" on PostgreSQL, SQLite's BINARY by default)."""
    upper = _after_prefix(prefix)
    if Case._meta.db.engine_type == "postgres":
        condition = WhereRaw('"case_file"."holder_name" COLLATE "C" >= {}', prefix)
        if upper is not None:
            condition = condition & WhereRaw('"case_file"."holder_name" COLLATE "C" < {}', upper)
        return condition
    condition = Case.holder_name >= prefix
    return condition & (Case.holder_name < upper) if upper is not None else condition


async def _rows(
    tenant: Tenant, targets: Sequence[Target], filters: QueueFilters, after: Cursor | None, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` waiting cases after ``after``, in queue order over all of ``targets`` (one index range
    scan per queue, merged here)."""
    rows: list[dict[str, Any]] = []
    waiting = {state.value for state in QUEUE_STATES}
    for target in targets:
        rows += [
            row
            for row in await _target_query(tenant, target, filters, after, limit)
            if row["state"] in waiting
        ]
    if len(targets) > 1:
        rows.sort(key=lambda row: (_aware(row["queued_at"]), row["id"]))
    return rows[:limit]


async def waiting_page(
    tenant: Tenant, targets: Sequence[Target], filters: QueueFilters, page_size: int = PAGE_SIZE
) -> QueuePage:
    """One page of the cases waiting for ``targets`` in the filters' procedure, oldest first."""
    if not targets:
        return QueuePage([], None)
    rows = await _rows(tenant, targets, filters, filters.after, page_size + 1)
    more = len(rows) > page_size
    rows = rows[:page_size]
    return QueuePage([_row(row) for row in rows], Cursor.of(rows[-1]) if more and rows else None)


async def next_waiting(
    tenant: Tenant, targets: Sequence[Target], filters: QueueFilters, after: Cursor, exclude: int
) -> int | None:
    """The case to open after acting on the one at ``after``: the next in queue order, else the first."""
    for start in (after, None):
        rows = await _rows(tenant, targets, filters, start, 2)
        for row in rows:
            if row["id"] != exclude:
                return int(row["id"])
    return None


# --- counts ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    value: int
    capped: bool  # there are more than ``value``

    def __str__(self) -> str:
        return f"{self.value}+" if self.capped else str(self.value)

    def __bool__(self) -> bool:
        return self.value > 0


def _count(value: int, cap: int) -> Count:
    return Count(cap, True) if value > cap else Count(value, False)


@dataclass(frozen=True)
class QueueCounts:
    by_procedure: dict[Procedure, Count]
    by_state: dict[tuple[Procedure, State], Count]

    def procedure(self, procedure: Procedure) -> Count:
        return self.by_procedure.get(procedure, Count(0, False))

    def state(self, procedure: Procedure, state: State) -> Count:
        return self.by_state.get((procedure, state), Count(0, False))

    def first_with_work(self, procedures: Sequence[Procedure]) -> Procedure | None:
        return next((procedure for procedure in procedures if self.procedure(procedure)), None)


async def queue_counts(
    tenant: Tenant, targets: Sequence[Target], procedures: Sequence[Procedure], cap: int = COUNT_CAP
) -> QueueCounts:
    """How many cases wait per procedure and per state, each counted up to ``cap`` (then shown "1000+"),
    in one statement: one capped index range per (queue, procedure, state)."""
    combos = [(t, p, s) for t in targets for p in procedures for s in QUEUE_STATES]
    if not combos:
        return QueueCounts({}, {})
    parts, args = [], []
    for index, (target, procedure, state) in enumerate(combos):
        # Quoted names: unquoted, PostgreSQL reads current_role as the SQL function of that name.
        # The org ids come from this tenant's orgs (queue_targets), which scopes these counts to the tenant
        # without reading the table rows: the counts stay inside the index.
        parts.append(
            f'SELECT {index} AS k, COUNT(*) AS n FROM (SELECT 1 FROM "case_file" '
            f'WHERE "current_org" = {{}} AND "current_role" = {{}} AND "procedure" = {{}} AND "state" = {{}} '
            f"LIMIT {cap + 1}) AS c{index}"
        )
        args += [target.org_id, target.role.value, procedure.value, state.value]
    rows = await Case.raw(" UNION ALL ".join(parts), *args)
    raw_state: dict[tuple[Procedure, State], int] = {}
    for row in rows:
        _, procedure, state = combos[row["k"]]
        raw_state[(procedure, state)] = raw_state.get((procedure, state), 0) + int(row["n"])
    by_state = {key: _count(value, cap) for key, value in raw_state.items()}
    by_procedure = {}
    for procedure in procedures:
        total = sum(raw_state.get((procedure, state), 0) for state in QUEUE_STATES)
        by_procedure[procedure] = _count(total, cap)
    return QueueCounts(by_procedure, by_state)


async def cases_in_queue(
    tenant: Tenant, targets: Sequence[Target], case_ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """The rows (id, holder name and ID tail) of those of ``case_ids`` that wait in ``targets``."""
    if not case_ids or not targets:
        return {}
    rows = await scoped(
        Case,
        tenant,
        Case.id,
        Case.state,
        Case.current_org,
        Case.current_role,
        Case.holder_name,
        Case.holder_id_tail,
    ).where(Case.id.is_in(list(case_ids)))
    return {row["id"]: row for row in rows if in_queue(targets, row)}
