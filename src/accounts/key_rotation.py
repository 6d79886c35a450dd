"""Re-encrypting ID numbers after the PII key was rotated (``zhicheng rotate-pii-key``, docs/security.md).

Every ``Account.id_number_cipher`` sealed under a key other than the current one (the first of
``ZHICHENG_PII_KEYS``) is decrypted with its own key and encrypted again with the current one, under the same
tenant context. Rows are read in batches of ids (no lock held while reading) and each batch's stale rows are
written in one write transaction, each only if its cipher is still the one that was read, so a concurrent
change is never overwritten. Running it again re-encrypts nothing. The look-up hash does not change.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag

from accounts import secrets as pii
from accounts.services import id_context
from accounts.tables import Account
from audit.services import SYSTEM, record
from core.db import write_transaction
from tenants.tables import Tenant

BATCH_SIZE = 500


class ReencryptionError(RuntimeError):
    """A stored value could not be decrypted (its key is not configured, or the value is damaged)."""


def _reencrypted(tenant: Tenant, account_id: int, cipher: str) -> str:
    context = id_context(tenant)
    try:
        plaintext = pii.decrypt(cipher, context=context)
    except pii.KeyConfigurationError as error:
        raise ReencryptionError(f"account {account_id}: {error}") from None
    except (InvalidTag, ValueError):
        raise ReencryptionError(f"account {account_id}: the stored ID number does not decrypt") from None
    return pii.encrypt(plaintext, context=context)


async def _reencrypt_tenant(tenant: Tenant, batch_size: int) -> int:
    count = 0
    after = 0
    while True:
        rows = (
            await Account.select(Account.id, Account.id_number_cipher)
            .where(Account.tenant == tenant.id, Account.id > after, Account.id_number_cipher.is_not_null())
            .order_by(Account.id)
            .limit(batch_size)
        )
        if not rows:
            return count
        after = rows[-1]["id"]
        stale = [row for row in rows if pii.needs_reencryption(row["id_number_cipher"])]
        if not stale:
            continue
        replacements = [
            (row["id"], row["id_number_cipher"], _reencrypted(tenant, row["id"], row["id_number_cipher"]))
            for row in stale
        ]
        async with write_transaction(Account._meta.db):
            for account_id, old, new in replacements:
                updated = (
                    await Account.update({Account.id_number_cipher: new})
                    .where(Account.id == account_id, Account.id_number_cipher == old)
                    .returning(Account.id)
                )
                count += len(updated)


async def reencrypt_id_numbers(*, batch_size: int = BATCH_SIZE) -> int:
    """Re-encrypts every ID number not under the current key; returns how many were re-encrypted. Each
    tenant where any was gets one audit event ``pii.reencrypt``."""
    current = pii.pii_keys().current_id  # fails early when the keys are misconfigured
    total = 0
    for tenant in await Tenant.objects().order_by(Tenant.id):
        count = await _reencrypt_tenant(tenant, batch_size)
        if count:
            await record(
                tenant, SYSTEM, "pii.reencrypt", f"tenant:{tenant.slug}", {"count": count, "key": current}
            )
        total += count
    return total
