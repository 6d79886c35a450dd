"""Resident ID numbers (GB 11643): the one check of an ID number, and masking for display.

A number is valid when its 18th character is the ISO 7064 MOD 11-2 check character of the first 17, its birth
date is a real date not after today, and its region code is one that has ever existed. ``stdnum.cn.ric`` goes
further and refuses a region code that did not yet exist in the birth year (620102 兰州市城关区 is listed from
1983), but people born before a district was created carry its code on IDs issued later; so only the code set
of any year is used here (stdnum's table of region codes with their validity years, shipped in the package).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from stdnum import numdb
from stdnum.iso7064 import mod_11_2

from tenants import calendar

ID_NUMBER_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")
# No 18-digit number was issued to anyone born before: an earlier year is a typing error.
EARLIEST_BIRTH = date(1900, 1, 1)


class IdNumberError(ValueError):
    """The message is Chinese and safe to show next to the field."""


def check_character(first_17: str) -> str:
    """The GB 11643 check character (ISO 7064 MOD 11-2: a digit or X) of the first 17 digits."""
    return mod_11_2.calc_check_digit(first_17)


@lru_cache(maxsize=4096)
def region_ever_existed(code: str) -> bool:
    """Whether the 6-digit administrative division code was in use in any year (stdnum's cn/loc table)."""
    found = {key for _, properties in numdb.get("cn/loc").info(code) for key in properties}
    return "county" in found


def normalize_id_number(raw: str, *, today: date | None = None) -> str:
    """The canonical form: 18 characters, a trailing x upper-cased; spaces people type are dropped.
    Raises IdNumberError with the reason otherwise. ``today`` is China's date unless given."""
    candidate = "".join(raw.split()).upper()
    if len(candidate) != 18:
        raise IdNumberError("身份证号应为18位")
    if not ID_NUMBER_PATTERN.match(candidate):
        raise IdNumberError("身份证号前17位应为数字，最后一位为数字或X")
    if candidate[-1] != check_character(candidate[:17]):
        raise IdNumberError("身份证号校验位不正确，请核对")
    try:
        born = date(int(candidate[6:10]), int(candidate[10:12]), int(candidate[12:14]))
    except ValueError:
        raise IdNumberError("身份证号中的出生日期无效") from None
    if born > (today or calendar.today_in_china()):
        raise IdNumberError("身份证号中的出生日期晚于今天，请核对")
    if born < EARLIEST_BIRTH:
        raise IdNumberError(f"身份证号中的出生日期早于{EARLIEST_BIRTH.year}年，请核对")
    if not region_ever_existed(candidate[:6]):
        raise IdNumberError(f"身份证号中的地区码 {candidate[:6]} 不存在，请核对前6位")
    return candidate


def mask_id_number(id_number: str) -> str:
    """622826198501306421 → 622826********6421: region kept, birth date and sequence hidden."""
    return f"{id_number[:6]}{'*' * 8}{id_number[-4:]}"


def initial_password(id_number: str) -> str:
    """The initial password the notices prescribe: the last 8 characters of the ID number."""
    return id_number[-8:]
