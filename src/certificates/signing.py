"""PAdES signatures on certificate PDFs (pyHanko), and their verification.

Each tenant signs with its own identity: a private key, its X.509 certificate and the chain of CA certificates
above it. In production they are read from ``ZHICHENG_SIGNING_DIR/<tenant slug>/`` (see docs/signing.md)::

    key.pem      the signing key, unencrypted PKCS#8 or traditional PEM (mode 0600)
    cert.pem     the signing certificate (the first certificate in the file)
    chain.pem    the CA certificates above it, issuer first; the last one is the tenant's trust anchor
    trusted.pem  optional: further trust anchors, e.g. a previous CA kept after changing CA

Without ``ZHICHENG_SIGNING_DIR`` (a laptop, the tests) a demo CA and a signing certificate are generated
once per tenant into ``var/signing/<slug>/`` (or ``ZHICHENG_SIGNING_DEV_DIR/<slug>/``), every subject marked
（演示）; with ``ZHICHENG_ENV=production`` and no ``ZHICHENG_SIGNING_DIR`` nothing is generated and signing
refuses.

The demo keys are RSA-2048 rather than ECDSA P-256: RSA PKCS#1 v1.5 signatures are deterministic (ECDSA
ones are randomized), so a certificate signed again with the same key and signing time gives the same
bytes, as rendering does; and every PDF reader verifies RSA, old Adobe Reader and poppler builds included,
where ECDSA support varies. Production keys may be RSA or EC, whatever the tenant's CA issued.

The signature is an incremental update on top of the rendered certificate (pyHanko's
``IncrementalPdfFileWriter``), so the certificate's bytes are a prefix of the signed file, with an invisible
signature field and the ``ETSI.CAdES.detached`` sub-filter (PAdES baseline B-B; pyHanko's default is
``adbe.pkcs7.detached``). No timestamp authority, no embedded revocation data: this is B-B, not B-T or B-LTA.

pyHanko's synchronous entry points run their own event loop (``asyncio.run``), so inside the app's loop
await ``sign_certificate_pdf_async`` / ``verify_certificate_pdf_async``; the plain functions are for scripts
and tests.

Trusted and untrusted input: signing and ``verify_certificate_pdf*`` parse PDFs in this process, which is
fine for the files our own pipeline rendered and signed a moment ago. A PDF from outside (the public file
check) is verified only by ``verify_untrusted_pdf``, in a capped child process (``core.sandbox``).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from core.sandbox import SandboxError, run_limited
from settings import PROJECT_ROOT

CHINA = timezone(timedelta(hours=8), "CST")
FIELD_NAME = "CertificateSignature"
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
DEMO_MARK = "（演示）"
DEMO_UNIT = "演示用途，不具法律效力"
CA_YEARS, SIGNER_YEARS = 20, 10
# Either usage makes a certificate fit for document signatures (production CAs differ in which they set).
KEY_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
)
# Caps of the child that verifies a file from outside. A genuine certificate takes ~1 s of CPU there, most of
# it importing pyHanko; a crafted one with 60,000 signature fields took ~7 s and is stopped at VERIFY_CPU.
VERIFY_TIMEOUT = 10  # seconds of wall-clock time
VERIFY_CPU = 5  # seconds of CPU time
VERIFY_MEMORY = 768 * 1024 * 1024  # bytes of address space


class SigningConfigurationError(RuntimeError):
    """The tenant's signing identity is missing or unusable."""


@dataclass(frozen=True)
class SigningIdentity:
    slug: str
    key: object  # a cryptography private key
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # issuer first, trust anchor last


@dataclass(frozen=True)
class VerificationResult:
    intact: bool  # the signature covers the whole file, the digest matches and the signature value is valid
    trusted: bool  # the signer's certificate chains to this tenant's trust anchor
    signer: str  # the signing certificate's common name ("" without a signature)
    signed_at: datetime | None  # the signing time the signer declared (/M): not a trusted timestamp
    reason: str  # in Chinese: why the signature is not valid; "" when it is

    @property
    def valid(self) -> bool:
        return self.intact and self.trusted


# --- where identities live -------------------------------------------------------------------------------


