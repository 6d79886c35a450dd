"""E-licence identifiers (GB/T 36904), certificate-number patterns, and the presets' ``certificates``.

Check characters are verified independently with stdnum's ``mod_37_36.is_valid`` over what the check covers:
type code + issuer code + serial + version, concatenated (see ``certificates.identifiers``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc
from stdnum.iso7064 import mod_37_36

from certificates.identifiers import (
    ALPHABET,
    DEFAULT_NUMBER_PATTERN,
    ROOT,
    IdentifierError,
    check_number_pattern,
    format_certificate_number,
    is_valid_licence_identifier,
    licence_identifier,
)
from tenants.presets import PresetError, parse_preset, preset_paths, read_preset
from tests.unit.tenants.test_presets import VALID

TYPE = "11100000000000000J001"
ISSUER = "11620000000000000C"
SERIAL = "2026620000000001"

# Identifiers published by government e-licence systems (see the module docstring of the identifiers):
PUBLISHED = (
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S",
)
# A provincial platform's test fixture: its check character agrees, but its issuer is a division code, not
# a unified social credit code, so we do not accept it as a whole.
FIXTURE_WITHOUT_USCC = "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9"


def covered(identifier: str) -> str:
    """What the check character covers, followed by the check character: stdnum validates this."""
    type_code, issuer, serial, version, check = identifier.removeprefix(ROOT + ".").split(".")
    return type_code + issuer + serial + version + check


# --- the e-licence identifier ---------------------------------------------------------------------------


def test_an_identifier_has_the_standard_layout() -> None:
    identifier = licence_identifier(TYPE, ISSUER, SERIAL)
    assert identifier.startswith("1.2.156.3005.2.")
    type_code, issuer, serial, version, check = identifier.removeprefix("1.2.156.3005.2.").split(".")
    assert (type_code, issuer, serial, version) == (TYPE, ISSUER, SERIAL, "001")
    assert len(check) == 1 and check in ALPHABET
    assert is_valid_licence_identifier(identifier)


@pytest.mark.parametrize("version", [1, 2, 12, 999])
def test_the_check_character_is_iso_7064_mod_37_36_over_the_components(version: int) -> None:
    identifier = licence_identifier(TYPE, ISSUER, SERIAL, version)
    assert identifier.split(".")[-2] == f"{version:03d}"
    assert mod_37_36.is_valid(covered(identifier))
    assert identifier[-1] == mod_37_36.calc_check_digit(TYPE + ISSUER + SERIAL + f"{version:03d}")


def test_a_known_identifier_is_reproduced() -> None:
    assert licence_identifier("11100000000013338W011", "11430000006122244L", "20230000403", 2) == PUBLISHED[1]


@pytest.mark.parametrize("identifier", [*PUBLISHED, FIXTURE_WITHOUT_USCC])
def test_published_check_characters_cover_the_components(identifier: str) -> None:
    assert mod_37_36.is_valid(covered(identifier))
    # …and not the root OID: computed over the whole text without dots it would differ.
    body, check = identifier.rsplit(".", 1)
    assert mod_37_36.calc_check_digit(body.replace(".", "")) != check


@pytest.mark.parametrize("identifier", PUBLISHED)
def test_published_identifiers_are_valid(identifier: str) -> None:
    assert is_valid_licence_identifier(identifier)


def test_an_issuer_that_is_not_a_uscc_is_not_valid() -> None:
    assert not is_valid_licence_identifier(FIXTURE_WITHOUT_USCC)


def test_every_changed_character_is_detected() -> None:
    identifier = licence_identifier(TYPE, ISSUER, SERIAL)
    start = len(ROOT) + 1
    for position in range(start, len(identifier)):
        if identifier[position] == ".":
            continue
        for replacement in ALPHABET:
            if replacement == identifier[position]:
                continue
            changed = identifier[:position] + replacement + identifier[position + 1 :]
            assert not is_valid_licence_identifier(changed), changed


def test_adjacent_transpositions_are_detected() -> None:
    identifier = licence_identifier(TYPE, ISSUER, "A1B2C3D4E5")
    start = len(ROOT) + 1
    for position in range(start, len(identifier) - 1):
        a, b = identifier[position], identifier[position + 1]
        if a == b or "." in (a, b):
            continue
        swapped = identifier[:position] + b + a + identifier[position + 2 :]
        assert not is_valid_licence_identifier(swapped), swapped


@pytest.mark.parametrize(
    "issuer",
    [
        "11620000000000000D",  # wrong GB 32100 check character
        "11620000000000000",  # 17 characters
        "116200000000000000C",  # 19 characters
        "11620000000000000c",  # lower case
        "1162000000000000OC",  # O is not in the USCC alphabet
        "",
    ],
)
def test_a_bad_unified_social_credit_code_is_refused(issuer: str) -> None:
    assert not uscc.is_valid(issuer) or issuer != issuer.upper()
    with pytest.raises(IdentifierError) as caught:
        licence_identifier(TYPE, issuer, SERIAL)
    assert "统一社会信用代码" in caught.value.message
    # An identifier carrying it is not valid even with a matching check character.
    version = "001"
    forged = f"{ROOT}.{TYPE}.{issuer}.{SERIAL}.{version}." + mod_37_36.calc_check_digit(
        (TYPE + issuer + SERIAL + version).upper()
    )
    assert not is_valid_licence_identifier(forged)


@pytest.mark.parametrize(
    ("type_code", "serial", "version", "word"),
    [
        ("", SERIAL, 1, "证照类型代码"),
        ("11100000000000000j001", SERIAL, 1, "证照类型代码"),
        ("111.000", SERIAL, 1, "证照类型代码"),
        ("A" * 33, SERIAL, 1, "证照类型代码"),
        (TYPE, "", 1, "流水号"),
        (TYPE, "2026-0001", 1, "流水号"),
        (TYPE, "X" * 41, 1, "流水号"),
        (TYPE, SERIAL, 0, "版本号"),
        (TYPE, SERIAL, 1000, "版本号"),
        (TYPE, SERIAL, True, "版本号"),
    ],
)
def test_bad_components_are_refused_in_chinese(type_code: str, serial: str, version: int, word: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        licence_identifier(type_code, ISSUER, serial, version)
    assert word in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        ROOT,
        f"1.2.156.3005.3.{TYPE}.{ISSUER}.{SERIAL}.001.G",  # another root
        f"{ROOT}.{TYPE}.{ISSUER}.{SERIAL}.001",  # no check character
        f"{ROOT}.{TYPE}.{ISSUER}.{SERIAL}.000.G",  # version 000
        f"{ROOT}.{TYPE}.{ISSUER}.{SERIAL}.1.G",  # version not three digits
        f"{ROOT}.{TYPE}.{ISSUER}.{SERIAL}.001.GG",
        f"{ROOT}.{TYPE}.{ISSUER}.{SERIAL}.001.G.",
        f" {ROOT}.{TYPE}.{ISSUER}.{SERIAL}.001.G",
    ],
)
def test_malformed_texts_are_not_valid(text: str) -> None:
    assert not is_valid_licence_identifier(text)


def test_lower_case_is_not_valid() -> None:
    identifier = licence_identifier(TYPE, ISSUER, "A1B2C3")
    assert not is_valid_licence_identifier(identifier.lower())


_code = st.text(alphabet=ALPHABET, min_size=1, max_size=32)
_uscc_body = st.builds(
    lambda head, tail: head + tail,
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=9, max_size=9),
)


@given(_code, _uscc_body, st.text(alphabet=ALPHABET, min_size=1, max_size=40), st.integers(1, 999))
def test_every_identifier_made_is_valid(type_code: str, body: str, serial: str, version: int) -> None:
    issuer = body + uscc.calc_check_digit(body)
    identifier = licence_identifier(type_code, issuer, serial, version)
    assert is_valid_licence_identifier(identifier)
    assert mod_37_36.is_valid(covered(identifier))


# --- certificate-number patterns ------------------------------------------------------------------------


def test_the_default_pattern() -> None:
    assert DEFAULT_NUMBER_PATTERN == "{year}{division}{seq:06d}"
    assert format_certificate_number(DEFAULT_NUMBER_PATTERN, 2026, "620000", 1) == "2026620000000001"
    assert format_certificate_number(DEFAULT_NUMBER_PATTERN, 2026, "450000", 123456) == "2026450000123456"
    assert format_certificate_number("NX-{year}-{seq:05d}", 2027, "640000", 42) == "NX-2027-00042"


@pytest.mark.parametrize(
    ("pattern", "word"),
    [
        ("{year}{division}{number:06d}", "未知占位符"),
        ("{year}{seq.real}", "未知占位符"),
        ("{year[0]}{seq}", "未知占位符"),
        ("{0}{year}{seq}", "未知占位符"),
        ("{year}{}{seq}", "未知占位符"),
        ("{division}{seq:06d}", "缺少 {year}"),
        ("{year}{division}", "缺少 {seq}"),
        ("{year}{seq:06d", "花括号"),
        ("{year}{seq:q}", "格式说明无效"),
        ("{year}{seq!r}", "不受支持"),
        ("{year}{seq:{division}}", "不受支持"),
        ("{year}{seq:0100d}", "超过"),
        ("   ", "非空"),
    ],
)
def test_bad_patterns_are_refused(pattern: str, word: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        check_number_pattern(pattern)
    assert word in caught.value.message


# --- the presets' certificates settings -----------------------------------------------------------------

CERTIFICATES_BLOCK = """\
  certificates:
    number_pattern: "{year}-{seq:05d}"
    licence_type_code: "11100000000000000J001"
    issuer_code: "11620000000000000C"
    validity: 长期
    notices:
      e_certificates: 甘人社明电〔2019〕90号 附件2
