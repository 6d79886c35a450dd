"""Password hashing: argon2id at OWASP's floor (19 MiB, t=2, p=1) or above."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_LENGTH = 8
MAX_LENGTH = 128


def hash_password(password: str) -> str:
    return HASHER.hash(password)


@cache
def _stand_in_hash() -> str:
    return HASHER.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Case-sensitive, as the notices insist. Without a hash (an unknown user name or ID number, an account
    without a password) the password is checked against a stand-in hash and refused: the answer takes as
    long as for a known account, so its timing does not tell whether the account exists."""
    try:
        return HASHER.verify(password_hash or _stand_in_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)


def password_problem(password: str, *, id_number: str | None = None) -> str | None:
    """Why a new password is not acceptable (Chinese, shown next to the field), or None."""
    if len(password) < MIN_LENGTH:
        return f"密码至少{MIN_LENGTH}位"
    if len(password) > MAX_LENGTH:
        return f"密码最多{MAX_LENGTH}位"
    if id_number and password == id_number[-8:]:
        return "新密码不能与初始密码（身份证号后8位）相同"
    if password.isdigit() or password.isalpha():
        return "密码须同时包含字母和数字（或其他字符）"
    return None
