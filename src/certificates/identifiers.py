"""Certificate identifiers, pure functions (no database): the e-licence identifier of GB/T 36904 and the
human certificate number made from a tenant's ``number_pattern``.

E-licence identifier (GB/T 36904-2018《电子证照 标识规范》)::

    1.2.156.3005.2.<证照类型代码>.<证照颁发机构代码>.<流水号>.<版本号>.<校验位>

- ``1.2.156.3005.2`` is the e-licence root OID; the five components after it are separated by dots.
- 证照类型代码 (licence type code): upper-case letters and digits. Nationally assigned codes are the
  defining department's 18-character unified social credit code followed by three digits
  (``11100000000013338W011``); we only require ``[0-9A-Z]{1,32}``.
- 证照颁发机构代码 (issuer code): the issuer's 18-character unified social credit code (GB 32100), checked
  with its own check character (``stdnum.cn.uscc``).
- 流水号 (serial): upper-case letters and digits, ``[0-9A-Z]{1,40}`` (we use the certificate number).
- 版本号 (version): three digits, ``001`` … ``999``.
- 校验位 (check character): ISO/IEC 7064 MOD 37,36 (GB/T 17710), one character of ``0-9A-Z``.

**What the check character covers** (our decision). It is computed over the licence type code, issuer
code, serial and version *concatenated, without the dots and without the root OID*. We could not consult
the standard's own text; the decision rests on identifiers published by government systems, whose check
characters all come out this way and not over the whole text (with or without dots):
``1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U`` (the example of the national
construction-safety certificate interface) and its ``….002.S`` sibling, and
``1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9`` (a provincial platform's test fixture, whose
issuer field is a division code, so it fails our USCC check); implementations in the wild concatenate
``type + issuer + serial + version`` likewise. So ``mod_37_36.is_valid(type + issuer + serial + version +
check)`` holds for every identifier made here (the unit tests check exactly that, with stdnum).

Certificate number: ``format_certificate_number(pattern, year, division, seq)``, with the placeholders
``{year}``, ``{division}`` (the tenant's 6-digit GB/T 2260 division code) and ``{seq}`` (the per-tenant,
per-year sequence number, see ``certificates.numbering``), e.g. ``{year}{division}{seq:06d}``.
"""

from __future__ import annotations

import re
import string

from stdnum.cn import uscc
from stdnum.iso7064 import mod_37_36

ROOT = "1.2.156.3005.2"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
TYPE_CODE_PATTERN = re.compile(r"^[0-9A-Z]{1,32}$")
SERIAL_PATTERN = re.compile(r"^[0-9A-Z]{1,40}$")
VERSION_PATTERN = re.compile(r"^(?!000)[0-9]{3}$")
MAX_VERSION = 999


