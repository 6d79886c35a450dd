"""Loading presets into the database: idempotent, and all-or-nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tenants.presets import PresetError, parse_preset, preset_paths, read_preset
from tenants.services import get_tenant, load_all_presets, load_preset
from tenants.tables import AuthorityRule, Org, Tenant
from tests.unit.tenants.test_presets import VALID


@pytest.fixture
async def demo_cleanup() -> AsyncIterator[None]:
    """Removes the demo tenant a test may create, children before parents (org.parent is RESTRICT)."""
    yield
    tenant = await get_tenant("demo")
    if tenant is None:
        return
    await AuthorityRule.delete().where(AuthorityRule.tenant == tenant.id)
    for row in (
        await Org.select(Org.id).where(Org.tenant == tenant.id).order_by(Org.position, ascending=False)
    ):
        await Org.delete().where(Org.id == row["id"])
    await Tenant.delete().where(Tenant.id == tenant.id)


async def snapshot() -> dict[str, list[dict[str, Any]]]:
    return {
        table._meta.tablename: await table.select().order_by(table.id).output(load_json=True)
        for table in (Tenant, Org, AuthorityRule)
    }


async def test_loading_the_presets_twice_changes_nothing() -> None:
    before = await snapshot()
    reports = await load_all_presets()
    assert [report.changed for report in reports] == [False, False, False]
    assert await snapshot() == before


async def test_every_preset_is_in_the_database() -> None:
    for path in preset_paths():
        preset = read_preset(path)
        tenant = await get_tenant(preset.tenant.slug)
        assert tenant is not None
        codes = {row["code"] for row in await Org.select(Org.code).where(Org.tenant == tenant.id)}
        assert codes == {org.code for org in preset.orgs}
        rules = await AuthorityRule.count().where(AuthorityRule.tenant == tenant.id)
        assert rules == sum(len(table) for table in preset.rules.values())


async def test_a_new_tenant_loads_then_updates_in_place(demo_cleanup: None) -> None:
    preset = parse_preset(VALID, "demo.yaml")
    first = await load_preset(preset)
    assert first.created == {"tenant": 1, "org": 4, "authority_rule": 2}
    tenant = await get_tenant("demo")
    assert tenant is not None
    ids_before = {
        row["code"]: row["id"] for row in await Org.select(Org.code, Org.id).where(Org.tenant == tenant.id)
    }

    renamed = parse_preset(VALID.replace("name: 演示县医院", "name: 演示县人民医院"), "demo.yaml")
    second = await load_preset(renamed)
    assert second.updated == {"org": 1} and not second.created and not second.deleted
    rows = await Org.select(Org.code, Org.id, Org.name).where(Org.tenant == tenant.id)
    assert {row["code"]: row["id"] for row in rows} == ids_before
    assert "演示县人民医院" in {row["name"] for row in rows}

    assert not (await load_preset(renamed)).changed


async def test_a_broken_preset_loads_nothing(demo_cleanup: None) -> None:
    before = await snapshot()
    broken = VALID.replace("parent: 990100-city_office}", "parent: 990199-city_office}")
    with pytest.raises(PresetError):
        await load_preset(parse_preset(broken, "demo.yaml"))
    assert await get_tenant("demo") is None
    assert await snapshot() == before


async def test_a_failure_while_writing_rolls_back_everything(demo_cleanup: None) -> None:
    """Parsing catches what it can; if the database itself refuses a row, the transaction leaves nothing."""
    before = await snapshot()
    preset = parse_preset(VALID, "demo.yaml")
    # A repeated org code cannot come out of the parser; built by hand, it hits the unique index last.
    orgs = (*preset.orgs, preset.orgs[-1])
    with pytest.raises(Exception):  # noqa: B017 - the driver's IntegrityError differs per engine
        await load_preset(type(preset)(preset.source, preset.tenant, orgs, preset.rules))
    assert await get_tenant("demo") is None
    assert await snapshot() == before
