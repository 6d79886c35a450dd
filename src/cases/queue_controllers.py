"""HTTP surface of the reviewer queue: the list of cases waiting for the signed-in staff member, the detail
pane beside it, the decision on one case and the sealer's batch. Each handler answers both the full page and
(for htmx) the piece it swaps, from the one template ``cases/queue.html``; the rules live in cases.services
and the queries in cases.queue.

Only cases waiting in the principal's own queues (their grants' org and role, in this tenant) are listed,
opened or acted on; anything else is "not found".
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY

from accounts.identity import mask_id_number
from accounts.roles import Role
from accounts.sessions import Principal, save_session_data
from accounts.web import Access, require_principal
from cases import services
from cases.forms import display_value
from cases.queue import (
    QUEUE_STATES,
    Cursor,
    ParsedFilters,
    QueueCounts,
    QueueFilters,
    QueuePage,
    Target,
    cases_in_queue,
    in_queue,
    next_waiting,
    parse_filters,
    procedure_titles,
    queue_counts,
    queue_targets,
    waiting_page,
)
from cases.workflow import Action, State
from core.web import is_htmx, render
from tenants.calendar import CHINA
from tenants.controllers import TENANT_DEPENDENCIES
from tenants.procedures import ID_NUMBER_FIELD
from tenants.tables import Tenant
from tenants.vocabulary import Level, Procedure

TEMPLATE = "cases/queue.html"
NOTICE_KEY = "queue_notice"
DECISIONS = {
    "approve": Action.approve,
    "return": Action.return_,
    "refuse": Action.refuse,
    "recheck": Action.recheck,
}
BATCH_LIMIT = 200  # cases per batch request
NOT_YOURS = "案件不存在或不在您的待办中"


def _offered(tenant: Tenant) -> list[Procedure]:
    return [Procedure(value) for value in tenant.procedures if value in Procedure.__members__]


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


class QueueView:
    """What the list needs: the principal's queues, titles, capped counts, the filters and one page.

    Independent queries run together (asyncio.gather): on SQLite each query has its own connection, on
    PostgreSQL its own pooled one, so the list waits for one round trip (page, counts and titles at once;
    the queues' org ids and the titles are usually cached by cases.queue)."""

    def __init__(self, tenant: Tenant, principal: Principal, params: Mapping[str, Any]) -> None:
        self.tenant, self.principal = tenant, principal
        self.raw = {key: value for key, value in params.items() if isinstance(value, str)}
        self.offered = _offered(tenant)
        self.targets: list[Target] = []
        self.titles: dict[Procedure, str] = {}
        self.counts = QueueCounts({}, {})
        self.page: QueuePage | None = None
        self.closed_days: dict[int, str] = {}  # the page's batch days that are not today, with the reason
        self.parsed = self._parse(None)

    def _parse(self, default: Procedure | None) -> ParsedFilters:
        return parse_filters(self.raw, self.offered, list(self.tenant.series), default=default)

    @property
    def filters(self) -> QueueFilters:
        return self.parsed.filters

    @classmethod
    async def load(
        cls,
        tenant: Tenant,
        principal: Principal,
        params: Mapping[str, Any],
        *,
        listing: bool,
        with_page: bool,
    ) -> QueueView:
        """``listing``: the tabs (titles and counts); ``with_page``: the list's rows."""
        view = cls(tenant, principal, params)
        view.targets = await queue_targets(tenant, principal)
        await view.refresh(listing=listing, with_page=with_page)
        return view

    async def refresh(self, *, listing: bool, with_page: bool) -> None:
        """Counts and page as they are now (also after an action). Without a tab asked for, the list opens
        on the first procedure with work: its page is fetched with the counts, and again only when the
        counts point elsewhere."""
        jobs: list[Any] = []
        if with_page:
            jobs.append(waiting_page(self.tenant, self.targets, self.filters))
        if listing:
            jobs += [
                queue_counts(self.tenant, self.targets, self.offered),
                procedure_titles(self.tenant, self.offered),
            ]
        results = list(await asyncio.gather(*jobs))
        if with_page:
            self.page = results.pop(0)
        if listing:
            self.counts, self.titles = results
            busiest = self.counts.first_with_work(self.offered)
            asked = self.raw.get("procedure") in {procedure.value for procedure in self.offered}
            if not asked and busiest is not None and busiest != self.filters.procedure:
                self.parsed = self._parse(busiest)
                if with_page:
                    self.page = await waiting_page(self.tenant, self.targets, self.filters)
        if self.page is not None:
            self.closed_days = await services.closed_batch_days(self.tenant, self.page.batch_days)

    @property
    def batch_closed(self) -> str:
        """Why the page's batch sealing is disabled today (with the next batch day), or "" when it is not."""
        days = self.page.batch_days if self.page else set()
        if not days or not days <= self.closed_days.keys():
            return ""
        return "；".join(sorted({self.closed_days[day] for day in days}))

    def context(self) -> dict[str, Any]:
        filters = self.filters
        return {
            "tenant": self.tenant,
            "targets": self.targets,
            "counts": self.counts,
            "offered": self.offered,
            "titles": self.titles,
            "filters": filters,
            "form": self.parsed.form,
            "errors": self.parsed.errors,
            "qs": filters.query_string(after=filters.after),  # rows and pane keep the list's page
            "page": self.page,
            "closed_days": self.closed_days,
            "batch_closed": self.batch_closed,
            "levels": list(Level),
            "states": QUEUE_STATES,
            "series": list(self.tenant.series),
            "csrf_token": self.principal.csrf_token,
            "notice": "",
            "pane": None,
            "batch_results": None,
            "batch_error": "",
            "oob_list": False,
            "oob_tabs": False,
            "removed": None,
            "china": CHINA,
        }


async def _pane(
    tenant: Tenant,
    case: services.CaseRecord,
    principal: Principal,
    *,
    actionable: bool,
    reason: str = "",
    errors: dict[str, str] | None = None,
    message: str = "",
) -> dict[str, Any]:
    """The detail pane of one case: its values (the ID number in full only for whoever must 核对 it now),
    files, plan, history and the form."""
    values = services.form_values(tenant, case)
    full_id = services.checks_identity(case, principal)
    parts = []
    for part in case.definition.parts:
        shown = []
        for spec in part.fields:
            value = values.get(spec.name)
            if spec.name == ID_NUMBER_FIELD and value and not full_id:
                text = mask_id_number(str(value))
            else:
                text = display_value(spec, value, case.tree)
            shown.append((spec.label, text))
        parts.append((part.title, shown))
    stored, history = await asyncio.gather(
        services.attachments_of(tenant, case.id), services.case_events(tenant, case.id)
    )
    attachments = [(spec, stored.get(spec.slot)) for spec in case.definition.attachments]
    step = case.current_step
    closed = await services.closed_batch_days(tenant, [step.batch_day] if step and step.batch_day else [])
    plan = [
        {
            "index": index,
            "org": case.tree[item.org].name if item.org in case.tree else item.org,
            "role": item.role.label,
            "label": item.label,
            "current": step is not None and index == case.row["step"],
            "done": case.state is State.completed or (step is not None and index < case.row["step"]),
        }
        for index, item in enumerate(case.plan)
    ]
    events = []
    for event in history:
        events.append(
            {
                "at": event["at"],
                "actor": event["actor_name"],
                "org": event["org_name"] or "",
                "role": Role(event["role"]).label if event["role"] in Role.__members__ else "",
                "action": Action(event["action"]).label if event["action"] in Action.__members__ else "",
                "from": State(event["from_state"]).label,
                "to": State(event["to_state"]).label,
                "reason": event["reason"] or "",
            }
        )
    return {
        "case": case,
        "row": case.row,
        "state": case.state,
        "procedure_title": case.definition.title,
        "shown_id": (values[ID_NUMBER_FIELD] if full_id else mask_id_number(values[ID_NUMBER_FIELD]))
        if values.get(ID_NUMBER_FIELD)
        else "",
        "parts": parts,
        "attachments": attachments,
        "plan": plan,
        "step": step,
        "events": events,
        "actionable": actionable and step is not None,
        "can_recheck": step is not None and step.recheck_to is not None and case.state is State.in_review,
        "can_edit": step is not None and step.edit and case.state is State.in_review,
        # Not the batch day: the seal button is disabled with this reason (and the next batch day).
        "sealing_closed": closed.get(step.batch_day) if step and step.batch_day else None,
        "reason": reason,
        "errors": errors or {},
        "message": message,
    }


def _case_url(tenant: Tenant, case_id: int, filters: QueueFilters) -> str:
    return f"/t/{tenant.slug}/queue/{case_id}{filters.query_string(after=filters.after)}"


def _list_url(tenant: Tenant, filters: QueueFilters) -> str:
    return f"/t/{tenant.slug}/queue{filters.query_string(after=filters.after)}"


async def _take_notice(principal: Principal) -> str:
    """A message left by the previous request of a browser without JavaScript (after a redirect)."""
    notice = principal.data.get(NOTICE_KEY)
    if not notice:
        return ""
    await save_session_data(principal, {k: v for k, v in principal.data.items() if k != NOTICE_KEY})
    return str(notice)


async def _leave_notice(principal: Principal, notice: str) -> None:
    await save_session_data(principal, {**principal.data, NOTICE_KEY: notice})


class QueueController(Controller):
    path = "/t/{slug:str}/queue"
    dependencies = TENANT_DEPENDENCIES

    @get("/", name="cases:queue", opt={"access": Access.staff})
    async def index(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        """The queue page; for htmx (tabs, filters, paging) only the list."""
        principal = require_principal(request)
        view = await QueueView.load(tenant, principal, request.query_params, listing=True, with_page=True)
        context = view.context()
        if not is_htmx(request):
            context["notice"] = await _take_notice(principal)
        status = HTTP_422_UNPROCESSABLE_ENTITY if view.parsed.errors else 200
        return render(request, TEMPLATE, context, partial="queue_list", status_code=status)

    @get("/{case_id:int}", name="cases:queue-case", opt={"access": Access.staff})
    async def case(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], case_id: FromPath[int]
    ) -> Response[str]:
        """One waiting case: the whole page with its pane open, or (htmx) the pane alone."""
        principal = require_principal(request)
        htmx = is_htmx(request)
        view = await QueueView.load(
            tenant, principal, request.query_params, listing=not htmx, with_page=not htmx
        )
        case = await self._waiting_case(tenant, view.targets, case_id)
        context = view.context()
        if not htmx:
            context["notice"] = await _take_notice(principal)
        context["pane"] = await _pane(tenant, case, principal, actionable=True)
        return render(request, TEMPLATE, context, partial=None if not htmx else "pane")

    async def _waiting_case(self, tenant: Tenant, targets: list[Target], case_id: int) -> services.CaseRecord:
        try:
            case = await services.load_case(tenant, case_id)
        except services.CaseError:
            raise NotFoundException(NOT_YOURS) from None
        if not in_queue(targets, case.row):
            raise NotFoundException(NOT_YOURS)
        return case

    @post(
        "/{case_id:int}/decision", name="cases:queue-decision", opt={"access": Access.staff}, status_code=200
    )
    async def decide(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant], case_id: FromPath[int]
    ) -> Response[Any]:
        """Approve, return (with a reason), refuse (with a reason) or escalate a recheck. Then the next case
        opens (htmx: its pane, with the acted row removed and the counts updated out of band; without
        JavaScript: a redirect to it)."""
        principal = require_principal(request)
        form = await request.form()
        view = await QueueView.load(tenant, principal, form, listing=False, with_page=False)
        try:
            case = await services.load_case(tenant, case_id)
        except services.CaseError:
            raise NotFoundException(NOT_YOURS) from None
        reason = _text(form, "reason")
        raw_version = _text(form, "version")
        version = int(raw_version) if raw_version.isdigit() else -1
        action = DECISIONS.get(_text(form, "action"))
        if not in_queue(view.targets, case.row):
            if version != case.row["version"] and await services.may_view(tenant, case, principal):
                # Someone else acted between this reviewer's page and their click.
                return await self._refused(request, view, case, reason, conflict=True)
            raise NotFoundException(NOT_YOURS)
        if action is None:
            return await self._refused(request, view, case, reason, errors={"action": "请选择办理操作"})
        queued = Cursor.of(case.row)
        try:
            outcome = await services.act(tenant, principal, case_id, action, version=version, reason=reason)
        except services.Conflict:
            fresh = await services.load_case(tenant, case_id)
            return await self._refused(request, view, fresh, reason, conflict=True)
        except services.CaseError as error:
            fresh = await services.load_case(tenant, case_id)
            if fresh.row["version"] != version:
                return await self._refused(request, view, fresh, reason, conflict=True)
            errors = {error.field or "form": error.message}
            return await self._refused(request, view, fresh, reason, errors=errors)
        notice = f"{case.row['holder_name'] or '案件'}：{outcome.message}"
        fresh = await services.load_case(tenant, case_id)
        # Still waiting here: say approved at the last step, but its certificate could not be issued yet.
        stays = in_queue(view.targets, fresh.row)
        following = None if stays else await next_waiting(tenant, view.targets, view.filters, queued, case_id)
        if not is_htmx(request):
            await _leave_notice(principal, notice)
            shown = case_id if stays else following
            url = _case_url(tenant, shown, view.filters) if shown else _list_url(tenant, view.filters)
            return Redirect(url, status_code=HTTP_303_SEE_OTHER)
        await view.refresh(listing=True, with_page=stays)
        context = view.context()
        context["notice"] = notice
        if stays:
            context["oob_list"] = True
            opened: services.CaseRecord | None = fresh
        else:
            context["oob_tabs"] = True
            context["removed"] = case_id
            opened = await services.load_case(tenant, following) if following else None
        if opened is not None:
            context["pane"] = await _pane(tenant, opened, principal, actionable=True)
        response = render(request, TEMPLATE, context, partial="decided")
        response.headers["HX-Push-Url"] = (
            _case_url(tenant, opened.id, view.filters) if opened else _list_url(tenant, view.filters)
        )
        return response

    async def _refused(
        self,
        request: Request[Any, Any, Any],
        view: QueueView,
        case: services.CaseRecord,
        reason: str,
        *,
        errors: dict[str, str] | None = None,
        conflict: bool = False,
    ) -> Response[str]:
        """The pane again with the reason as typed: 422 for a refusal, 409 when someone acted first (the pane
        then shows the case as it is now, with its form only if it still waits for this reviewer)."""
        full = not is_htmx(request)
        await view.refresh(listing=full, with_page=full)
        context = view.context()
        context["pane"] = await _pane(
            view.tenant,
            case,
            view.principal,
            actionable=in_queue(view.targets, case.row),
            reason=reason,
            errors=errors,
            message=services.CONFLICT_MESSAGE if conflict else "",
        )
        status = HTTP_409_CONFLICT if conflict else HTTP_422_UNPROCESSABLE_ENTITY
        return render(request, TEMPLATE, context, partial="pane", status_code=status)

    @post("/seal-batch", name="cases:queue-seal-batch", opt={"access": Access.staff}, status_code=200)
    async def seal_batch(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> Response[str]:
        """The sealer's batch on batch day: each ticked case (``case_id``, with the ``version_<id>`` its row
        showed) is sealed on its own; the result lists each case as done or with its reason."""
        principal = require_principal(request)
        form = await request.form()
        view = await QueueView.load(tenant, principal, form, listing=False, with_page=False)
        items: dict[int, int] = {}
        for raw in form.getall("case_id", []):
            if isinstance(raw, str) and raw.isdigit() and len(items) < BATCH_LIMIT:
                version = _text(form, f"version_{raw}")
                items[int(raw)] = int(version) if version.isdigit() else -1
        rows = await cases_in_queue(tenant, view.targets, list(items))
        outcomes = {
            result.case_id: result
            for result in await services.seal_batch(
                tenant,
                principal,
                [(case_id, version) for case_id, version in items.items() if case_id in rows],
            )
        }
        results = []
        for case_id in items:
            row, result = rows.get(case_id), outcomes.get(case_id)
            results.append(
                {
                    "case_id": case_id,
                    "name": row["holder_name"] if row else "",
                    "tail": f"****{row['holder_id_tail']}" if row and row["holder_id_tail"] else "",
                    "ok": bool(result and result.ok),
                    "message": result.message if result else NOT_YOURS,
                }
            )
        await view.refresh(listing=True, with_page=True)
        context = view.context()
        context["batch_results"] = results
        context["batch_error"] = "" if items else "请先勾选要用印的案件"
        context["oob_list"] = is_htmx(request)
        status = 200 if items else HTTP_422_UNPROCESSABLE_ENTITY
        return render(request, TEMPLATE, context, partial="batch", status_code=status)
