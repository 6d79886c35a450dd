"""Exports of cases as tables for the offices (issue 4 item 7, docs/exports.md): plain functions, no HTTP.

Which cases go in follows from the procedure's data, never from a tenant's name:

- A procedure whose cases end in a certificate exports a **unit summary table** (单位汇总表, the shape of
  原人社函〔2021〕85号 附件2): the cases of one unit — the case's employer — that the unit has passed on: in
  review at a step after the unit's own steps, approved, or completed. The unit's administrator (org_admin of
  that org) exports its own table; staff of any org above it may export the table of any unit below.
- A procedure whose cases end "collected" exports the **collected records** (甘人社通〔2021〕166号 三:
  最后经省职改办审核提交人社部): completed cases only, optionally limited to the units under one org and to
  a range of completion dates.

Only procedures with ``export_columns`` (the preset's ``export:`` list of heading/field pairs) have an export.
The columns are 序号 followed by those columns; values read as on the case pages (``display_value``: orgs
by name, levels and routes by label, flags 是/否), dates as 2019.12.12 in the xlsx (as the 附件2 sample)
and ISO in the CSV, a column whose field the form does not have (备注 → ``remark``) blank. ``id_number`` is
the holder's full number, decrypted: the tables go to the offices and on to the region or the ministry. So
only staff of the right orgs may export, and every export is an audit event (``case.export``) with its
filter and count.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import IO, Any

import anyio.to_thread
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.properties import PageSetupProperties

from accounts.roles import AccountKind, Role
from accounts.services import actor_of
from accounts.sessions import Grant, Principal
from audit.services import record
from cases.forms import display_value
from cases.services import holder_id_number
from cases.tables import Case
from cases.workflow import State
from core import web
from core.spreadsheets import spreadsheet_row
from tenants import calendar
from tenants.authority import OrgNode, OrgTree
from tenants.procedures import (
    EMPLOYER_FIELD,
    ID_NUMBER_FIELD,
    Completion,
    FieldSpec,
    FieldType,
    ProcedureDefinition,
)
from tenants.services import org_ids, org_tree, procedure_definition, scoped
from tenants.tables import Tenant
from tenants.vocabulary import OrgKind, Procedure

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv"  # Litestar adds "; charset=utf-8" to text types
SERIAL_HEADING = "序号"
CHUNK = 500  # cases read (and decrypted) per query
SPOOL_BYTES = 8 * 1024 * 1024  # an xlsx larger than this is spooled to a temporary file
STREAM_CHUNK = 64 * 1024
WIDTH_MIN, WIDTH_MAX = 8, 40  # Excel character units; blank columns (备注) keep room to write in

# The cases a unit may have passed on (what is left is drafts, returns and refusals).
PASSED_STATES = (State.in_review.value, State.approved.value, State.completed.value)


class ExportFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"

    @property
    def media_type(self) -> str:
        return XLSX_MEDIA_TYPE if self is ExportFormat.xlsx else CSV_MEDIA_TYPE


class ExportKind(StrEnum):
    unit_summary = "unit_summary"
    collected_records = "collected_records"

    @property
    def label(self) -> str:
        return "单位汇总表" if self is ExportKind.unit_summary else "已办结信息报送表"


class ExportError(ValueError):
    """Why an export cannot be made, in Chinese; ``status`` 404 (no such export), 403 (not yours) or 422
    (a bad choice in the form, named by ``field``)."""

    def __init__(self, message: str, *, status: int = 422, field: str | None = None) -> None:
        self.message, self.status, self.field = message, status, field
        super().__init__(message)


def export_kind(definition: ProcedureDefinition) -> ExportKind:
    if definition.completion is Completion.collected:
        return ExportKind.collected_records
    return ExportKind.unit_summary


def unit_kinds(definition: ProcedureDefinition) -> frozenset[OrgKind]:
    """The kinds of org a case's unit (its employer) can be: the employer field's, else the filers'."""
    spec = definition.field(EMPLOYER_FIELD)
    if spec is not None and spec.type is FieldType.org:
        return frozenset(spec.org_kinds)
    return frozenset(kind for filer in definition.filers for kind in filer.org_kinds)


@dataclass(frozen=True)
class Layout:
    title: str
    unit_label: str
    signatures: tuple[tuple[str, ...], ...]


def layout(definition: ProcedureDefinition) -> Layout:
    """Title and signature lines come from the definition (原人社函〔2021〕85号 附件2 for Ningxia)."""
    kind = export_kind(definition)
    title = definition.export_title or (
        f"{definition.title}人员信息汇总表"
        if kind is ExportKind.unit_summary
        else f"{definition.title}汇总表"
    )
    label = "单位名称(盖章)" if kind is ExportKind.unit_summary else "单位名称"
    return Layout(title=title, unit_label=label, signatures=definition.export_signatures)