def signing_root() -> tuple[Path, bool]:
    """The directory holding one sub-directory per tenant, and whether identities may be generated there.

    ``ZHICHENG_SIGNING_DIR`` (configured, never written to) wins; otherwise development keys go to
    ``ZHICHENG_SIGNING_DEV_DIR`` or ``var/signing``, except in production, which refuses."""
    configured = os.environ.get("ZHICHENG_SIGNING_DIR")
    if configured:
        return Path(configured), False
    if os.environ.get("ZHICHENG_ENV") == "production":
        raise SigningConfigurationError(
            "production needs ZHICHENG_SIGNING_DIR: a directory with <tenant slug>/key.pem, cert.pem and "
            "chain.pem for each tenant (see docs/signing.md); demo signing keys are never generated there"
        )
    return Path(os.environ.get("ZHICHENG_SIGNING_DEV_DIR") or PROJECT_ROOT / "var" / "signing"), True


def _tenant_directory(slug: str) -> tuple[Path, bool]:
    if not SLUG.match(slug):
        raise SigningConfigurationError(f"not a tenant slug: {slug!r}")
    root, generated = signing_root()
    return root / slug, generated


def signing_identity(slug: str, authority_name: str | None = None) -> SigningIdentity:
    """The tenant's identity. In development it is generated on first use, which needs ``authority_name``
    (the subjects carry it); without it a missing identity is an error."""
    directory, may_generate = _tenant_directory(slug)
    if not (directory / "key.pem").exists() and may_generate:
        if not authority_name:
            raise SigningConfigurationError(f"no signing identity for {slug} yet")
        _generate_demo_identity(directory, authority_name)
    return _load(directory, slug)


def _load(directory: Path, slug: str) -> SigningIdentity:
    paths = [directory / name for name in ("key.pem", "cert.pem", "chain.pem")]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise SigningConfigurationError(
            f"signing identity of {slug} in {directory}: missing {', '.join(missing)}"
        )
    stamp = tuple(path.stat().st_mtime_ns for path in paths)
    return _load_cached(str(directory), slug, stamp)


@lru_cache(maxsize=32)
def _load_cached(directory: str, slug: str, _stamp: tuple[int, ...]) -> SigningIdentity:
    folder = Path(directory)
    try:
        key = serialization.load_pem_private_key((folder / "key.pem").read_bytes(), password=None)
        certificates = x509.load_pem_x509_certificates((folder / "cert.pem").read_bytes())
        chain = tuple(x509.load_pem_x509_certificates((folder / "chain.pem").read_bytes()))
    except (ValueError, TypeError) as error:
        raise SigningConfigurationError(f"signing identity of {slug} in {folder}: {error}") from None
    certificate = certificates[0]
    if key.public_key().public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise SigningConfigurationError(f"signing identity of {slug}: key.pem does not match cert.pem")
    return SigningIdentity(slug, key, certificate, chain)


def trust_anchors(slug: str) -> tuple[x509.Certificate, ...]:
    """What verification trusts for the tenant: the last certificate of chain.pem and those of trusted.pem.
    Reads no key, so a verifying process need not hold one; empty when the tenant has no chain.pem."""
    directory, _ = _tenant_directory(slug)
    chain_file, trusted_file = directory / "chain.pem", directory / "trusted.pem"
    if not chain_file.is_file():
        return ()
    try:
        chain = x509.load_pem_x509_certificates(chain_file.read_bytes())
        extra = x509.load_pem_x509_certificates(trusted_file.read_bytes()) if trusted_file.exists() else []
    except ValueError as error:
        raise SigningConfigurationError(f"trust anchors of {slug} in {directory}: {error}") from None
    return (chain[-1], *extra)


def _bounded(text: str, suffix: str = "") -> str:
    """``text`` + ``suffix`` within X.520's 64-unit bound, which cryptography counts in UTF-8 bytes
    (21 Chinese characters): a longer authority name is shortened, the demo mark is kept."""
    while len((text + suffix).encode()) > 64:
        text = text[:-1]
    return text + suffix


def _name(common_name: str, authority_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _bounded(authority_name)),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEMO_UNIT),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def _generate_demo_identity(directory: Path, authority_name: str) -> None:
    """A self-signed demo CA and a signing certificate it issues, written to a scratch directory and renamed
    into place, so that two processes racing to generate end up using the same one. The CA's key is not
    kept: a new demo signing certificate means a new demo CA."""
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name(f"职称证书签名根证书{DEMO_MARK}", authority_name)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(_bounded(authority_name, DEMO_MARK), authority_name))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=365 * SIGNER_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    pem = serialization.Encoding.PEM
    _write_private(
        scratch / "key.pem",
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    _write_private(scratch / "cert.pem", certificate.public_bytes(pem))
    _write_private(scratch / "chain.pem", ca.public_bytes(pem))
    try:
        scratch.rename(directory)
    except OSError:  # another process got there first: use theirs
        shutil.rmtree(scratch, ignore_errors=True)
        if not (directory / "key.pem").exists():
            raise


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


# --- signing ---------------------------------------------------------------------------------------------


def _asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _signer(identity: SigningIdentity) -> signers.SimpleSigner:
    key = identity.key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return signers.SimpleSigner(
        signing_cert=_asn1_certificate(identity.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(key),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_certificate(c) for c in identity.chain]),
    )


