"""Preset parsing: a broken preset is refused with a message naming its line."""

from __future__ import annotations

import pytest

from tenants.presets import PresetError, parse_preset, preset_paths, read_preset
from tenants.vocabulary import OrgKind, Procedure

VALID = """\
tenant:
  slug: demo
  name: 演示省
  authority_name: 演示省职称改革办公室
  division_code: "990000"
  theme_color: "#123456"
  procedures: [reissue]
orgs:
  - {code: 990000-province_office, name: 演示省职改办, kind: province_office, division: "990000"}
  - {code: 990100-city_office, name: 演示市职改办, kind: city_office, parent: 990000-province_office}
  - {code: 990101-county_hr, name: 演示县人社局, kind: county_hr, parent: 990100-city_office}
  - {code: 990101-employer-a, name: 演示县医院, kind: employer, parent: 990101-county_hr}
rules:
  reissue:
    - id: demo-county
      cite: 演示文件 一
      note: 县级单位由县人社局办理
      when: {employer_jurisdiction: [county], level: [junior]}
      authority: county_hr
    - id: demo-rest
      cite: 演示文件 二
      note: 其余由省职改办办理
      authority: province_office
"""


def broken(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_valid_preset_parses() -> None:
    preset = parse_preset(VALID, "demo.yaml")
    assert preset.orgs[0].code == "990000-province_office"
    assert preset.rules[Procedure.reissue][0].authority == (OrgKind.county_hr,)


@pytest.mark.parametrize(
    ("text", "line_fragment", "message"),
    [
        (
            broken("parent: 990100-city_office}", "parent: 990199-city_office}"),
            "990101-county_hr, name",
            "上级机构 990199-city_office 不存在",
        ),
        (
            broken("{code: 990101-employer-a,", "{code: 990100-city_office,"),
            "name: 演示县医院",
            "机构代码 990100-city_office 重复",
        ),
        (broken("authority: county_hr", "authority: township_office"), "id: demo-county", "township_office"),
        (
            broken("authority: county_hr", "authority: committee"),
            "id: demo-county",
            "机构类型 committee 在本地区机构树中不存在",
        ),
        (broken("kind: employer,", "kind: company,"), "name: 演示县医院", "kind 的值 “company” 不存在"),
        (
            broken("when: {employer_jurisdiction", "when: {employer_size"),
            "when: {employer_size",
            "未知字段 employer_size",
        ),
        (
            broken("level: [junior]}", "level: [chief]}"),
            "when: {employer_jurisdiction",
            "level 的值 “chief” 不存在",
        ),
        (
            broken(
                "      authority: province_office\n",
                "      when: {level: [senior]}\n      authority: province_office\n",
            ),
            "id: demo-rest",
            "兜底",
        ),
        (
            broken("      authority: county_hr\n", "      authority: county_hr\n      refuse: 不办\n"),
            "id: demo-county",
            "之一",
        ),
        (broken('theme_color: "#123456"', 'theme_color: "red"'), "slug: demo", "theme_color"),
    ],
    ids=[
        "unknown parent",
        "duplicate code",
        "rule names a kind that does not exist",
        "rule names a kind missing from the tree",
        "unknown org kind",
        "unknown condition",
        "unknown level",
        "no catch-all row",
        "both authority and refusal",
        "bad colour",
    ],
)
def test_broken_preset_names_the_line(text: str, line_fragment: str, message: str) -> None:
    with pytest.raises(PresetError) as raised:
        parse_preset(text, "demo.yaml")
    assert message in str(raised.value)
    assert raised.value.line == line_of(text, line_fragment), str(raised.value)
    assert f"demo.yaml 第{raised.value.line}行" in str(raised.value)


def test_yaml_syntax_error_names_the_line() -> None:
    text = broken("  - {code: 990101-employer-a,", "  - {code: [990101-employer-a,")
    with pytest.raises(PresetError) as raised:
        parse_preset(text, "demo.yaml")
    assert "YAML" in str(raised.value)
    assert raised.value.line is not None
    assert abs(raised.value.line - line_of(text, "code: [990101")) <= 1


def test_parent_cycle_is_refused() -> None:
    text = broken(
        "  - {code: 990101-employer-a, name: 演示县医院, kind: employer, parent: 990101-county_hr}",
        "  - {code: 990101-employer-a, name: 演示县医院, kind: employer, parent: 990101-employer-b}\n"
        "  - {code: 990101-employer-b, name: 演示县学校, kind: employer, parent: 990101-employer-a}",
    )
    with pytest.raises(PresetError, match="成环"):
        parse_preset(text, "demo.yaml")


def test_second_root_is_refused() -> None:
    text = broken(", parent: 990000-province_office}", "}")
    with pytest.raises(PresetError, match="恰有一个根") as raised:
        parse_preset(text, "demo.yaml")
    assert raised.value.line == line_of(text, "990100-city_office, name")


def test_rules_for_a_procedure_not_offered_are_refused() -> None:
    with pytest.raises(PresetError, match="未开通该事项"):
        parse_preset(broken("  reissue:\n", "  issuance:\n"), "demo.yaml")


def test_children_may_precede_parents_in_the_file() -> None:
    text = VALID.replace(
        "  - {code: 990101-county_hr, name: 演示县人社局, kind: county_hr, parent: 990100-city_office}\n", ""
    ).replace(
        "  - {code: 990000-province_office",
        "  - {code: 990101-county_hr, name: 演示县人社局, kind: county_hr, parent: 990100-city_office}\n"
        "  - {code: 990000-province_office",
    )
    codes = [org.code for org in parse_preset(text, "demo.yaml").orgs]
    assert codes.index("990101-county_hr") > codes.index("990100-city_office")


@pytest.mark.parametrize("path", preset_paths(), ids=lambda path: path.stem)
def test_shipped_presets_parse(path) -> None:
    preset = read_preset(path)
    assert preset.tenant.slug == path.stem
    offices = [org for org in preset.orgs if org.kind in (OrgKind.city_office, OrgKind.county_hr)]
    for office in offices:
        if office.division:
            assert office.code == f"{office.division}-{office.kind.value}"


def test_shipped_presets_have_the_real_divisions() -> None:
    by_slug = {path.stem: read_preset(path) for path in preset_paths()}
    assert set(by_slug) == {"gansu", "ningxia", "guangxi"}

    def cities(slug: str) -> list:
        return [org for org in by_slug[slug].orgs if org.kind is OrgKind.city_office and org.division]

    def counties_of(slug: str, city_code: str) -> list:
        return [
            org for org in by_slug[slug].orgs if org.kind is OrgKind.county_hr and org.parent == city_code
        ]

    assert len(cities("gansu")) == 14
    gansu_names = {org.name for org in by_slug["gansu"].orgs}
    assert any("兰州新区" in name for name in gansu_names) and any("甘肃矿区" in name for name in gansu_names)
    for city in cities("gansu"):
        if city.division != "620200":  # 嘉峪关 has no county-level divisions
            assert len(counties_of("gansu", city.code)) >= 2, city.name
    assert len(cities("ningxia")) == 5
    assert "640402-county_hr" in {org.code for org in counties_of("ningxia", "640400-city_office")}  # 原州区
    assert len(cities("guangxi")) == 14
    qinzhou = {org.code for org in counties_of("guangxi", "450700-city_office")}
    assert {"450702-county_hr", "450703-county_hr", "450721-county_hr", "450722-county_hr"} <= qinzhou
