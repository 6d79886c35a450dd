"""The queue's pure parts: filters read from a request, the keyset cursor, the name range, capped counts."""

from __future__ import annotations

from datetime import UTC, date, datetime

from cases.queue import Count, Cursor, QueueFilters, _after_prefix, _count, parse_filters
from cases.workflow import State
from tenants.vocabulary import Procedure

OFFERED = [Procedure.reissue, Procedure.collection, Procedure.issuance]
SERIES = ["工程系列", "卫生系列"]


def test_cursor_round_trips_to_the_microsecond() -> None:
    cursor = Cursor(datetime(2026, 11, 23, 12, 17, 25, 956651, tzinfo=UTC), 146814)
    assert str(cursor) == "1795436245956651-146814"
    assert Cursor.parse(str(cursor)) == cursor
    for junk in ("", "abc", "12-", "-3", "1-2-3", "9" * 18 + "-1"):
        assert Cursor.parse(junk) is None


def test_filters_are_read_and_wrong_values_reported_per_field() -> None:
    parsed = parse_filters(
        {
            "procedure": "collection",
            "state": "approved",
            "level": "senior",
            "series": "卫生系列",
            "q": " 王  伟 ",
        },
        OFFERED,
        SERIES,
    )
    assert parsed.errors == {}
    assert parsed.filters == QueueFilters(
        procedure=Procedure.collection, state=State.approved, level="senior", series="卫生系列", q="王 伟"
    )
    wrong = parse_filters(
        {
            "procedure": "digitization",
            "state": "draft",
            "level": "grand",
            "series": "魔法系列",
            "from": "昨天",
        },
        OFFERED,
        SERIES,
        default=Procedure.issuance,
    )
    assert wrong.filters.procedure is Procedure.issuance  # not offered here: the default tab
    assert set(wrong.errors) == {"state", "level", "series", "from"}
    assert wrong.filters == QueueFilters(procedure=Procedure.issuance)
    assert wrong.form["from"] == "昨天"  # refilled as typed
    backwards = parse_filters({"from": "2026-11-25", "to": "2026-11-01"}, OFFERED, SERIES)
    assert backwards.errors == {"to": "结束日期不能早于开始日期"}
    assert backwards.filters.submitted_from == date(2026, 11, 25) and backwards.filters.submitted_to is None


def test_query_string_gives_the_filters_back() -> None:
    filters = QueueFilters(
        procedure=Procedure.reissue, level="senior", q="张", submitted_from=date(2026, 1, 2)
    )
    assert filters.query_string() == "?procedure=reissue&level=senior&from=2026-01-02&q=%E5%BC%A0"
    cursor = Cursor(datetime(2026, 1, 1, tzinfo=UTC), 7)
    assert (
        filters.query_string(after=cursor, q="")
        == f"?procedure=reissue&level=senior&from=2026-01-02&after={cursor}"
    )
    parsed = parse_filters(dict(filters.params(after=cursor)), OFFERED, SERIES)
    assert parsed.filters == QueueFilters(
        procedure=Procedure.reissue, level="senior", q="张", submitted_from=date(2026, 1, 2), after=cursor
    )


def test_the_name_range_covers_exactly_the_names_with_the_prefix() -> None:
    assert _after_prefix("王") == "玌"
    assert _after_prefix("王伟") == "王" + chr(ord("伟") + 1)
    assert _after_prefix("\ud7ff") == "\ue000"  # no surrogate as a bound
    assert _after_prefix("a\U0010ffff") == "b"
    assert _after_prefix("\U0010ffff") is None
    names = ["王", "王伟", "王伟芳", "玌", "汪伟", "王\U0010ffff"]
    inside = [name for name in names if "王" <= name < _after_prefix("王")]
    assert inside == ["王", "王伟", "王伟芳", "王\U0010ffff"]


def test_counts_are_capped() -> None:
    assert str(_count(12, 1000)) == "12"
    assert str(_count(1001, 1000)) == "1000+" and _count(1001, 1000).capped
    assert not Count(0, False) and Count(1, False)
