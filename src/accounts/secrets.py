"""Keys for personal data: AES-GCM encryption of ID numbers and a keyed hash to look them up.

``ZHICHENG_PII_KEYS`` is a comma-separated list of ``<key id>:<base64 32-byte key>``; the first encrypts, all
decrypt, so a key is rotated by putting a new one first and re-encrypting (``zhicheng rotate-pii-key``, see
docs/security.md). ``ZHICHENG_LOOKUP_KEY`` (base64, 32 bytes) keys the HMAC used for look-ups; it cannot be
rotated without recomputing every hash. Without them — a laptop running ``make run`` — keys are generated once
into ``var/dev-secrets.json``; ``ZHICHENG_ENV=production`` refuses to start without them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from settings import PROJECT_ROOT

DEV_SECRETS = PROJECT_ROOT / "var" / "dev-secrets.json"
NONCE_BYTES = 12


class KeyConfigurationError(RuntimeError):
    pass


@dataclass(frozen=True)
class PiiKeys:
    encryption: dict[str, bytes]  # key id → key; the first is current
    lookup: bytes

    @property
    def current_id(self) -> str:
        return next(iter(self.encryption))


def _decode_key(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError:
        raise KeyConfigurationError(f"{what} is not base64") from None
    if len(key) != 32:
        raise KeyConfigurationError(f"{what} must be 32 bytes")
    return key


def _parse(pii_keys: str, lookup_key: str) -> PiiKeys:
    encryption: dict[str, bytes] = {}
    for entry in filter(None, (part.strip() for part in pii_keys.split(","))):
        key_id, _, encoded = entry.partition(":")
        if not key_id or not encoded or not key_id.isalnum():
            raise KeyConfigurationError("ZHICHENG_PII_KEYS entries are <alphanumeric id>:<base64 key>")
        encryption[key_id] = _decode_key(encoded, f"PII key {key_id}")
    if not encryption:
        raise KeyConfigurationError("ZHICHENG_PII_KEYS is empty")
    return PiiKeys(encryption, _decode_key(lookup_key, "ZHICHENG_LOOKUP_KEY"))


def _development_keys() -> tuple[str, str]:
    if not DEV_SECRETS.exists():
        DEV_SECRETS.parent.mkdir(parents=True, exist_ok=True)
        generated = {
            "pii_keys": f"dev1:{base64.b64encode(secrets.token_bytes(32)).decode()}",
            "lookup_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
        descriptor = os.open(DEV_SECRETS, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(generated, file)
    stored = json.loads(DEV_SECRETS.read_text())
    return stored["pii_keys"], stored["lookup_key"]


@lru_cache(maxsize=1)
def pii_keys() -> PiiKeys:
    pii, lookup = os.environ.get("ZHICHENG_PII_KEYS"), os.environ.get("ZHICHENG_LOOKUP_KEY")
    if not pii or not lookup:
        if os.environ.get("ZHICHENG_ENV") == "production":
            raise KeyConfigurationError("production needs ZHICHENG_PII_KEYS and ZHICHENG_LOOKUP_KEY")
        pii, lookup = _development_keys()
    return _parse(pii, lookup)


def encrypt(plaintext: str, *, context: str) -> str:
    """``<key id>.<base64 nonce+ciphertext>``. ``context`` (e.g. the tenant slug) is bound as associated
    data, so a value copied to another tenant's row does not decrypt."""
    keys = pii_keys()
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(keys.encryption[keys.current_id]).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{keys.current_id}.{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, context: str) -> str:
    key_id, _, encoded = token.partition(".")
    key = pii_keys().encryption.get(key_id)
    if key is None:
        raise KeyConfigurationError(f"no PII key {key_id!r} configured to decrypt this value")
    raw = base64.b64decode(encoded)
    return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()


def lookup_hash(value: str, *, context: str) -> str:
    """A keyed hash for equality look-ups (an unkeyed hash of an ID number is trivially brute-forced)."""
    return hmac.new(pii_keys().lookup, f"{context}\x00{value}".encode(), hashlib.sha256).hexdigest()


def needs_reencryption(token: str) -> bool:
    return token.partition(".")[0] != pii_keys().current_id