"""


def with_certificates(block: str) -> str:
    anchor = "  procedures: [reissue]\n"
    assert anchor in VALID
    return VALID.replace(anchor, anchor + block, 1)


def certificates_line() -> int:
    """The line the certificates mapping starts on (its first key), which errors name."""
    return (
        with_certificates(CERTIFICATES_BLOCK).splitlines().index('    number_pattern: "{year}-{seq:05d}"') + 1
    )


def test_the_settings_are_read() -> None:
    preset = parse_preset(with_certificates(CERTIFICATES_BLOCK), "demo.yaml")
    assert preset.tenant.certificates == {
        "number_pattern": "{year}-{seq:05d}",
        "licence_type_code": "11100000000000000J001",
        "issuer_code": "11620000000000000C",
        "validity": "长期",
        "notices": {"e_certificates": "甘人社明电〔2019〕90号 附件2"},
    }


def test_without_settings_the_defaults_apply() -> None:
    assert parse_preset(VALID, "demo.yaml").tenant.certificates == {
        "number_pattern": DEFAULT_NUMBER_PATTERN,
        "licence_type_code": None,
        "issuer_code": None,
        "validity": "长期",
        "notices": {},
    }


def test_a_notice_the_public_pages_cannot_cite_is_refused() -> None:
    block = CERTIFICATES_BLOCK.replace("e_certificates:", "e_licence:")
    with pytest.raises(PresetError, match="e_licence"):
        parse_preset(with_certificates(block), "demo.yaml")


@pytest.mark.parametrize(
    ("old", "new", "word"),
    [
        ('"{year}-{seq:05d}"', '"{year}-{serial}"', "未知占位符"),
        ('"{year}-{seq:05d}"', '"{seq:05d}"', "缺少 {year}"),
        ('"11620000000000000C"', '"11620000000000000D"', "统一社会信用代码"),
        ('"11620000000000000C"', '"1162000000000000C"', "统一社会信用代码"),
        ('"11100000000000000J001"', '"demo"', "证照类型代码"),
        ("    validity: 长期\n", "    validity: 长期\n    expires: 2030\n", "未知字段 expires"),
        ('    issuer_code: "11620000000000000C"\n', "", "须同时填写"),
        ("    validity: 长期\n", '    validity: ""\n', "validity 应为非空文本"),
    ],
)
def test_bad_settings_are_refused_with_their_line(old: str, new: str, word: str) -> None:
    assert old in CERTIFICATES_BLOCK
    text = with_certificates(CERTIFICATES_BLOCK.replace(old, new, 1))
    with pytest.raises(PresetError) as caught:
        parse_preset(text, "demo.yaml")
    assert caught.value.line == certificates_line()
    assert word in caught.value.message
    assert str(caught.value).startswith(f"demo.yaml 第{certificates_line()}行：")


def test_the_shipped_presets_make_valid_identifiers() -> None:
    for path in preset_paths():
        settings = read_preset(path).tenant.certificates
        division = read_preset(path).tenant.division_code
        number = format_certificate_number(settings["number_pattern"], 2026, division, 1)
        identifier = licence_identifier(settings["licence_type_code"], settings["issuer_code"], number)
        assert is_valid_licence_identifier(identifier)
        assert settings["validity"] == "长期"
