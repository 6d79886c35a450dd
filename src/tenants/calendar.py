"""The tenant's holiday calendar and the monthly batch day of reissues.

甘职改办〔2020〕2号 四: "各级职改办每月 25 日集中办理 1 次，如遇节假日顺延至下一工作日". Which days are
working days is decided each year by the State Council's notice on public holidays (放假 and make-up
working days, 调休上班), published late in the year before. So the calendar is data: the years it knows,
each with its overrides of the Monday–Friday week, seeded from the ``chinese-calendar`` package and
extended by the tenant's administrator. A date in a year the calendar does not know is never guessed:
``CalendarMissing`` says which year to enter.

The first part is pure (no database); the functions at the end read and write the tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum

from audit.services import SYSTEM, Actor, record
from core.db import write_transaction
from tenants.tables import CalendarYear, HolidayDay, Tenant

# 甘职改办〔2020〕2号 四: offices process reissues once a month, on the 25th.
REISSUE_BATCH_DAY = 25
# Dates are China's dates: a server on UTC would otherwise turn the 25th over eight hours late. China has kept
# UTC+8 without daylight saving since 1991, so a fixed offset needs no time-zone database in the image.
CHINA = timezone(timedelta(hours=8), "CST")
# Years an administrator may enter: wide enough for any notice we will see, narrow enough to catch typos.
FIRST_YEAR, LAST_YEAR = 2000, 2100
NAME_LENGTH = 64  # HolidayDay.name


def today_in_china() -> date:
    return datetime.now(CHINA).date()


class DayKind(StrEnum):
    holiday = "holiday"
    workday = "workday"

    @property
    def label(self) -> str:
        return {"holiday": "放假", "workday": "调休上班"}[self.value]


class CalendarSource(StrEnum):
    package = "package"
    admin = "admin"

    @property
    def label(self) -> str:
        return {"package": "chinese-calendar 软件包", "admin": "管理员录入"}[self.value]


class CalendarMissing(ValueError):
    """A year the calendar does not know was needed. The message is meant for the page as it is."""

    def __init__(self, year: int, need: str = "集中办理日") -> None:
        self.year = year
        super().__init__(f"尚未录入{year}年的法定节假日安排，无法确定{need}，请地区管理员补录")


@dataclass(frozen=True)
class DayOverride:
    day: date
    kind: DayKind
    name: str


class WorkCalendar:
    """The years whose arrangement is known, and the days that differ from an ordinary Monday–Friday week."""

    def __init__(self, years: Iterable[int], overrides: Iterable[DayOverride] = ()) -> None:
        self.years: frozenset[int] = frozenset(years)
        by_day: dict[date, DayOverride] = {}
        for override in overrides:
            if override.day in by_day:
                raise ValueError(f"{override.day.isoformat()} 重复出现")
            by_day[override.day] = override
        self.overrides: Mapping[date, DayOverride] = by_day

    def knows(self, year: int) -> bool:
        return year in self.years

    def override(self, day: date) -> DayOverride | None:
        return self.overrides.get(day)

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday, unless the notice says otherwise: a holiday rests even on a weekday, a make-up
        workday (usually a Saturday or Sunday) works. Raises ``CalendarMissing`` for a year not entered."""
        if day.year not in self.years:
            raise CalendarMissing(day.year, f"{day.isoformat()}是否为工作日")
        override = self.overrides.get(day)
        if override is not None:
            return override.kind is DayKind.workday
        return day.weekday() < 5

    def days_of(self, year: int) -> list[DayOverride]:
        return sorted((o for o in self.overrides.values() if o.day.year == year), key=lambda o: o.day)


def batch_day(calendar: WorkCalendar, year: int, month: int, day_of_month: int = REISSUE_BATCH_DAY) -> date:
    """The month's batch day: ``day_of_month``, moved forward to the next working day when it is not one
    (into the next month, or January of the next year, if it must). Every year it looks at must be known."""
    try:
        day = date(year, month, day_of_month)
    except ValueError:
        raise ValueError(f"{year}年{month}月没有{day_of_month}日") from None
    # CalendarMissing from is_working_day names the year; here it should say what we were trying to find.
    while True:
        if not calendar.knows(day.year):
            raise CalendarMissing(day.year)
        if calendar.is_working_day(day):
            return day
        day += timedelta(days=1)