# --- who may export what --------------------------------------------------------------------------


def authorizing_grant(
    principal: Principal, tree: OrgTree, code: str, units: frozenset[OrgKind]
) -> Grant | None:
    """The grant that lets ``principal`` export for org ``code``, if any: the tenant's administrator for any
    org; staff of any org above it; at the org itself its administrator (org_admin) — and any staff of it
    when it is not a unit (an office exporting its own jurisdiction)."""
    if principal.kind is not AccountKind.staff or code not in tree:
        return None
    for grant in principal.grants:
        if grant.role is Role.tenant_admin:
            return grant
    for grant in principal.grants:
        if grant.org_code == code and (grant.role is Role.org_admin or tree[code].kind not in units):
            return grant
    above = {node.code for node in tree.chain(code)[1:]}
    return next((grant for grant in principal.grants if grant.org_code in above), None)


def export_scope(principal: Principal, tree: OrgTree, units: frozenset[OrgKind]) -> list[OrgNode]:
    """Every org ``principal`` may export for, in the tree's order."""
    if principal.kind is not AccountKind.staff:
        return []
    if any(grant.role is Role.tenant_admin for grant in principal.grants):
        return list(tree.nodes.values())
    allowed: set[str] = set()
    for grant in principal.grants:
        if grant.org_code not in tree:
            continue
        allowed.update(tree.descendants(grant.org_code))
        if grant.role is Role.org_admin or tree[grant.org_code].kind not in units:
            allowed.add(grant.org_code)
    return [node for node in tree.nodes.values() if node.code in allowed]


def _root(tree: OrgTree) -> str:
    return next(node.code for node in tree.nodes.values() if node.parent is None)


def default_org(
    principal: Principal, tree: OrgTree, kind: ExportKind, units: frozenset[OrgKind]
) -> str | None:
    """The org an export is for when none was chosen: the unit of a unit administrator who administers just
    one; for the collected records, the highest org the principal may export for."""
    if kind is ExportKind.unit_summary:
        mine = {
            grant.org_code
            for grant in principal.grants
            if grant.role is Role.org_admin and grant.org_code in tree and tree[grant.org_code].kind in units
        }
        return next(iter(mine)) if len(mine) == 1 else None
    if principal.kind is not AccountKind.staff:
        return None
    if any(grant.role is Role.tenant_admin for grant in principal.grants):
        return _root(tree)
    candidates = [
        grant.org_code
        for grant in principal.grants
        if grant.org_code in tree and authorizing_grant(principal, tree, grant.org_code, units)
    ]
    return min(candidates, key=lambda code: len(tree.chain(code)), default=None)


# --- which cases ----------------------------------------------------------------------------------


def passed_on(state: str, step: int, plan: Sequence[dict[str, Any]], unit: str) -> bool:
    """Whether the unit has passed the case on: approved or completed, or in review at a step after the
    unit's own steps (a case whose chain has no step at the unit went straight past it)."""
    if state in (State.approved.value, State.completed.value):
        return True
    if state != State.in_review.value:
        return False
    own = [index for index, planned in enumerate(plan) if planned.get("org") == unit]
    return not own or step > max(own)


def _china_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=calendar.CHINA).astimezone(UTC)


async def _unit_case_ids(tenant: Tenant, procedure: Procedure, unit: str) -> list[int]:
    unit_id = (await org_ids(tenant))[unit]
    rows = (
        await scoped(Case, tenant, Case.id, Case.state, Case.step, Case.plan)
        .where(
            Case.procedure == procedure.value,
            Case.employer == unit_id,
            Case.state.is_in(list(PASSED_STATES)),
        )
        .order_by(Case.id)
        .output(load_json=True)
    )
    return [row["id"] for row in rows if passed_on(row["state"], row["step"], row["plan"] or [], unit)]


async def _collected_case_ids(
    tenant: Tenant,
    procedure: Procedure,
    tree: OrgTree,
    org: str,
    since: date | None,
    until: date | None,
) -> list[int]:
    query = scoped(Case, tenant, Case.id).where(
        Case.procedure == procedure.value, Case.state == State.completed.value
    )
    if tree[org].parent is not None:  # the root's jurisdiction is everything
        ids = await org_ids(tenant)
        query = query.where(Case.employer.is_in([ids[code] for code in [org, *tree.descendants(org)]]))
    if since is not None:
        query = query.where(Case.completed_at >= _china_midnight(since))
    if until is not None:
        query = query.where(Case.completed_at < _china_midnight(until + timedelta(days=1)))
    return [row["id"] for row in await query.order_by(Case.completed_at).order_by(Case.id)]


