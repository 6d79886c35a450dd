"""The holiday calendar in the database: seeding from the chinese-calendar package, an administrator's year
(checked line by line), and the administrator's page.

Tests that write use Ningxia, whose calendar the ``ningxia`` fixture empties before and leaves seeded from
the package after — the state ``zhicheng setup`` gives it — so the outcome does not depend on test order.
(New tenants would show up in every tenant-wide report, such as ``zhicheng audit verify``.)
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from audit.services import Actor
from audit.tables import AuditEvent
from tenants.calendar import (
    CalendarInputError,
    CalendarSource,
    DayKind,
    DayOverride,
    batch_day,
    known_years,
    package_calendar,
    save_year,
    seed_calendar_from_package,
    today_in_china,
    upcoming_batch_days,
    work_calendar,
)
from tenants.services import get_tenant
from tenants.tables import CalendarYear, HolidayDay, Tenant
from tests.people import Person

ADMIN = Actor("account:0", "tenant_admin", "640000-province_office")
LINES_2027 = "2027-01-01 holiday 元旦\n2027-02-06 holiday 春节\n2027-02-07 workday 春节调休上班\n"


async def tenant_named(slug: str) -> Tenant:
    tenant = await get_tenant(slug)
    assert tenant is not None
    return tenant


async def clear_calendar(tenant: Tenant) -> None:
    await HolidayDay.delete().where(HolidayDay.tenant == tenant.id)
    await CalendarYear.delete().where(CalendarYear.tenant == tenant.id)


@pytest.fixture
async def ningxia(database: None) -> AsyncIterator[Tenant]:
    """Ningxia with an empty calendar; afterwards, the package's years again."""
    tenant = await tenant_named("ningxia")
    await clear_calendar(tenant)
    yield tenant
    await clear_calendar(tenant)
    await seed_calendar_from_package(tenant)


async def days_in_db(tenant: Tenant, year: int) -> set[tuple[date, str, str]]:
    rows = await HolidayDay.select(HolidayDay.day, HolidayDay.kind, HolidayDay.name).where(
        HolidayDay.tenant == tenant.id,
        HolidayDay.day >= date(year, 1, 1),
        HolidayDay.day <= date(year, 12, 31),
    )
    return {(row["day"], row["kind"], row["name"]) for row in rows}


# --- seeding -----------------------------------------------------------------------------------------------


async def test_seeding_loads_every_package_year_once(ningxia: Tenant) -> None:
    package = package_calendar()
    seeds_before = await seed_events(ningxia)
    assert min(package.years) <= 2025 and max(package.years) == 2026

    assert await seed_calendar_from_package(ningxia) == len(package.years)
    assert await seed_calendar_from_package(ningxia) == 0  # idempotent: nothing more to add
    assert await CalendarYear.count().where(CalendarYear.tenant == ningxia.id) == len(package.years)
    assert {entry.year: entry.source for entry in await known_years(ningxia)} == dict.fromkeys(
        package.years, CalendarSource.package
    )
    assert await days_in_db(ningxia, 2025) == {(o.day, o.kind.value, o.name) for o in package.days_of(2025)}
    assert (date(2025, 1, 26), "workday", "春节调休上班") in await days_in_db(ningxia, 2025)

    # Read back through the database (dates survive the round trip on SQLite and PostgreSQL alike).
    calendar = await work_calendar(ningxia)
    assert batch_day(calendar, 2025, 1) == date(2025, 1, 26)
    assert batch_day(calendar, 2026, 9) == date(2026, 9, 28)
    assert not calendar.knows(2027)

    (event,) = await last_events(ningxia, 1)  # one event for the run that added years, none for the other
    assert (event["action"], event["details"]["years"]) == ("calendar.package.seed", sorted(package.years))
    assert await seed_events(ningxia) == seeds_before + 1


async def test_seeding_keeps_a_year_the_administrator_entered(ningxia: Tenant) -> None:
    await save_year(ningxia, ADMIN, 2026, "2026-01-01 holiday 元旦（管理员）\n")
    added = await seed_calendar_from_package(ningxia)
    assert added == len(package_calendar().years) - 1
    assert await days_in_db(ningxia, 2026) == {(date(2026, 1, 1), "holiday", "元旦（管理员）")}
    sources = {entry.year: entry.source for entry in await known_years(ningxia)}
    assert sources[2026] is CalendarSource.admin and sources[2025] is CalendarSource.package