@dataclass(frozen=True)
class BatchSchedule:
    days: list[date]
    missing: CalendarMissing | None  # why the list stops short, if it does


def upcoming_batch_days(
    calendar: WorkCalendar, today: date, count: int = 12, day_of_month: int = REISSUE_BATCH_DAY
) -> BatchSchedule:
    """The next ``count`` batch days from ``today`` (today's included), as far as the known years reach."""
    days: list[date] = []
    year, month = today.year, today.month
    while len(days) < count:
        try:
            day = batch_day(calendar, year, month, day_of_month)
        except CalendarMissing as missing:
            return BatchSchedule(days, missing)
        if day >= today:  # only this month's can already be past: batch days grow with the month
            days.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return BatchSchedule(days, None)


class CalendarInputError(ValueError):
    """What is wrong with an administrator's year: ``field`` is "year" or "lines"; a message per bad line."""

    def __init__(self, field: str, messages: list[str]) -> None:
        self.field = field
        self.messages = messages
        super().__init__("；".join(messages))


DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
WEEKDAYS = "一二三四五六日"


def parse_year(value: int | str) -> int:
    text = str(value).strip()
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise CalendarInputError("year", [f"请填写{FIRST_YEAR}至{LAST_YEAR}之间的年份"])
    return int(text)


def parse_year_lines(year: int, text: str) -> list[DayOverride]:
    """An administrator's lines ``YYYY-MM-DD holiday|workday 名称`` for one year. Blank lines and lines
    starting with # are skipped. Every line is checked and every fault reported, each with its line number
    (counted in the text as typed, so the administrator can find it)."""
    errors: list[str] = []
    days: list[DayOverride] = []
    first_line: dict[date, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=2)
        where = f"第{number}行"
        if not DATE_PATTERN.fullmatch(parts[0]):
            errors.append(f"{where}：“{parts[0]}”不是日期，请写成 {year}-01-01 的格式")
            continue
        try:
            day = date.fromisoformat(parts[0])
        except ValueError:
            errors.append(f"{where}：没有{parts[0]}这一天")
            continue
        if day.year != year:
            errors.append(f"{where}：{parts[0]}不在{year}年内")
            continue
        if len(parts) < 2 or parts[1] not in DayKind.__members__:
            given = f"“{parts[1]}”" if len(parts) > 1 else "未填写"
            errors.append(f"{where}：类型{given}有误，须为 holiday（放假）或 workday（调休上班）")
            continue
        kind = DayKind(parts[1])
        name = parts[2].strip() if len(parts) > 2 else ""
        if not name:
            errors.append(f"{where}：请填写节日名称，例如“春节”或“春节调休上班”")
            continue
        if len(name) > NAME_LENGTH:
            errors.append(f"{where}：名称不能超过{NAME_LENGTH}个字")
            continue
        if kind is DayKind.workday and day.weekday() < 5:
            # A make-up workday on Monday–Friday changes nothing, so it is almost surely a mistyped date.
            errors.append(
                f"{where}：{parts[0]}是星期{WEEKDAYS[day.weekday()]}，本来就上班，调休上班日应为周末"
            )
            continue
        if day in first_line:
            errors.append(f"{where}：{parts[0]}与第{first_line[day]}行重复")
            continue
        first_line[day] = number
        days.append(DayOverride(day, kind, name))
    if errors:
        raise CalendarInputError("lines", errors)
    if not days:
        raise CalendarInputError("lines", [f"请逐行填写{year}年的放假日和调休上班日"])
    return sorted(days, key=lambda o: o.day)


def year_lines(calendar: WorkCalendar, year: int) -> str:
    """A known year as the lines ``parse_year_lines`` reads, to edit it in the form."""
    return "".join(f"{o.day.isoformat()} {o.kind.value} {o.name}\n" for o in calendar.days_of(year))


# --- the chinese-calendar package ------------------------------------------------------------------------


def package_calendar() -> WorkCalendar:
    """Every year the ``chinese-calendar`` package knows, with its days named in Chinese."""
    import chinese_calendar

    # The package's own notion of a supported year: from its first to its last holiday (it raises outside).
    first, last = min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year
    overrides = [
        DayOverride(day, DayKind.holiday, chinese_calendar.Holiday(name).chinese)
        for day, name in chinese_calendar.holidays.items()
    ] + [
        DayOverride(day, DayKind.workday, f"{chinese_calendar.Holiday(name).chinese}调休上班")
        for day, name in chinese_calendar.workdays.items()
    ]
    return WorkCalendar(range(first, last + 1), overrides)


