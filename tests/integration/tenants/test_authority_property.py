"""Every combination of procedure × route × level × employer in each preset resolves to exactly one office
or an explicit refusal — never an exception, never a silent default. The rule books come from the database,
as the app reads them."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenants.authority import Assignment, CaseFacts, Refusal, RuleBook
from tenants.services import get_tenant, rule_book
from tenants.vocabulary import CertificateScope, Level, OrgKind, Procedure, Route

SLUGS = ("gansu", "ningxia", "guangxi")
# Around every date a preset rule turns on.
DATES = (None, date(1995, 1, 1), date(2018, 12, 31), date(2019, 1, 1), date(2019, 12, 31), date(2020, 1, 1))


@pytest.fixture(scope="session")
async def books(database: None) -> dict[str, RuleBook]:
    books = {}
    for slug in SLUGS:
        tenant = await get_tenant(slug)
        assert tenant is not None
        books[slug] = await rule_book(tenant)
    return books


def employers(book: RuleBook) -> list[str]:
    return [code for code, node in book.tree.nodes.items() if node.kind is not OrgKind.committee]


def committees_by_jurisdiction(book: RuleBook) -> list[str | None]:
    """No committee, and one committee of each jurisdiction the tree has (rules only see the jurisdiction)."""
    seen: dict[str, str] = {}
    for code, node in book.tree.nodes.items():
        if node.kind is OrgKind.committee:
            seen.setdefault(book.tree.jurisdiction(code), code)
    return [None, *seen.values()]


def assert_answered(book: RuleBook, facts: CaseFacts) -> None:
    outcome = book.resolve(facts)
    if isinstance(outcome, Refusal):
        assert outcome.message.strip()
        return
    assert isinstance(outcome, Assignment)
    assert outcome.office.kind in outcome.rule.authority
    start = facts.committee if outcome.rule.walk_from == "committee" else facts.employer
    assert outcome.path[0].code == start
    assert [node.code for node in outcome.path] == [node.code for node in book.tree.chain(start)][
        : len(outcome.path)
    ]


@pytest.mark.parametrize("slug", SLUGS)
def test_every_combination_is_answered(books: dict[str, RuleBook], slug: str) -> None:
    book = books[slug]
    combinations = itertools.product(
        Procedure, Route, Level, employers(book), committees_by_jurisdiction(book), DATES, CertificateScope
    )
    count = 0
    for procedure, route, level, employer, committee, obtained, certificate in combinations:
        assert_answered(book, CaseFacts(procedure, route, level, employer, committee, obtained, certificate))
        count += 1
    assert count > 10_000


@pytest.mark.parametrize("slug", SLUGS)
def test_every_rule_is_reachable(books: dict[str, RuleBook], slug: str) -> None:
    """A row no case can reach is a mistake in the table's order."""
    book = books[slug]
    reached = set()
    for procedure, route, level, employer, committee, obtained, certificate in itertools.product(
        book.offered, Route, Level, employers(book), committees_by_jurisdiction(book), DATES, CertificateScope
    ):
        outcome = book.resolve(CaseFacts(procedure, route, level, employer, committee, obtained, certificate))
        reached.add(outcome.rule.id if outcome.rule else None)
    assert {rule.id for rules in book.rules.values() for rule in rules} <= reached


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_committee_and_any_date(books: dict[str, RuleBook], data: st.DataObject) -> None:
    book = books[data.draw(st.sampled_from(SLUGS))]
    committees = [code for code, node in book.tree.nodes.items() if node.kind is OrgKind.committee]
    facts = CaseFacts(
        procedure=data.draw(st.sampled_from(list(Procedure))),
        route=data.draw(st.sampled_from(list(Route))),
        level=data.draw(st.sampled_from(list(Level))),
        employer=data.draw(st.sampled_from(employers(book))),
        committee=data.draw(st.none() | st.sampled_from(committees)),
        obtained=data.draw(st.none() | st.dates(min_value=date(1980, 1, 1), max_value=date(2030, 12, 31))),
        certificate=data.draw(st.sampled_from(list(CertificateScope))),
    )
    assert_answered(book, facts)