class _UpdateWriter(IncrementalPdfFileWriter):
    """pyHanko's incremental writer with its two own sources of variation pinned: the second half of the
    trailer's /ID (``os.urandom`` in pyHanko) is derived from the input and the signing time, and the info
    dictionary's /ModDate (the wall clock in pyHanko) is the signing time."""

    def __init__(self, pdf: bytes, moment: datetime) -> None:
        super().__init__(io.BytesIO(pdf))
        self._moment = moment
        first = self._document_id[0]
        if "/ID" not in self.prev.trailer:  # pyHanko made a random one up
            first = generic.ByteStringObject(hashlib.md5(pdf, usedforsecurity=False).digest())
        second = hashlib.md5(pdf + moment.isoformat().encode(), usedforsecurity=False).digest()
        self._document_id = generic.ArrayObject([first, generic.ByteStringObject(second)])

    def _update_meta(self) -> None:
        super()._update_meta()
        if self._info is not None:
            self._info.get_object()["/ModDate"] = generic.pdf_date(self._moment)


class _FixedTimeSigner(signers.PdfSigner):
    """``PdfSigner`` takes the signing time from the clock; this one uses the time it is given (for the
    signature dictionary's /M, which PAdES uses instead of a CMS signing-time attribute)."""

    def __init__(self, *args: object, moment: datetime, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._moment = moment

    def init_signing_session(self, pdf_out, existing_fields_only=False):  # type: ignore[no-untyped-def]
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._moment
        return session


def _signing_moment(signing_time: datetime | None) -> datetime:
    if signing_time is None:
        return datetime.now(CHINA).replace(microsecond=0)
    if signing_time.tzinfo is None:
        raise ValueError("signing_time must carry a time zone")
    return signing_time.replace(microsecond=0)


async def sign_certificate_pdf_async(
    pdf: bytes,
    *,
    slug: str,
    authority_name: str,
    reason: str = "职称电子证书",
    signing_time: datetime | None = None,
    field_name: str = FIELD_NAME,
) -> bytes:
    """See ``sign_certificate_pdf``. ``field_name`` differs for a later signature on the same file (an
    annotated copy is signed again on top of the issued signature)."""
    identity = signing_identity(slug, authority_name)
    moment = _signing_moment(signing_time)
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=authority_name,
    )
    signer = _FixedTimeSigner(metadata, signer=_signer(identity), moment=moment)
    output = io.BytesIO()
    await signer.async_sign_pdf(_UpdateWriter(pdf, moment), output=output)
    return output.getvalue()


def sign_certificate_pdf(
    pdf: bytes,
    *,
    slug: str,
    authority_name: str,
    reason: str = "职称电子证书",
    signing_time: datetime | None = None,
) -> bytes:
    """The certificate with a PAdES (``ETSI.CAdES.detached``, SHA-256) signature by the tenant's identity,
    appended as one incremental update: ``pdf`` is a prefix of the result. ``authority_name`` is written as
    the signature's /Location and, in development, names the demo identity generated on first use.

    ``signing_time`` (time-zone aware; seconds only, the fraction is dropped) is written as the signature
    dictionary's /M and the info dictionary's /ModDate; without it, now in China time. It is what the signer
    declares, not a trusted timestamp. Deterministic when ``signing_time`` is given and the key is RSA (PKCS#1
    v1.5): the same inputs give the same bytes. With an ECDSA production key the signature value — and so the
    bytes of the /Contents string — differ on each run, everything else staying the same.

    Not for use inside a running event loop (pyHanko's synchronous API runs its own): await
    ``sign_certificate_pdf_async`` there."""
    _refuse_inside_loop("sign_certificate_pdf_async")
    return asyncio.run(
        sign_certificate_pdf_async(
            pdf, slug=slug, authority_name=authority_name, reason=reason, signing_time=signing_time
        )
    )


# --- verification ----------------------------------------------------------------------------------------


def _refuse_inside_loop(alternative: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"inside an event loop: await {alternative} instead")