# --- the tables --------------------------------------------------------------------------------------------


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


async def work_calendar(tenant: Tenant) -> WorkCalendar:
    years = await CalendarYear.select(CalendarYear.year).where(CalendarYear.tenant == tenant.id)
    days = await HolidayDay.select(HolidayDay.day, HolidayDay.kind, HolidayDay.name).where(
        HolidayDay.tenant == tenant.id
    )
    return WorkCalendar(
        (row["year"] for row in years),
        (DayOverride(row["day"], DayKind(row["kind"]), row["name"]) for row in days),
    )


@dataclass(frozen=True)
class KnownYear:
    year: int
    source: CalendarSource
    updated_at: datetime


async def known_years(tenant: Tenant) -> list[KnownYear]:
    """The tenant's known years, newest first, with where each came from."""
    rows = (
        await CalendarYear.select(CalendarYear.year, CalendarYear.source, CalendarYear.updated_at)
        .where(CalendarYear.tenant == tenant.id)
        .order_by(CalendarYear.year, ascending=False)
    )
    return [
        KnownYear(row["year"], CalendarSource(row["source"]), _china_time(row["updated_at"])) for row in rows
    ]


def _china_time(at: datetime) -> datetime:
    # SQLite hands timestamps back naive (they are stored in UTC); PostgreSQL hands them back aware.
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(CHINA)


async def _replace_year(
    tenant: Tenant, year: int, days: list[DayOverride], source: CalendarSource, *, only_if_absent: bool
) -> bool:
    """Writes one year (inside the caller's transaction). With ``only_if_absent`` a year already present
    (say, entered by an administrator) is left alone; returns whether the year was written."""
    now = datetime.now(UTC)
    existing = (
        await CalendarYear.select(CalendarYear.id)
        .where(CalendarYear.tenant == tenant.id, CalendarYear.year == year)
        .first()
    )
    if existing is not None and only_if_absent:
        return False
    if existing is None:
        await CalendarYear.insert(
            CalendarYear(tenant=tenant.id, year=year, source=source.value, updated_at=now)
        )
    else:
        await CalendarYear.update({CalendarYear.source: source.value, CalendarYear.updated_at: now}).where(
            CalendarYear.id == existing["id"]
        )
    first, last = _year_bounds(year)
    await HolidayDay.delete().where(
        HolidayDay.tenant == tenant.id, HolidayDay.day >= first, HolidayDay.day <= last
    )
    if days:
        await HolidayDay.insert(
            *(HolidayDay(tenant=tenant.id, day=o.day, kind=o.kind.value, name=o.name) for o in days)
        )
    return True


async def seed_calendar_from_package(tenant: Tenant) -> int:
    """Adds every year the ``chinese-calendar`` package knows and the tenant has not got yet; years already
    present, from the package or an administrator, are kept as they are. Returns the number of years added
    (0 on a second run)."""
    source = package_calendar()
    added: list[int] = []
    async with write_transaction(CalendarYear._meta.db):
        for year in sorted(source.years):
            if await _replace_year(
                tenant, year, source.days_of(year), CalendarSource.package, only_if_absent=True
            ):
                added.append(year)
    if added:
        await record(
            tenant,
            SYSTEM,
            "calendar.package.seed",
            "calendar",
            {"years": added, "package": _package_version()},
        )
    return len(added)


def _package_version() -> str:
    import chinese_calendar

    return str(chinese_calendar.__version__)


async def save_year(tenant: Tenant, actor: Actor, year: int | str, lines_text: str) -> list[DayOverride]:
    """An administrator adds or replaces one year from the notice: every line is checked first
    (``CalendarInputError`` otherwise, and nothing is written), then the year's days are replaced at once."""
    number = parse_year(year)
    days = parse_year_lines(number, lines_text)
    async with write_transaction(CalendarYear._meta.db):
        await _replace_year(tenant, number, days, CalendarSource.admin, only_if_absent=False)
    await record(
        tenant,
        actor,
        "calendar.year.save",
        f"calendar:{number}",
        {
            "holidays": sum(o.kind is DayKind.holiday for o in days),
            "workdays": sum(o.kind is DayKind.workday for o in days),
            "days": [f"{o.day.isoformat()} {o.kind.value} {o.name}" for o in days],
        },
    )
    return days
