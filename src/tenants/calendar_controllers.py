"""The tenant administrator's holiday calendar page. Thin: the rules live in ``tenants.calendar``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from accounts.services import actor_of
from accounts.web import Access, require_principal
from core.web import render
from tenants import calendar
from tenants.controllers import TENANT_DEPENDENCIES
from tenants.tables import Tenant
from tenants.vocabulary import Procedure

FIELDS = ("year", "lines")


class CalendarController(Controller):
    path = "/t/{slug:str}/admin/calendar"
    dependencies = TENANT_DEPENDENCIES

    async def _page(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        *,
        form: dict[str, str] | None = None,
        errors: dict[str, list[str]] | None = None,
        notice: str = "",
        status_code: int = 200,
    ) -> Response[str]:
        work = await calendar.work_calendar(tenant)
        known = await calendar.known_years(tenant)
        # The monthly batch day comes from a reissue notice (甘职改办〔2020〕2号 四): only for tenants
        # offering reissue.
        has_batch = Procedure.reissue.value in tenant.procedures
        today = calendar.today_in_china()
        return render(
            request,
            "tenants/calendar.html",
            {
                "tenant": tenant,
                "csrf_token": require_principal(request).csrf_token,
                "years": [(entry, work.days_of(entry.year)) for entry in known],
                "batch_day_of_month": calendar.REISSUE_BATCH_DAY,
                "today": today,
                "schedule": calendar.upcoming_batch_days(work, today) if has_batch else None,
                "form": form or {},
                "errors": errors or {},
                "notice": notice,
            },
            partial="calendar_panel",
            status_code=status_code,
        )

    @get("/", name="tenants:calendar", opt={"access": Access.tenant_admin})
    async def index(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        """The calendar; ``?year=`` puts a known year's lines in the form to correct it."""
        form: dict[str, str] = {}
        wanted = request.query_params.get("year", "")
        if wanted.isdigit():
            work = await calendar.work_calendar(tenant)
            if work.knows(int(wanted)):
                form = {"year": wanted, "lines": calendar.year_lines(work, int(wanted))}
        return await self._page(request, tenant, form=form)

    @post("/", name="tenants:calendar_save", opt={"access": Access.tenant_admin})
    async def save(self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]) -> Response[str]:
        principal = require_principal(request)
        submitted = await request.form()
        form = {name: value if isinstance(value := submitted.get(name), str) else "" for name in FIELDS}
        try:
            days = await calendar.save_year(tenant, actor_of(principal), form["year"], form["lines"])
        except calendar.CalendarInputError as error:
            return await self._page(
                request,
                tenant,
                form=form,
                errors={error.field: error.messages},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        holidays = sum(day.kind is calendar.DayKind.holiday for day in days)
        notice = f"已保存{days[0].day.year}年：放假{holidays}天，调休上班{len(days) - holidays}天"
        return await self._page(request, tenant, notice=notice)