async def last_events(tenant: Tenant, count: int) -> list[dict[str, Any]]:
    """The tenant's latest audit events, newest first."""
    return (
        await AuditEvent.select(AuditEvent.actor, AuditEvent.action, AuditEvent.subject, AuditEvent.details)
        .where(AuditEvent.tenant == tenant.id)
        .order_by(AuditEvent.seq, ascending=False)
        .limit(count)
        .output(load_json=True)
    )


async def seed_events(tenant: Tenant) -> int:
    return await AuditEvent.count().where(
        AuditEvent.tenant == tenant.id, AuditEvent.action == "calendar.package.seed"
    )


# --- an administrator's year -------------------------------------------------------------------------------


async def test_save_year_adds_then_replaces_a_year(ningxia: Tenant) -> None:
    saved = await save_year(ningxia, ADMIN, "2027", LINES_2027)
    assert saved[2] == DayOverride(date(2027, 2, 7), DayKind.workday, "春节调休上班")
    calendar = await work_calendar(ningxia)
    assert calendar.knows(2027) and calendar.is_working_day(date(2027, 2, 7))  # a Sunday, worked

    await save_year(ningxia, ADMIN, 2027, "2027-01-01 holiday 元旦\n")
    assert await days_in_db(ningxia, 2027) == {(date(2027, 1, 1), "holiday", "元旦")}
    assert not (await work_calendar(ningxia)).is_working_day(date(2027, 2, 7))  # the replaced Sunday rests

    replaced, first = await last_events(ningxia, 2)
    for event in (first, replaced):
        assert (event["actor"], event["action"], event["subject"]) == (
            "account:0",
            "calendar.year.save",
            "calendar:2027",
        )
    assert first["details"]["days"][2] == "2027-02-07 workday 春节调休上班"
    assert replaced["details"]["holidays"] == 1 and replaced["details"]["workdays"] == 0


async def refused(tenant: Tenant, year: int | str, text: str) -> CalendarInputError:
    """Saves, expecting a refusal; checks nothing was written and returns the error."""
    with pytest.raises(CalendarInputError) as error:
        await save_year(tenant, ADMIN, year, text)
    assert await CalendarYear.count().where(CalendarYear.tenant == tenant.id) == 0
    assert await HolidayDay.count().where(HolidayDay.tenant == tenant.id) == 0
    return error.value


async def test_save_year_refuses_a_bad_date(ningxia: Tenant) -> None:
    error = await refused(
        ningxia, 2027, "2027-01-01 holiday 元旦\n2027-02-30 holiday 春节\n2027/02/07 workday 调休\n"
    )
    assert error.field == "lines"
    assert error.messages == [
        "第2行：没有2027-02-30这一天",
        "第3行：“2027/02/07”不是日期，请写成 2027-01-01 的格式",
    ]


async def test_save_year_refuses_a_date_of_another_year(ningxia: Tenant) -> None:
    # A notice can name a make-up day of December before (2019's: Saturday 29 December 2018); such a day
    # belongs to the earlier year and is entered there.
    error = await refused(ningxia, 2027, "2027-01-01 holiday 元旦\n2026-12-26 workday 元旦调休上班\n")
    assert error.messages == ["第2行：2026-12-26不在2027年内"]


async def test_save_year_refuses_a_bad_kind(ningxia: Tenant) -> None:
    error = await refused(ningxia, 2027, "2027-01-01 rest 元旦\n")
    assert error.messages == ["第1行：类型“rest”有误，须为 holiday（放假）或 workday（调休上班）"]


async def test_save_year_requires_a_name(ningxia: Tenant) -> None:
    error = await refused(ningxia, 2027, "2027-01-01 holiday 元旦\n\n2027-02-06 holiday\n")
    assert error.messages == ["第3行：请填写节日名称，例如“春节”或“春节调休上班”"]


async def test_save_year_refuses_a_bad_year(ningxia: Tenant) -> None:
    error = await refused(ningxia, "二〇二七", LINES_2027)
    assert error.field == "year" and error.messages == ["请填写2000至2100之间的年份"]


# --- the administrator's page ------------------------------------------------------------------------------