class IdentifierError(ValueError):
    """A bad component of an identifier or certificate number; ``message`` is Chinese, for people."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


# --- components ----------------------------------------------------------------------------------------


def check_type_code(type_code: str) -> str:
    if not isinstance(type_code, str) or not TYPE_CODE_PATTERN.match(type_code):
        raise IdentifierError(f"证照类型代码 “{type_code}” 格式不正确：应为 1 到 32 位大写字母或数字")
    return type_code


def check_issuer_code(issuer_code: str) -> str:
    """The issuer's unified social credit code (GB 32100): 18 characters with a valid check character.
    (``stdnum.cn.uscc`` also wants the first eight characters to be digits, which holds for government
    departments — 登记管理部门代码 ``1``, 机构编制 — that issue certificates.)"""
    if not isinstance(issuer_code, str) or len(issuer_code) != 18:
        raise IdentifierError(f"证照颁发机构代码 “{issuer_code}” 应为 18 位统一社会信用代码")
    if issuer_code != issuer_code.upper() or not uscc.is_valid(issuer_code):
        raise IdentifierError(f"证照颁发机构代码 “{issuer_code}” 不是有效的统一社会信用代码（校验不通过）")
    return issuer_code


def check_serial(serial: str) -> str:
    if not isinstance(serial, str) or not SERIAL_PATTERN.match(serial):
        raise IdentifierError(f"证照流水号 “{serial}” 格式不正确：应为 1 到 40 位大写字母或数字")
    return serial


def _version_text(version: int) -> str:
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_VERSION:
        raise IdentifierError(f"证照版本号 “{version}” 应为 1 到 {MAX_VERSION} 之间的整数")
    return f"{version:03d}"


def check_character(type_code: str, issuer_code: str, serial: str, version: str) -> str:
    """The MOD 37,36 check character over the four components concatenated (see the module docstring)."""
    return mod_37_36.calc_check_digit(type_code + issuer_code + serial + version, alphabet=ALPHABET)


# --- the e-licence identifier ---------------------------------------------------------------------------


def licence_identifier(type_code: str, issuer_code: str, serial: str, version: int = 1) -> str:
    """``1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>``; raises ``IdentifierError``."""
    type_code = check_type_code(type_code)
    issuer_code = check_issuer_code(issuer_code)
    serial = check_serial(serial)
    version_text = _version_text(version)
    check = check_character(type_code, issuer_code, serial, version_text)
    return ".".join((ROOT, type_code, issuer_code, serial, version_text, check))


def is_valid_licence_identifier(text: str) -> bool:
    """Whether ``text`` is a well-formed identifier whose issuer code and check character are right."""
    if not isinstance(text, str) or not text.startswith(ROOT + "."):
        return False
    parts = text[len(ROOT) + 1 :].split(".")
    if len(parts) != 5:
        return False
    type_code, issuer_code, serial, version, check = parts
    try:
        check_type_code(type_code)
        check_issuer_code(issuer_code)
        check_serial(serial)
    except IdentifierError:
        return False
    if not VERSION_PATTERN.match(version) or len(check) != 1 or check not in ALPHABET:
        return False
    return check_character(type_code, issuer_code, serial, version) == check


# --- the human certificate number -----------------------------------------------------------------------

DEFAULT_NUMBER_PATTERN = "{year}{division}{seq:06d}"
NUMBER_PLACEHOLDERS = frozenset({"year", "division", "seq"})
REQUIRED_NUMBER_PLACEHOLDERS = ("year", "seq")  # the sequence restarts every year
MAX_NUMBER_LENGTH = 64


def check_number_pattern(pattern: str) -> str:
    """A certificate-number pattern: only ``{year}``, ``{division}`` and ``{seq}`` (with an optional format
    spec such as ``{seq:06d}``), and at least ``{year}`` and ``{seq}`` so that numbers never repeat."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise IdentifierError("证书编号规则应为非空文本")
    names = set()
    try:
        fields = list(string.Formatter().parse(pattern))
    except ValueError:
        raise IdentifierError(f"证书编号规则 “{pattern}” 的花括号不成对") from None
    for _literal, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in NUMBER_PLACEHOLDERS:
            allowed = "、".join("{" + placeholder + "}" for placeholder in sorted(NUMBER_PLACEHOLDERS))
            raise IdentifierError(f"证书编号规则 “{pattern}” 含未知占位符 {{{name}}}（可用：{allowed}）")
        if conversion is not None or "{" in (spec or ""):
            raise IdentifierError(f"证书编号规则 “{pattern}” 中 {{{name}}} 的写法不受支持")
        names.add(name)
    missing = [name for name in REQUIRED_NUMBER_PLACEHOLDERS if name not in names]
    if missing:
        raise IdentifierError(
            f"证书编号规则 “{pattern}” 缺少 {'、'.join('{' + name + '}' for name in missing)}，编号会重复"
        )
    try:
        sample = pattern.format(year=2026, division="620000", seq=1)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise IdentifierError(f"证书编号规则 “{pattern}” 的格式说明无效：{error}") from None
    if len(sample) > MAX_NUMBER_LENGTH:
        raise IdentifierError(f"证书编号规则 “{pattern}” 生成的编号超过 {MAX_NUMBER_LENGTH} 个字符")
    return pattern


def format_certificate_number(pattern: str, year: int, division: str, seq: int) -> str:
    """The human certificate number, e.g. ``2026620000000001`` for ``{year}{division}{seq:06d}``."""
    return check_number_pattern(pattern).format(year=year, division=division, seq=seq)