def _common_name(certificate: asn1_x509.Certificate) -> str:
    native = certificate.subject.native
    return str(native.get("common_name") or certificate.subject.human_friendly)


async def verify_certificate_pdf_async(pdf: bytes, *, slug: str) -> VerificationResult:
    """See ``verify_certificate_pdf``. In this process, so only for PDFs we made ourselves (tests, scripts):
    a file from outside goes through ``verify_untrusted_pdf``."""
    return await verify_against(pdf, trust_anchors(slug))


async def verify_untrusted_pdf(pdf: bytes, *, slug: str) -> VerificationResult:
    """``verify_certificate_pdf`` for a file from outside (the public file check), in a child process with
    memory and CPU caps and a wall-clock timeout (``certificates.verify_worker``): pyHanko walks every form
    field of the file, and tens of thousands of crafted /Sig fields would otherwise hold the event loop for
    seconds. Raises ``core.sandbox.SandboxError`` (``SandboxTimeout`` included) when the child runs out of
    time or memory or dies."""
    anchors = [anchor.public_bytes(serialization.Encoding.PEM).decode() for anchor in trust_anchors(slug)]
    options = json.dumps({"anchors": anchors}).encode()
    output = await run_limited(
        "certificates.verify_worker",
        options + b"\n" + pdf,
        seconds=VERIFY_TIMEOUT,
        memory=VERIFY_MEMORY,
        cpu=VERIFY_CPU,
    )
    try:
        answer = json.loads(output)
        signed_at = answer["signed_at"]
        return VerificationResult(
            intact=bool(answer["intact"]),
            trusted=bool(answer["trusted"]),
            signer=str(answer["signer"]),
            signed_at=datetime.fromisoformat(signed_at) if signed_at else None,
            reason=str(answer["reason"]),
        )
    except (ValueError, KeyError, TypeError):
        raise SandboxError("certificates.verify_worker gave no answer") from None


def result_as_json(result: VerificationResult) -> str:
    """The child's answer on stdout, read back by ``verify_untrusted_pdf``."""
    signed_at = result.signed_at.isoformat() if result.signed_at else None
    return json.dumps({**asdict(result), "signed_at": signed_at}, ensure_ascii=False)


async def verify_against(pdf: bytes, anchors: Sequence[x509.Certificate]) -> VerificationResult:
    """The verification itself, trusting ``anchors``; runs wherever it is called."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_regular_signatures
    except Exception:  # pyHanko raises various errors on a damaged file
        return VerificationResult(False, False, "", None, "文件不是完整的 PDF，无法读取签名")
    if not signatures:
        return VerificationResult(False, False, "", None, "文件没有电子签名")
    embedded = signatures[-1]
    context = ValidationContext(
        trust_roots=[_asn1_certificate(anchor) for anchor in anchors],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    try:
        status = await async_validate_pdf_signature(
            embedded, signer_validation_context=context, key_usage_settings=KEY_USAGE
        )
    except Exception as error:  # a malformed signature container
        return VerificationResult(False, False, "", None, f"签名无法解析：{error}")
    signer = _common_name(status.signing_cert)
    signed_at = status.signer_reported_dt
    whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    intact = bool(status.intact and status.valid and whole_file)
    trusted = bool(status.trusted)
    reasons = []
    if not status.intact:
        reasons.append("签名后文件内容被改动（摘要不符）")
    elif not status.valid:
        reasons.append("签名值无效")
    elif not whole_file:
        reasons.append("签名之后文件又被追加了内容，签名未覆盖整个文件")
    if not trusted:
        if not anchors:
            reasons.append("本地区尚未配置签名证书，无法确认签名者")
        elif status.revoked:
            reasons.append("签名证书已被吊销")
        else:
            reasons.append("签名证书不是本地区签名机构签发的，或已过期、用途不符")
    return VerificationResult(intact, trusted, signer, signed_at, "；".join(reasons))


def verify_certificate_pdf(pdf: bytes, *, slug: str) -> VerificationResult:
    """Checks the file's last signature with pyHanko: ``intact`` when it covers the whole file, its digest
    matches and its value verifies; ``trusted`` when the signing certificate chains to one of the tenant's
    trust anchors at the present time (no network fetching; missing revocation data is tolerated — the demo
    CA publishes none). Not for use inside a running event loop: await ``verify_certificate_pdf_async``."""
    _refuse_inside_loop("verify_certificate_pdf_async")
    return asyncio.run(verify_certificate_pdf_async(pdf, slug=slug))