async def test_the_page_lists_years_and_the_next_batch_days(people: dict[str, Person]) -> None:
    gansu = await tenant_named("gansu")
    await seed_calendar_from_package(gansu)  # what `zhicheng setup` does; nothing when it already ran
    page = await people["tenant_admin"].client.get("/t/gansu/admin/calendar")
    assert page.status_code == 200, page.text
    assert "<strong>2026年</strong> · 来源：chinese-calendar 软件包" in page.text
    assert (
        '<time datetime="2026-01-04">2026-01-04</time> 星期日</td><td>调休上班</td><td>元旦调休上班</td>'
        in page.text
    )

    # Gansu offers reissue, so its page shows the next batch days as far as the known years reach.
    expected = upcoming_batch_days(await work_calendar(gansu), today_in_china())
    batch = page.text.split('id="batch-heading"')[1].split("</section>")[0]
    for day in expected.days:
        assert f'<time datetime="{day.isoformat()}">' in batch
    assert batch.count("<time ") == len(expected.days)
    if expected.missing is not None:  # until the package or an administrator brings the next year
        assert f'role="alert">{expected.missing}</p>' in batch


async def test_a_known_year_can_be_opened_in_the_form(people: dict[str, Person]) -> None:
    await seed_calendar_from_package(await tenant_named("gansu"))
    page = await people["tenant_admin"].client.get("/t/gansu/admin/calendar?year=2025")
    assert 'name="year" inputmode="numeric" maxlength="4" value="2025"' in page.text
    assert "2025-01-26 workday 春节调休上班\n" in page.text


async def test_the_administrator_saves_a_year(people: dict[str, Person], ningxia: Tenant) -> None:
    admin = people["other_tenant_admin"]  # Ningxia's tenant administrator
    response = await admin.post("/t/ningxia/admin/calendar", {"year": "2027", "lines": LINES_2027})
    assert response.status_code == 200, response.text
    assert "已保存2027年：放假2天，调休上班1天" in response.text
    assert "<strong>2027年</strong> · 来源：管理员录入" in response.text
    assert 'id="batch-heading"' not in response.text  # Ningxia offers no reissue, so has no batch day
    assert (await work_calendar(ningxia)).is_working_day(date(2027, 2, 7))
    (event,) = await last_events(ningxia, 1)
    assert (event["actor"], event["action"], event["subject"]) == (
        f"account:{admin.account_id}",
        "calendar.year.save",
        "calendar:2027",
    )


async def test_a_refused_year_comes_back_422_with_the_form_refilled(
    people: dict[str, Person], ningxia: Tenant
) -> None:
    admin = people["other_tenant_admin"]
    lines = "2028-01-01 holiday 元旦\n2028-01-32 holiday <b>春节</b>\n"
    response = await admin.post("/t/ningxia/admin/calendar", {"year": "2028", "lines": lines})
    assert response.status_code == 422
    assert 'name="year" inputmode="numeric" maxlength="4" value="2028"' in response.text
    assert f"{html.escape(lines)}</textarea>" in response.text  # as typed, escaped
    assert '<ul class="field-error" id="lines-error">' in response.text
    assert "<li>第2行：没有2028-01-32这一天</li>" in response.text
    assert await CalendarYear.count().where(CalendarYear.tenant == ningxia.id) == 0

    partial = await admin.post(
        "/t/ningxia/admin/calendar", {"year": "", "lines": lines}, headers={"HX-Request": "true"}
    )
    assert partial.status_code == 422
    assert partial.text.lstrip().startswith('<div id="calendar-panel">')  # htmx swaps only the panel
    assert 'id="year-error">请填写2000至2100之间的年份</p>' in partial.text
    assert f"{html.escape(lines)}</textarea>" in partial.text


@pytest.mark.parametrize("key", ["org_admin", "clerk", "applicant", "other_tenant_admin"])
async def test_only_the_tenant_administrator_may_use_the_page(people: dict[str, Person], key: str) -> None:
    person = people[key]
    page = await person.client.get("/t/gansu/admin/calendar")
    assert page.status_code in (303, 403)
    saved = await person.post(
        "/t/gansu/admin/calendar", {"year": "2030", "lines": "2030-01-01 holiday 元旦\n"}
    )
    assert saved.status_code in (303, 403)
    assert not (await work_calendar(await tenant_named("gansu"))).knows(2030)


async def test_anonymous_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/t/gansu/admin/calendar")
    assert response.status_code == 303 and "/t/gansu/signin" in response.headers["location"]
