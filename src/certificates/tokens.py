"""Signed verification tokens: what a certificate's QR code carries.

The token is the certificate's claims — tenant, number, holder's name, the visible digits of the ID number,
title, issue date — and an Ed25519 signature over them with the tenant's key, in base32 so that the whole URL
fits QR alphanumeric mode (≤ 300 characters, version ≤ 12 at level M). A forged or altered certificate fails
even if its number exists: the claims must match the signature and the issued record. Public keys are
published at ``/t/<slug>/.well-known/zhicheng-keys.json`` so that a verifier can check a token offline.

Keys: ``ZHICHENG_TOKEN_KEYS_DIR/<slug>.pem`` (PKCS#8 Ed25519 private key) in production; generated once into
``var/token-keys/`` on a development machine; ``ZHICHENG_ENV=production`` refuses to start without them.
The ``Signer`` protocol leaves room for an SM2 signer later.
"""

from __future__ import annotations

import base64
import os
import struct
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from settings import PROJECT_ROOT

TOKEN_VERSION = 1
ANNOTATED_TOKEN_VERSION = 2
EPOCH = date(2000, 1, 1)
DOMAIN = b"zhicheng-certificate-token"
SIGNATURE_BYTES = 64


class TokenError(ValueError):
    """The token cannot be read or its signature does not hold."""


class Signer(Protocol):
    algorithm: str

    def sign(self, message: bytes) -> bytes: ...

    def verify(self, signature: bytes, message: bytes) -> bool: ...

    def public_key_b64(self) -> str: ...


@dataclass(frozen=True)
class Ed25519Signer:
    private: Ed25519PrivateKey
    algorithm: str = "Ed25519"

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def verify(self, signature: bytes, message: bytes) -> bool:
        return verify_with_public_key(self.public_key_b64(), signature, message)

    def public_key_b64(self) -> str:
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode()


def verify_with_public_key(public_key_b64: str, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64)).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _keys_dir() -> Path:
    configured = os.environ.get("ZHICHENG_TOKEN_KEYS_DIR")
    if configured:
        return Path(configured)
    if os.environ.get("ZHICHENG_ENV") == "production":
        raise RuntimeError(
            "production needs ZHICHENG_TOKEN_KEYS_DIR with one <slug>.pem Ed25519 key per tenant"
        )
    return Path(os.environ.get("ZHICHENG_TOKEN_DEV_DIR") or PROJECT_ROOT / "var" / "token-keys")


@cache
def tenant_signer(slug: str) -> Signer:
    path = _keys_dir() / f"{slug}.pem"
    if not path.exists():
        if os.environ.get("ZHICHENG_TOKEN_KEYS_DIR"):
            raise RuntimeError(f"no token key for tenant {slug} in ZHICHENG_TOKEN_KEYS_DIR")
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError(f"the token key of {slug} is not an Ed25519 key")
    return Ed25519Signer(key)


@dataclass(frozen=True)
class Claims:
    tenant_id: int
    number: str  # the certificate number (digits)
    holder_name: str
    id_head: str  # the first 6 characters of the ID number (the region)
    id_tail: str  # the last 4
    title_name: str
    issue_date: date
    # An annotated copy's token also names the copy and its validity.
    annotation_id: int | None = None
    valid_until: date | None = None

    @property
    def masked_id(self) -> str:
        return f"{self.id_head}{'*' * 8}{self.id_tail}"


def _short_text(text: str) -> bytes:
    encoded = text.encode()
    if len(encoded) > 60:
        raise TokenError("text too long for a token")
    return bytes([len(encoded)]) + encoded


def encode_claims(claims: Claims) -> bytes:
    if not claims.number.isdigit() or len(claims.number) > 19:
        raise TokenError("certificate numbers in tokens are up to 19 digits")
    annotated = claims.annotation_id is not None and claims.valid_until is not None
    tail = struct.pack(">IH", claims.annotation_id, (claims.valid_until - EPOCH).days) if annotated else b""
    return (
        struct.pack(
            ">BHQB3sH",
            ANNOTATED_TOKEN_VERSION if annotated else TOKEN_VERSION,
            claims.tenant_id,
            int(claims.number),
            len(claims.number),
            int(claims.id_head).to_bytes(3, "big"),
            (claims.issue_date - EPOCH).days,
        )
        + claims.id_tail.encode("ascii")
        + _short_text(claims.holder_name)
        + _short_text(claims.title_name)
        + tail
    )


def decode_claims(data: bytes) -> Claims:
    try:
        version, tenant_id, number, digits, head, days = struct.unpack_from(">BHQB3sH", data)
        offset = struct.calcsize(">BHQB3sH")
        tail = data[offset : offset + 4].decode("ascii")
        offset += 4
        texts = []
        for _ in range(2):
            length = data[offset]
            texts.append(data[offset + 1 : offset + 1 + length].decode())
            offset += 1 + length
        annotation_id = valid_until = None
        if version == ANNOTATED_TOKEN_VERSION:
            annotation_id, days_valid = struct.unpack_from(">IH", data, offset)
            valid_until = EPOCH + timedelta(days=days_valid)
            offset += 6
    except (struct.error, IndexError, UnicodeDecodeError) as error:
        raise TokenError("malformed token") from error
    if version not in (TOKEN_VERSION, ANNOTATED_TOKEN_VERSION) or offset != len(data):
        raise TokenError("unknown token version or trailing data")
    return Claims(
        tenant_id=tenant_id,
        number=str(number).zfill(digits),
        holder_name=texts[0],
        id_head=str(int.from_bytes(head, "big")).zfill(6),
        id_tail=tail,
        title_name=texts[1],
        issue_date=EPOCH + timedelta(days=days),
        annotation_id=annotation_id,
        valid_until=valid_until,
    )


def _message(slug: str, payload: bytes) -> bytes:
    return DOMAIN + b"\x00" + slug.encode() + b"\x00" + payload


def make_token(slug: str, claims: Claims) -> str:
    payload = encode_claims(claims)
    signature = tenant_signer(slug).sign(_message(slug, payload))
    return base64.b32encode(payload + signature).decode().rstrip("=")


def read_token(token: str) -> tuple[Claims, bytes, bytes]:
    """The claims, the payload and the signature, not yet verified (the tenant comes from the claims)."""
    cleaned = token.strip().upper()
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError as error:
        raise TokenError("not base32") from error
    if len(raw) <= SIGNATURE_BYTES:
        raise TokenError("too short")
    payload, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    return decode_claims(payload), payload, signature


def verify_token(slug: str, payload: bytes, signature: bytes) -> bool:
    return tenant_signer(slug).verify(signature, _message(slug, payload))


def verification_url(public_url: str, token: str) -> str:
    """Upper case throughout, so the whole URL is QR alphanumeric (the host is case-insensitive and /V/ is
    routed like /v/)."""
    return f"{public_url.upper()}/V/{token}"
