"""Account rules without a database: ID numbers, masking, passwords, separation of duties."""

from __future__ import annotations

from datetime import date

import pytest

from accounts.identity import IdNumberError, initial_password, mask_id_number, normalize_id_number
from accounts.passwords import hash_password, password_problem, verify_password
from accounts.roles import Role
from accounts.services import separation_violation


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("622826198501306421", "622826198501306421"),
        ("11010519491231002x", "11010519491231002X"),
        (" 6228 2619 8501 3064 21 ", "622826198501306421"),
    ],
)
def test_valid_id_numbers_are_normalised(typed: str, expected: str) -> None:
    assert normalize_id_number(typed) == expected


# People born before their district was created carry its code on IDs issued later (DESIGN.md §6): each
# district below was created after 1980 (stdnum's data lists 620102 from 1983, 640104 from 2002, 450108 from
# 2004). Check characters computed with stdnum.iso7064.mod_11_2.
OLDER_PEOPLE = [
    "620102197203150259",  # 兰州市城关区, born 1972
    "620105195508200317",  # 兰州市安宁区, born 1955
    "640104196511300425",  # 银川市兴庆区, born 1965
    "640106199002280178",  # 银川市金凤区, born 1990
    "450107195006010223",  # 南宁市西乡塘区, born 1950
    "45010819801231053X",  # 南宁市良庆区, born 1980
]


@pytest.mark.parametrize("id_number", OLDER_PEOPLE)
def test_a_district_created_after_the_birth_year_is_accepted(id_number: str) -> None:
    assert normalize_id_number(id_number) == id_number


def test_a_lower_case_x_is_accepted_and_upper_cased() -> None:
    assert normalize_id_number("45010819801231053x") == "45010819801231053X"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("622826198501306422", "校验位不正确"),
        ("620102197203150258", "校验位不正确"),
        ("62282619850130642A", "最后一位为数字或X"),
        ("62282619850130642", "应为18位"),
        ("6201021972031502", "应为18位"),
        ("622826198513306421", "校验位"),  # month 13: invalid whichever check catches it first
        ("620102197202300251", "出生日期无效"),  # 30 February, with a correct check character
        ("620102203001010010", "出生日期晚于今天"),
        ("620102180001010011", "出生日期早于1900年"),
        ("990101197203150256", "地区码 990101 不存在"),
        ("620199197203150258", "地区码 620199 不存在"),  # a province that exists, a county that never did
        ("", "应为18位"),
    ],
)
def test_invalid_id_numbers_say_why(typed: str, message: str) -> None:
    with pytest.raises(IdNumberError, match=message):
        normalize_id_number(typed, today=date(2026, 12, 2))


def test_the_birth_date_may_be_today_but_not_tomorrow() -> None:
    born_today = "620102202612020010"
    assert normalize_id_number(born_today, today=date(2026, 12, 2)) == born_today
    with pytest.raises(IdNumberError, match="晚于今天"):
        normalize_id_number(born_today, today=date(2026, 12, 1))


def test_masking_and_initial_password() -> None:
    assert mask_id_number("622826198501306421") == "622826********6421"
    assert initial_password("622826198501306421") == "01306421"  # the last 8 digits (seed 000 六(七))


def test_argon2id_at_owasp_parameters_and_case_sensitive() -> None:
    stored = hash_password("Abc-12345")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(stored, "Abc-12345")
    assert not verify_password(stored, "aBC-12345")
    assert not verify_password("not a hash", "Abc-12345")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1", "至少8位"),
        ("abcdefgh", "同时包含"),
        ("12345678", "同时包含"),
        ("01306421", "初始密码"),
        ("x" * 129, "最多128位"),
    ],
)
def test_password_policy(password: str, problem: str) -> None:
    assert problem in (password_problem(password, id_number="622826198501306421") or "")


def test_a_reasonable_password_passes() -> None:
    assert password_problem("Gansu-2026", id_number="622826198501306421") is None


def test_separation_of_duties() -> None:
    """Seed 000 五(四): reviewer ≠ sealer; seed 001 §2 expects clerk ≠ reviewer too."""
    acted = {Role.clerk: {1}, Role.reviewer: {2}}
    assert separation_violation(acted, Role.sealer, 2) == "审核员和用印员不得为同一人"
    assert separation_violation(acted, Role.reviewer, 1) == "录入员和审核员不得为同一人"
    assert separation_violation(acted, Role.sealer, 3) is None
    assert separation_violation({Role.sealer: {4}}, Role.reviewer, 4) == "审核员和用印员不得为同一人"
    assert separation_violation(acted, Role.clerk, 1) is None  # the same clerk editing again
    assert separation_violation({}, Role.reviewer, 1) is None
