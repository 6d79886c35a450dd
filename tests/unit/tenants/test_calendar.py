"""The pure part of the holiday calendar: working days, the monthly batch day of 甘职改办〔2020〕2号 四, and a
missing year said plainly instead of guessed.

The 2025 and 2026 arrangements below are typed from the State Council's notices
(国务院办公厅关于2025年 / 2026年部分节假日安排的通知), not taken from the package, so that the package's data
is checked against them too.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tenants.calendar import (
    CalendarInputError,
    CalendarMissing,
    DayKind,
    DayOverride,
    WorkCalendar,
    batch_day,
    package_calendar,
    parse_year_lines,
    upcoming_batch_days,
    year_lines,
)


def rest(first: date, last: date, name: str) -> list[DayOverride]:
    """放假 from ``first`` to ``last`` inclusive, weekends inside the span included, as the notices count."""
    return [
        DayOverride(first + timedelta(days=n), DayKind.holiday, name) for n in range((last - first).days + 1)
    ]


def work(day: date, name: str) -> DayOverride:
    return DayOverride(day, DayKind.workday, name)


NOTICE_2025 = [
    # 一、元旦：1月1日（周三）放假1天，不调休。
    *rest(date(2025, 1, 1), date(2025, 1, 1), "元旦"),
    # 二、春节：1月28日至2月4日放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
    *rest(date(2025, 1, 28), date(2025, 2, 4), "春节"),
    work(date(2025, 1, 26), "春节调休上班"),
    work(date(2025, 2, 8), "春节调休上班"),
    # 三、清明节：4月4日（周五）至6日（周日）放假，共3天。
    *rest(date(2025, 4, 4), date(2025, 4, 6), "清明"),
    # 四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。
    *rest(date(2025, 5, 1), date(2025, 5, 5), "劳动节"),
    work(date(2025, 4, 27), "劳动节调休上班"),
    # 五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。
    *rest(date(2025, 5, 31), date(2025, 6, 2), "端午"),
    # 六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。
    *rest(date(2025, 10, 1), date(2025, 10, 8), "国庆节、中秋节"),
    work(date(2025, 9, 28), "国庆节调休上班"),
    work(date(2025, 10, 11), "国庆节调休上班"),
]

NOTICE_2026 = [
    # 一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
    *rest(date(2026, 1, 1), date(2026, 1, 3), "元旦"),
    work(date(2026, 1, 4), "元旦调休上班"),
    # 二、春节：2月15日（周日）至23日（周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
    *rest(date(2026, 2, 15), date(2026, 2, 23), "春节"),
    work(date(2026, 2, 14), "春节调休上班"),
    work(date(2026, 2, 28), "春节调休上班"),
    # 三、清明节：4月4日（周六）至6日（周一）放假，共3天。
    *rest(date(2026, 4, 4), date(2026, 4, 6), "清明"),
    # 四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
    *rest(date(2026, 5, 1), date(2026, 5, 5), "劳动节"),
    work(date(2026, 5, 9), "劳动节调休上班"),
    # 五、端午节：6月19日（周五）至21日（周日）放假，共3天。
    *rest(date(2026, 6, 19), date(2026, 6, 21), "端午"),
    # 六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
    *rest(date(2026, 9, 25), date(2026, 9, 27), "中秋"),
    # 七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
    *rest(date(2026, 10, 1), date(2026, 10, 7), "国庆节"),
    work(date(2026, 9, 20), "国庆节调休上班"),
    work(date(2026, 10, 10), "国庆节调休上班"),
]

NOTICES = WorkCalendar({2025, 2026}, NOTICE_2025 + NOTICE_2026)
MISSING_2027 = "尚未录入2027年的法定节假日安排，无法确定集中办理日，请地区管理员补录"

# The 25th of each month, moved to the next working day (worked out by hand from the weekdays and notices).
BATCH_DAYS_2025 = [
    date(2025, 1, 26),  # 25th a Saturday; Sunday the 26th is a make-up working day before 春节
    date(2025, 2, 25),
    date(2025, 3, 25),
    date(2025, 4, 25),
    date(2025, 5, 26),  # Sunday → Monday
    date(2025, 6, 25),
    date(2025, 7, 25),
    date(2025, 8, 25),
    date(2025, 9, 25),
    date(2025, 10, 27),  # Saturday → Monday (国庆 ended on the 8th)
    date(2025, 11, 25),
    date(2025, 12, 25),
]
BATCH_DAYS_2026 = [
    date(2026, 1, 26),  # Sunday, and not a make-up day (only 4 January is) → Monday
    date(2026, 2, 25),  # two days after 春节's nine days
    date(2026, 3, 25),
    date(2026, 4, 27),  # Saturday → Monday
    date(2026, 5, 25),
    date(2026, 6, 25),
    date(2026, 7, 27),  # Saturday → Monday
    date(2026, 8, 25),
    date(2026, 9, 28),  # Friday, but 中秋 (25th–27th) → Monday
    date(2026, 10, 26),  # Sunday → Monday
    date(2026, 11, 25),
    date(2026, 12, 25),
]


@pytest.mark.parametrize(("year", "expected"), [(2025, BATCH_DAYS_2025), (2026, BATCH_DAYS_2026)])
def test_a_years_twelve_batch_days(year: int, expected: list[date]) -> None:
    assert [batch_day(NOTICES, year, month) for month in range(1, 13)] == expected


@pytest.mark.parametrize(("year", "expected"), [(2025, BATCH_DAYS_2025), (2026, BATCH_DAYS_2026)])
def test_the_package_gives_the_same_batch_days(year: int, expected: list[date]) -> None:
    assert [batch_day(package_calendar(), year, month) for month in range(1, 13)] == expected


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_package_has_the_notices_days(year: int) -> None:
    def days(calendar: WorkCalendar) -> set[tuple[date, DayKind]]:
        return {(o.day, o.kind) for o in calendar.days_of(year)}

    assert days(package_calendar()) == days(NOTICES)


def test_working_days() -> None:
    assert NOTICES.is_working_day(date(2025, 1, 27))  # an ordinary Monday
    assert not NOTICES.is_working_day(date(2025, 1, 25))  # an ordinary Saturday
    assert NOTICES.is_working_day(date(2025, 1, 26))  # a Sunday worked before 春节
    assert not NOTICES.is_working_day(date(2025, 1, 28))  # 除夕, a Tuesday
    assert not NOTICES.is_working_day(date(2026, 10, 1))  # 国庆, a Thursday
    assert NOTICES.is_working_day(date(2026, 10, 10))  # a Saturday worked after 国庆


def test_national_day_moves_a_batch_day_past_the_golden_week() -> None:
    # A batch day on the 1st shows the whole 国庆 holiday, and the make-up Saturday after it.
    assert batch_day(NOTICES, 2025, 10, day_of_month=1) == date(2025, 10, 9)
    assert batch_day(NOTICES, 2026, 10, day_of_month=1) == date(2026, 10, 8)
    assert batch_day(NOTICES, 2026, 10, day_of_month=10) == date(2026, 10, 10)  # Saturday, worked
    assert batch_day(NOTICES, 2025, 10, day_of_month=11) == date(2025, 10, 11)  # Saturday, worked
    assert batch_day(NOTICES, 2026, 2, day_of_month=15) == date(2026, 2, 24)  # through 春节


def test_december_batch_day_needs_no_next_year() -> None:
    only_2026 = WorkCalendar({2026}, NOTICE_2026)
    assert batch_day(only_2026, 2026, 12) == date(2026, 12, 25)


def test_a_december_batch_day_rolling_into_a_missing_year_is_not_guessed() -> None:
    # Say a tenant rests from the 25th to the end of the year: the batch day falls in January 2027.
    closed = WorkCalendar({2026}, NOTICE_2026 + rest(date(2026, 12, 25), date(2026, 12, 31), "年末休整"))
    with pytest.raises(CalendarMissing) as missing:
        batch_day(closed, 2026, 12)
    assert missing.value.year == 2027
    assert str(missing.value) == MISSING_2027
    assert isinstance(missing.value, ValueError)
    # Once 2027 is entered, the same month has an answer.
    entered = WorkCalendar(
        {2026, 2027}, [*closed.overrides.values(), *rest(date(2027, 1, 1), date(2027, 1, 1), "元旦")]
    )
    assert batch_day(entered, 2026, 12) == date(2027, 1, 4)  # 1 January rests, 2–3 January is a weekend


def test_a_missing_year_is_said_plainly() -> None:
    with pytest.raises(CalendarMissing) as missing:
        batch_day(NOTICES, 2027, 1)
    assert str(missing.value) == MISSING_2027
    with pytest.raises(CalendarMissing, match="尚未录入2027年"):
        NOTICES.is_working_day(date(2027, 3, 1))  # a Monday, but the year's notice may yet say otherwise


def test_upcoming_batch_days_stop_at_the_first_missing_year() -> None:
    schedule = upcoming_batch_days(NOTICES, date(2026, 11, 23))
    assert schedule.days == [date(2026, 11, 25), date(2026, 12, 25)]
    assert schedule.missing is not None and schedule.missing.year == 2027


def test_upcoming_batch_days_count_twelve_from_today() -> None:
    on_the_day = upcoming_batch_days(NOTICES, date(2025, 1, 26))
    assert on_the_day.days == BATCH_DAYS_2025  # the day itself counts
    assert on_the_day.missing is None
    after = upcoming_batch_days(NOTICES, date(2025, 1, 27))
    assert after.days == [*BATCH_DAYS_2025[1:], BATCH_DAYS_2026[0]]
    assert after.missing is None


def test_parse_year_lines_reads_the_notice_format() -> None:
    text = "# 2027年（示例）\n2027-01-01 holiday 元旦\n\n  2027-02-07   workday  春节 调休上班 \n"
    assert parse_year_lines(2027, text) == [
        DayOverride(date(2027, 1, 1), DayKind.holiday, "元旦"),
        DayOverride(date(2027, 2, 7), DayKind.workday, "春节 调休上班"),
    ]


def test_parse_year_lines_reports_every_bad_line_by_number() -> None:
    text = (
        "2027-01-01 holiday 元旦\n"
        "2027-13-01 holiday 元旦\n"
        "2027-01-01 holiday 元旦\n"
        "2027-02-08 workday 春节调休上班\n"
    )
    with pytest.raises(CalendarInputError) as error:
        parse_year_lines(2027, text)
    assert error.value.field == "lines"
    assert error.value.messages == [
        "第2行：没有2027-13-01这一天",
        "第3行：2027-01-01与第1行重复",
        "第4行：2027-02-08是星期一，本来就上班，调休上班日应为周末",
    ]


def test_an_empty_year_is_refused() -> None:
    with pytest.raises(CalendarInputError, match="请逐行填写2027年"):
        parse_year_lines(2027, "\n# 只有注释\n")


def test_year_lines_round_trip() -> None:
    assert parse_year_lines(2026, year_lines(NOTICES, 2026)) == NOTICES.days_of(2026)
