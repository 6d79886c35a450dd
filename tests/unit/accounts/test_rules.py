"""Account rules without a database: ID numbers, masking, passwords, separation of duties."""

from __future__ import annotations

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


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("622826198501306422", "校验位不正确"),
        ("62282619850130642A", "最后一位为数字或X"),
        ("62282619850130642", "应为18位"),
        ("622826198513306421", "校验位"),  # month 13: invalid whichever check catches it first
        ("", "应为18位"),
    ],
)
def test_invalid_id_numbers_say_why(typed: str, message: str) -> None:
    with pytest.raises(IdNumberError, match=message):
        normalize_id_number(typed)


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