async def _codes_with_cases(tenant: Tenant, procedure: Procedure, states: Iterable[str]) -> set[str]:
    rows = (
        await scoped(Case, tenant, Case.employer.code.as_alias("code"))
        .where(Case.procedure == procedure.value, Case.state.is_in(list(states)))
        .distinct()
    )
    return {row["code"] for row in rows if row["code"]}


# --- the export page's choices --------------------------------------------------------------------


@dataclass(frozen=True)
class ExportChoice:
    definition: ProcedureDefinition
    kind: ExportKind
    headings: tuple[str, ...]
    orgs: tuple[OrgNode, ...]  # what the principal may choose, in the tree's order
    default: str | None


async def exportable(tenant: Tenant) -> list[ProcedureDefinition]:
    """The tenant's procedures that have an export, in the tenant's order."""
    found = []
    for value in tenant.procedures:
        definition = await procedure_definition(tenant, Procedure(value))
        if definition is not None and definition.export_columns:
            found.append(definition)
    return found


async def export_choices(tenant: Tenant, principal: Principal) -> list[ExportChoice]:
    """Per procedure with an export: the units (unit summary) or orgs (collected records) ``principal`` may
    export for — units only where there is something to export."""
    tree = await org_tree(tenant)
    choices = []
    for definition in await exportable(tenant):
        kind, units = export_kind(definition), unit_kinds(definition)
        scope = export_scope(principal, tree, units)
        default = default_org(principal, tree, kind, units)
        if kind is ExportKind.unit_summary:
            with_cases = await _codes_with_cases(tenant, definition.procedure, PASSED_STATES)
            orgs = [node for node in scope if node.kind in units and node.code in with_cases]
        else:
            # The orgs with completed records at or below them (and the principal's own), not every
            # committee or bureau of the tree.
            with_cases = await _codes_with_cases(tenant, definition.procedure, [State.completed.value])
            relevant = {node.code for code in with_cases if code in tree for node in tree.chain(code)}
            orgs = [node for node in scope if node.code in relevant or node.code == default]
        choices.append(
            ExportChoice(
                definition=definition,
                kind=kind,
                headings=(SERIAL_HEADING, *(heading for heading, _ in definition.export_columns)),
                orgs=tuple(orgs),
                default=default,
            )
        )
    return choices


# --- making an export -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    definition: ProcedureDefinition
    kind: ExportKind
    tree: OrgTree
    org: OrgNode
    since: date | None
    until: date | None
    case_ids: tuple[int, ...]
    exported_on: date
    layout: Layout

    @property
    def procedure(self) -> Procedure:
        return self.definition.procedure

    @property
    def count(self) -> int:
        return len(self.case_ids)

    @property
    def headings(self) -> tuple[str, ...]:
        return (SERIAL_HEADING, *(heading for heading, _ in self.definition.export_columns))

    @property
    def unit_line(self) -> str:
        line = f"{self.layout.unit_label}：{self.org.name}"
        if self.since or self.until:
            start = self.since.isoformat() if self.since else "最早"
            end = self.until.isoformat() if self.until else "至今"
            line += f"（办结日期 {start} 至 {end}）"
        return line

    @property
    def date_line(self) -> str:
        day = self.exported_on
        return f"{day.year}年{day.month}月{day.day}日"


def _day(raw: str | None, field: str) -> date | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ExportError("日期格式应为 YYYY-MM-DD，如 2021-05-31", field=field) from None


