"""Resident ID numbers (GB 11643): validation with the checksum, and masking for display."""

from __future__ import annotations

import re

from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

ID_NUMBER_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")


class IdNumberError(ValueError):
    """The message is Chinese and safe to show next to the field."""


def normalize_id_number(raw: str) -> str:
    """The canonical form: 18 characters, a trailing x upper-cased; spaces people type are dropped.
    Raises IdNumberError with the reason otherwise."""
    candidate = "".join(raw.split()).upper()
    if len(candidate) == 18 and not ID_NUMBER_PATTERN.match(candidate):
        raise IdNumberError("身份证号前17位应为数字，最后一位为数字或X")
    try:
        return ric.validate(candidate)
    except InvalidLength:
        raise IdNumberError("身份证号应为18位") from None
    except InvalidFormat:
        raise IdNumberError("身份证号前17位应为数字，最后一位为数字或X") from None
    except InvalidChecksum:
        raise IdNumberError("身份证号校验位不正确，请核对") from None
    except InvalidComponent:
        raise IdNumberError("身份证号中的出生日期或地区码无效") from None
    except ValidationError:
        raise IdNumberError("身份证号无效") from None


CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_check_character(body: str) -> str:
    """The 17 digits of an ID number followed by their GB 11643 check character (ISO 7064 MOD 11-2)."""
    total = sum(int(digit) * weight for digit, weight in zip(body, CHECK_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def mask_id_number(id_number: str) -> str:
    """622826198501306421 → 622826********6421: region kept, birth date and sequence hidden."""
    return f"{id_number[:6]}{'*' * 8}{id_number[-4:]}"


def initial_password(id_number: str) -> str:
    """The initial password the notices prescribe: the last 8 characters of the ID number."""
    return id_number[-8:]
