"""Certificate numbers: gapless and unique per tenant and year, taken inside the issuing write transaction.

Each test uses its own years, so tests (and other packages' tests, which use real years) do not share
sequences."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from certificates.identifiers import DEFAULT_NUMBER_PATTERN
from certificates.numbering import NumberingError, next_certificate_number
from certificates.tables import CertificateSequence
from core.db import write_transaction
from tenants.presets import preset_paths, read_preset
from tenants.services import get_tenant, load_preset
from tenants.tables import Tenant

SLUGS = ("gansu", "ningxia", "guangxi")
DIVISIONS = {"gansu": "620000", "ningxia": "640000", "guangxi": "450000"}


class Abandoned(Exception):
    """Raised inside a transaction to roll it back, as a failed sealing would."""


async def tenant(slug: str) -> Tenant:
    found = await get_tenant(slug)
    assert found is not None
    return found


async def take(of: Tenant, year: int) -> tuple[int, str]:
    async with write_transaction(Tenant._meta.db):
        return await next_certificate_number(of, year)


async def last(of: Tenant, year: int) -> int | None:
    row = (
        await CertificateSequence.select(CertificateSequence.last)
        .where((CertificateSequence.tenant == of.id) & (CertificateSequence.year == year))
        .first()
    )
    return row["last"] if row else None


async def test_the_presets_settings_are_loaded() -> None:
    for path in preset_paths():
        preset = read_preset(path)
        loaded = await tenant(preset.tenant.slug)
        assert loaded.certificate_settings == preset.tenant.certificates
        assert loaded.certificate_settings["number_pattern"] == DEFAULT_NUMBER_PATTERN
        assert not (await load_preset(preset)).changed  # loading again writes nothing


async def test_numbers_are_sequential_per_tenant_and_year() -> None:
    for slug in SLUGS:
        of = await tenant(slug)
        division = DIVISIONS[slug]
        assert [await take(of, 2101) for _ in range(3)] == [
            (1, f"2101{division}000001"),
            (2, f"2101{division}000002"),
            (3, f"2101{division}000003"),
        ]
        # Another year has its own sequence.
        assert await take(of, 2102) == (1, f"2102{division}000001")
        assert await take(of, 2101) == (4, f"2101{division}000004")
    for slug in SLUGS:
        of = await tenant(slug)
        assert (await last(of, 2101), await last(of, 2102)) == (4, 1)


async def test_the_tenants_pattern_formats_the_number() -> None:
    of = await tenant("ningxia")
    of.certificate_settings = {**of.certificate_settings, "number_pattern": "宁职{year}-{division}-{seq:04d}"}
    assert await take(of, 2103) == (1, "宁职2103-640000-0001")
    assert await take(of, 2103) == (2, "宁职2103-640000-0002")
    of.certificate_settings = {}  # a tenant without settings gets the default pattern
    assert await take(of, 2103) == (3, "2103640000000003")


async def test_a_rolled_back_transaction_gives_its_number_back() -> None:
    of = await tenant("gansu")
    assert await take(of, 2104) == (1, "2104620000000001")
    with pytest.raises(Abandoned):
        async with write_transaction(Tenant._meta.db):
            assert await next_certificate_number(of, 2104) == (2, "2104620000000002")
            assert await next_certificate_number(of, 2104) == (3, "2104620000000003")
            raise Abandoned
    assert await last(of, 2104) == 1
    assert await take(of, 2104) == (2, "2104620000000002")
    # The first number of a year, rolled back, leaves no sequence behind.
    with pytest.raises(Abandoned):
        async with write_transaction(Tenant._meta.db):
            assert await next_certificate_number(of, 2105) == (1, "2105620000000001")
            raise Abandoned
    assert await last(of, 2105) is None
    assert await take(of, 2105) == (1, "2105620000000001")


async def test_a_number_is_only_given_inside_a_transaction() -> None:
    of = await tenant("guangxi")
    with pytest.raises(NumberingError):
        await next_certificate_number(of, 2106)
    assert await last(of, 2106) is None


@pytest.mark.parametrize("year", [0, 10000, True, "2026"])
async def test_a_bad_year_is_refused(year: object) -> None:
    of = await tenant("guangxi")
    with pytest.raises(ValueError):
        async with write_transaction(Tenant._meta.db):
            await next_certificate_number(of, year)  # type: ignore[arg-type]


async def _issue_concurrently(of: Tenant, year: int, tasks: int) -> list[int]:
    """``tasks`` concurrent issues, every fifth rolled back after taking its number; returns the committed
    sequence numbers. Each holds its transaction open a moment after taking the number, so others queue."""
    committed: list[int] = []

    async def issue(index: int) -> None:
        await asyncio.sleep(random.random() / 100)
        try:
            async with write_transaction(Tenant._meta.db):
                seq, number = await next_certificate_number(of, year)
                assert number == f"{year}{of.division_code}{seq:06d}"
                await asyncio.sleep(random.random() / 200)
                if index % 5 == 0:
                    raise Abandoned
            committed.append(seq)
        except Abandoned:
            pass

    await asyncio.gather(*(issue(index) for index in range(tasks)))
    return committed


@pytest.mark.postgres_only
async def test_concurrent_issues_are_gapless_and_unique(transport: httpx.ASGITransport) -> None:
    """50 concurrent issues on the pooled PostgreSQL engine (started by the ``transport`` fixture), some
    rolled back: the committed numbers are exactly 1..N. First on a fresh year (the racing INSERTs of a
    year's first number), then again on the same year (the racing UPDATEs)."""
    of = await tenant("gansu")
    first = await _issue_concurrently(of, 2150, 50)
    assert len(first) == 40
    assert sorted(first) == list(range(1, 41))
    second = await _issue_concurrently(of, 2150, 50)
    assert sorted(first + second) == list(range(1, 81))
    assert await last(of, 2150) == 80
    rows = await CertificateSequence.count().where(
        (CertificateSequence.tenant == of.id) & (CertificateSequence.year == 2150)
    )
    assert rows == 1