async def open_export(
    tenant: Tenant,
    principal: Principal,
    procedure: str,
    fmt: ExportFormat,
    *,
    org: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Export:
    """Checks the request, selects the cases and records the export in the audit log. ``org`` is the unit
    (unit summary) or the org whose units' records are wanted (collected records; default: the highest the
    principal may export for); ``since``/``until`` limit the collected records by completion date (China
    time, inclusive)."""
    try:
        wanted = Procedure(procedure)
    except ValueError:
        raise ExportError("没有该事项", status=404) from None
    definition = await procedure_definition(tenant, wanted) if wanted.value in tenant.procedures else None
    if definition is None or not definition.export_columns:
        raise ExportError("该事项没有导出表", status=404)
    kind, units = export_kind(definition), unit_kinds(definition)
    tree = await org_tree(tenant)
    start = end = None
    if kind is ExportKind.collected_records:
        start, end = _day(since, "from"), _day(until, "to")
        if start and end and start > end:
            raise ExportError("开始日期不能晚于结束日期", field="from")
    code = (org or "").strip() or default_org(principal, tree, kind, units)
    if not code:
        raise ExportError("请选择单位", field="org")
    if code not in tree:
        raise ExportError("没有该单位", field="org")
    if kind is ExportKind.unit_summary and tree[code].kind not in units:
        raise ExportError(f"“{definition.title}”的汇总表按单位导出，请选择一个单位", field="org")
    grant = authorizing_grant(principal, tree, code, units)
    if grant is None:
        raise ExportError(f"您无权导出{tree[code].name}的数据", status=403)
    if kind is ExportKind.unit_summary:
        ids = await _unit_case_ids(tenant, wanted, code)
    else:
        ids = await _collected_case_ids(tenant, wanted, tree, code, start, end)
    await record(
        tenant,
        actor_of(principal, grant.role, grant.org_code),
        "case.export",
        f"procedure:{wanted.value}",
        {
            "format": fmt.value,
            "kind": kind.value,
            "org": code,
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
            "count": len(ids),
        },
    )
    return Export(
        definition=definition,
        kind=kind,
        tree=tree,
        org=tree[code],
        since=start,
        until=end,
        case_ids=tuple(ids),
        exported_on=calendar.today_in_china(),
        layout=layout(definition),
    )


def cell_text(
    field: str,
    spec: FieldSpec | None,
    values: dict[str, Any],
    id_number: str | None,
    tree: OrgTree,
    fmt: ExportFormat,
) -> str:
    if field == ID_NUMBER_FIELD:
        return id_number or ""
    if spec is None:  # a column the form has no field for (备注): blank
        return ""
    value = values.get(field)
    if spec.type is FieldType.date and value:
        day = date.fromisoformat(str(value))
        return day.isoformat() if fmt is ExportFormat.csv else f"{day.year}.{day.month:02d}.{day.day:02d}"
    return display_value(spec, value, tree)


async def export_rows(tenant: Tenant, export: Export, fmt: ExportFormat) -> AsyncIterator[list[list[Any]]]:
    """The table's rows in batches: 序号 then one text per column."""
    columns = [(field, export.definition.field(field)) for _, field in export.definition.export_columns]
    serial = 0
    for start in range(0, len(export.case_ids), CHUNK):
        chunk = export.case_ids[start : start + CHUNK]
        rows = (
            await scoped(Case, tenant, Case.id, Case.data, Case.holder_id_cipher)
            .where(Case.id.is_in(list(chunk)))
            .output(load_json=True)
        )
        by_id = {row["id"]: row for row in rows}
        batch = []
        for case_id in chunk:
            row = by_id.get(case_id)
            if row is None:
                continue
            serial += 1
            values = dict(row["data"] or {})
            id_number = holder_id_number(tenant, row)
            batch.append(
                [serial, *(cell_text(f, spec, values, id_number, export.tree, fmt) for f, spec in columns)]
            )
        yield batch


# --- xlsx -----------------------------------------------------------------------------------------

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center")
SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
PAPER_A4 = "9"  # the paper size code of SpreadsheetML


def display_width(text: str) -> int:
    """Width in Excel's character units: a Chinese character counts twice."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


class _SheetWriter:
    """Writes the table into a write-only worksheet (rows go to disk as they come), keeping count of rows
    for the merged ranges."""

    def __init__(self, sheet: Any, columns: int) -> None:
        self.sheet, self.columns, self.row = sheet, columns, 0

    def _cell(self, value: Any, **style: Any) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # never a formula, whatever the text starts with
        for name, setting in style.items():
            setattr(cell, name, setting)
        return cell

    def _merge(self, first: int, last: int) -> None:
        if last > first:
            self.sheet.merged_cells.add(
                CellRange(min_col=first, min_row=self.row, max_col=last, max_row=self.row)
            )

    def spread(self, items: Sequence[str], **style: Any) -> None:
        """One row whose items share the width, each merged over its group of columns."""
        size = max(1, self.columns // len(items))
        cells: list[Any] = []
        groups = []
        for index, item in enumerate(items):
            first = index * size + 1
            last = self.columns if index == len(items) - 1 else min(self.columns, first + size - 1)
            cells += [self._cell(item, **style)] + [None] * (last - first)
            groups.append((first, last))
        self.sheet.append(cells)
        self.row += 1
        for first, last in groups:
            self._merge(first, last)

    def head(self, title: str, unit_line: str, date_line: str, headings: Sequence[str]) -> None:
        self.sheet.append([self._cell(title, font=Font(bold=True, size=16), alignment=CENTER)])
        self.row += 1
        self._merge(1, self.columns)
        date_columns = min(3, self.columns - 1) if self.columns > 1 else 0
        unit_cells: list[Any] = [self._cell(unit_line, alignment=LEFT)]
        unit_cells += [None] * (self.columns - date_columns - 1)
        if date_columns:
            unit_cells += [self._cell(date_line, alignment=RIGHT)] + [None] * (date_columns - 1)
        self.sheet.append(unit_cells)
        self.row += 1
        self._merge(1, self.columns - date_columns)
        if date_columns:
            self._merge(self.columns - date_columns + 1, self.columns)
        font = Font(bold=True)
        self.sheet.append(
            [
                self._cell(heading, font=font, alignment=CENTER, border=BORDER, fill=HEADER_FILL)
                for heading in headings
            ]
        )
        self.row += 1

    def rows(self, batch: Sequence[Sequence[Any]]) -> None:
        for values in batch:
            cells = [self._cell(values[0], alignment=CENTER, border=BORDER)]
            cells += [
                self._cell(value, alignment=LEFT, border=BORDER, number_format="@")
                for value in spreadsheet_row(values[1:])
            ]
            self.sheet.append(cells)
            self.row += 1

    def foot(self, signatures: Sequence[Sequence[str]]) -> None:
        if not signatures:
            return
        self.sheet.append([])
        self.row += 1
        for line in signatures:
            self.spread(line, alignment=LEFT)


def _column_widths(headings: Sequence[str], sample: Sequence[Sequence[Any]]) -> list[float]:
    widths = []
    for index, heading in enumerate(headings):
        texts = [heading, *(str(row[index]) for row in sample)]
        widths.append(float(min(WIDTH_MAX, max(WIDTH_MIN, max(display_width(t) for t in texts) + 2))))
    return widths


async def write_xlsx(tenant: Tenant, export: Export) -> IO[bytes]:
    """The export as an xlsx file, positioned at its start: title merged over the columns, the unit/date
    line, the bold heading row, the rows (text cells, so Excel keeps 18-digit ID numbers), the signature
    line. Column widths come from the headings and the first batch of rows."""
    rows = export_rows(tenant, export, ExportFormat.xlsx)
    first = await anext(rows, [])
    book = Workbook(write_only=True)
    title = SHEET_TITLE_FORBIDDEN.sub("", export.definition.title)[:31] or "导出"
    sheet = book.create_sheet(title=title)
    headings = export.headings
    for index, width in enumerate(_column_widths(headings, first), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A4"
    sheet.print_title_rows = "3:3"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = PAPER_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    writer = _SheetWriter(sheet, len(headings))
    await anyio.to_thread.run_sync(
        writer.head, export.layout.title, export.unit_line, export.date_line, headings
    )
    await anyio.to_thread.run_sync(writer.rows, first)
    async for batch in rows:
        await anyio.to_thread.run_sync(writer.rows, batch)
    await anyio.to_thread.run_sync(writer.foot, export.layout.signatures)
    output = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 — closed by file_chunks
    await anyio.to_thread.run_sync(book.save, output)
    output.seek(0)
    return output


async def file_chunks(output: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(output.read, STREAM_CHUNK):
            yield chunk
    finally:
        output.close()


# --- CSV ------------------------------------------------------------------------------------------


async def csv_chunks(tenant: Tenant, export: Export) -> AsyncIterator[bytes]:
    """The export as CSV in UTF-8 with a byte-order mark (so Excel reads the Chinese), header row first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(export.headings)
    yield ("\ufeff" + buffer.getvalue()).encode()
    async for batch in export_rows(tenant, export, ExportFormat.csv):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(spreadsheet_row(row) for row in batch)
        yield buffer.getvalue().encode()


# --- the download's name --------------------------------------------------------------------------

UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
UNSAFE_UNICODE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def download_names(export: Export, fmt: ExportFormat) -> tuple[str, str]:
    """(ASCII fallback, Chinese name) of the file."""
    stamp = f"{export.exported_on:%Y%m%d}"
    plain = UNSAFE_NAME.sub("_", f"{export.procedure.value}-{export.org.code}-{stamp}.{fmt.value}")
    chinese = UNSAFE_UNICODE_NAME.sub("_", f"{export.layout.title}-{export.org.name}-{stamp}.{fmt.value}")
    return plain, chinese


def content_disposition(export: Export, fmt: ExportFormat) -> str:
    plain, chinese = download_names(export, fmt)
    return web.content_disposition("attachment", plain, chinese)
