"""Rotating the PII key: `reencrypt_id_numbers()` moves every ID number to the current key, and
`zhicheng rotate-pii-key` runs it."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from accounts.key_rotation import ReencryptionError, reencrypt_id_numbers
from accounts.secrets import pii_keys
from accounts.services import applicant_by_id_number, create_applicant, id_number_of
from accounts.tables import Account
from audit.services import SYSTEM, events_for
from tenants.services import get_tenant
from tenants.tables import Tenant

ID_NUMBER = "440304198808151232"  # used by no other test
NEW_KEY = "new2:" + base64.b64encode(b"n" * 32).decode()
ZHICHENG = str(Path(sys.executable).parent / "zhicheng")


@pytest.fixture
async def use_pii_keys(database: None) -> AsyncIterator[Callable[[str], None]]:
    """Sets ZHICHENG_PII_KEYS for the test; afterwards moves every ID number back to the suite's key and
    restores the environment and the key cache."""
    original = os.environ["ZHICHENG_PII_KEYS"]

    def use(value: str) -> None:
        os.environ["ZHICHENG_PII_KEYS"] = value
        pii_keys.cache_clear()

    pii_keys.cache_clear()
    try:
        yield use
    finally:
        try:
            use(f"{original},{NEW_KEY}")
            await reencrypt_id_numbers()
        finally:
            os.environ["ZHICHENG_PII_KEYS"] = original
            pii_keys.cache_clear()


@pytest.fixture
async def ningxia() -> Tenant:
    tenant = await get_tenant("ningxia")
    assert tenant is not None
    return tenant


@pytest.fixture
async def applicant(ningxia: Tenant) -> AsyncIterator[int]:
    account_id = await create_applicant(ningxia, SYSTEM, name="李四", id_number=ID_NUMBER, org_id=None)
    yield account_id
    await Account.delete().where(Account.id == account_id)


async def stored(account_id: int) -> dict[str, object]:
    row = await Account.select().where(Account.id == account_id).first()
    assert row is not None
    return row


async def test_rotation_reencrypts_under_the_new_key(
    use_pii_keys: Callable[[str], None], ningxia: Tenant, applicant: int
) -> None:
    old_keys = os.environ["ZHICHENG_PII_KEYS"]
    before = await stored(applicant)
    assert str(before["id_number_cipher"]).startswith("test1.")
    # Everything encrypted so far (this applicant, and whatever other tests created) is under test1.
    encrypted = await Account.count().where(Account.id_number_cipher.is_not_null())

    use_pii_keys(f"{NEW_KEY},{old_keys}")
    assert await reencrypt_id_numbers(batch_size=2) == encrypted  # several batches

    after = await stored(applicant)
    assert str(after["id_number_cipher"]).startswith("new2.")
    assert after["id_number_hash"] == before["id_number_hash"]  # the look-up hash is not touched
    assert id_number_of(ningxia, after) == ID_NUMBER
    found = await applicant_by_id_number(ningxia, ID_NUMBER)
    assert found is not None and found["id"] == applicant
    events = await events_for(ningxia, action_prefix="pii.reencrypt", limit=1)
    assert events and events[0]["details"]["key"] == "new2"

    assert await reencrypt_id_numbers() == 0  # idempotent

    use_pii_keys(NEW_KEY)  # the old key retired
    assert id_number_of(ningxia, await stored(applicant)) == ID_NUMBER


async def test_a_missing_old_key_stops_the_rotation(
    use_pii_keys: Callable[[str], None], applicant: int
) -> None:
    use_pii_keys(NEW_KEY)  # test1 is no longer configured, so its values cannot be decrypted
    with pytest.raises(ReencryptionError, match="test1"):
        await reencrypt_id_numbers()
    assert str((await stored(applicant))["id_number_cipher"]).startswith("test1.")


async def test_rotate_pii_key_command(database: None) -> None:
    """With the suite's single key everything is current: the command re-encrypts nothing."""
    process = await asyncio.create_subprocess_exec(
        ZHICHENG,
        "rotate-pii-key",
        env={**os.environ, "PICCOLO_CONF": "piccolo_conf"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()
    assert "re-encrypted 0 ID numbers with key test1" in stdout.decode()
