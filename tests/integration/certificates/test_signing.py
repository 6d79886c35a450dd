"""PAdES signatures on real certificates of all three tenants, checked with poppler's pdfsig (what a
recipient's reader would say) and with our own pyHanko-based verification.

Demo signing identities are generated into a temporary directory (ZHICHENG_SIGNING_DEV_DIR), never into the
repository's var/."""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from certificates.signing import (
    CHINA,
    SigningConfigurationError,
    sign_certificate_pdf,
    sign_certificate_pdf_async,
    signing_identity,
    verify_certificate_pdf,
    verify_certificate_pdf_async,
)
from seals.backgrounds import default_background
from seals.layout import default_layout
from seals.render import render_certificate
from tenants.presets import preset_paths, read_preset
from tests.integration.seals.test_render import content, seal_png
from tests.tools import require_tools

TENANTS = [read_preset(path).tenant for path in preset_paths()]
# Within the demo certificates' validity (they start an hour before they are generated), to the second.
SIGNING_TIME = datetime.now(CHINA).replace(microsecond=0) - timedelta(minutes=5)


def pdfsig(pdf: bytes, directory: Path, name: str = "signed.pdf") -> str:
    require_tools("pdfsig")
    path = directory / name
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdfsig", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC", "LC_ALL": "C"},
        timeout=30,
    )
    return result.stdout + result.stderr


@pytest.fixture(scope="module", autouse=True)
def signing_dev_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("signing")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZHICHENG_SIGNING_DEV_DIR", str(directory))
        patch.delenv("ZHICHENG_SIGNING_DIR", raising=False)
        patch.delenv("ZHICHENG_ENV", raising=False)
        yield directory


@dataclass(frozen=True)
class Signed:
    slug: str
    authority: str
    unsigned: bytes
    signed: bytes
    directory: Path  # scratch space for pdfsig's input files


@pytest.fixture(scope="module", params=TENANTS, ids=[tenant.slug for tenant in TENANTS])
def certificate(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, signing_dev_dir: Path
) -> Signed:
    tenant = request.param
    layout = default_layout()
    template = default_background(f"{tenant.name}职称证书", tenant.authority_name, tenant.theme_color, layout)
    pdf = render_certificate(template, layout, seal_png(), content(tenant.name, tenant.authority_name))
    signed = sign_certificate_pdf(
        pdf, slug=tenant.slug, authority_name=tenant.authority_name, signing_time=SIGNING_TIME
    )
    return Signed(tenant.slug, tenant.authority_name, pdf, signed, tmp_path_factory.mktemp(tenant.slug))


def test_pdfsig_sees_a_valid_pades_signature(certificate: Signed) -> None:
    report = pdfsig(certificate.signed, certificate.directory)
    assert "Signature Type: ETSI.CAdES.detached" in report, report
    assert "Signature Validation: Signature is Valid." in report, report
    assert "Total document signed" in report, report
    assert f"Signer Certificate Common Name: {certificate.authority}（演示）" in report, report
    # The demo CA is self-signed and in no trust store: poppler says so, which is expected.
    assert re.search(r"Certificate Validation: .*(Trusted|trusted)", report), report


def test_our_verification_says_intact_and_trusted(certificate: Signed) -> None:
    result = verify_certificate_pdf(certificate.signed, slug=certificate.slug)
    assert result.intact and result.trusted and result.valid, result
    assert result.reason == ""
    assert result.signer == f"{certificate.authority}（演示）"


def test_the_unsigned_certificate_is_a_prefix_of_the_signed_one(certificate: Signed) -> None:
    assert certificate.signed.startswith(certificate.unsigned)
    assert len(certificate.signed) > len(certificate.unsigned)


def test_the_signing_time_is_the_one_passed(certificate: Signed) -> None:
    result = verify_certificate_pdf(certificate.signed, slug=certificate.slug)
    assert result.signed_at == SIGNING_TIME
    report = pdfsig(certificate.signed, certificate.directory)
    assert f"Signing Time: {SIGNING_TIME.astimezone(UTC):%b %d %Y %H:%M:%S}" in report, report


def _overlay_stream_offset(unsigned: bytes) -> int:
    """An offset inside the certificate's own content stream (the last one its page lists)."""
    contents = re.findall(rb"/Contents \[([^\]]*)\]", unsigned)[-1]
    number = int(re.findall(rb"(\d+) 0 R", contents)[-1])
    start = unsigned.rindex(b"\n%d 0 obj\n" % number)
    return unsigned.index(b"stream\n", start) + len(b"stream\n") + 20


def _identifier_offset(unsigned: bytes) -> int:
    """An offset inside the certificate identifier text (the info dictionary's /Subject)."""
    return unsigned.rindex(b"/Subject <feff") + len(b"/Subject <feff") + 2


@pytest.mark.parametrize("where", [_overlay_stream_offset, _identifier_offset], ids=["content", "identifier"])
def test_one_changed_byte_breaks_the_signature(certificate: Signed, where: Callable[[bytes], int]) -> None:
    offset = where(certificate.unsigned)
    tampered = bytearray(certificate.signed)
    tampered[offset] = ord("4") if tampered[offset] != ord("4") else ord("5")
    report = pdfsig(bytes(tampered), certificate.directory, "tampered.pdf")
    assert "Signature Validation: Digest Mismatch." in report, report
    result = verify_certificate_pdf(bytes(tampered), slug=certificate.slug)
    assert not result.intact and not result.valid
    assert "摘要不符" in result.reason


def test_an_update_appended_after_signing_is_not_intact(certificate: Signed) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(certificate.signed))
    writer.root["/Lang"] = generic.TextStringObject("zh-CN")
    writer.update_root()
    output = io.BytesIO()
    writer.write(output)
    result = verify_certificate_pdf(output.getvalue(), slug=certificate.slug)
    assert not result.intact and result.trusted
    assert "追加" in result.reason
    report = pdfsig(output.getvalue(), certificate.directory, "appended.pdf")
    assert "Not total document signed" in report, report


def test_another_tenants_signature_is_not_trusted(certificate: Signed) -> None:
    other = next(tenant for tenant in TENANTS if tenant.slug != certificate.slug)
    signed = sign_certificate_pdf(
        certificate.unsigned, slug=other.slug, authority_name=other.authority_name, signing_time=SIGNING_TIME
    )
    result = verify_certificate_pdf(signed, slug=certificate.slug)
    assert result.intact and not result.trusted and not result.valid
    assert result.signer == f"{other.authority_name}（演示）"
    assert "不是本地区" in result.reason
    assert verify_certificate_pdf(signed, slug=other.slug).valid


def test_signing_is_deterministic_for_a_given_time(certificate: Signed) -> None:
    again = sign_certificate_pdf(
        certificate.unsigned,
        slug=certificate.slug,
        authority_name=certificate.authority,
        signing_time=SIGNING_TIME,
    )
    assert again == certificate.signed
    later = sign_certificate_pdf(
        certificate.unsigned,
        slug=certificate.slug,
        authority_name=certificate.authority,
        signing_time=SIGNING_TIME + timedelta(seconds=1),
    )
    assert later != certificate.signed and later.startswith(certificate.unsigned)


def test_an_unsigned_certificate_has_no_signature(certificate: Signed) -> None:
    result = verify_certificate_pdf(certificate.unsigned, slug=certificate.slug)
    assert not result.intact and not result.trusted and result.signed_at is None
    assert result.reason == "文件没有电子签名"


def test_a_tenant_without_an_identity_trusts_nothing(certificate: Signed) -> None:
    result = verify_certificate_pdf(certificate.signed, slug="no-such-tenant")
    assert result.intact and not result.trusted
    assert "尚未配置签名证书" in result.reason


def test_demo_keys_are_private_files(signing_dev_dir: Path, certificate: Signed) -> None:
    directory = signing_dev_dir / certificate.slug
    for name in ("key.pem", "cert.pem", "chain.pem"):
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600
    identity = signing_identity(certificate.slug)
    subject = identity.certificate.subject.rfc4514_string()
    assert f"CN={certificate.authority}（演示）" in subject and "C=CN" in subject
    assert identity.chain[-1].subject == identity.chain[-1].issuer  # a self-signed demo CA
    assert identity.certificate.issuer == identity.chain[-1].subject


def test_production_refuses_to_generate_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHICHENG_ENV", "production")
    with pytest.raises(SigningConfigurationError, match="ZHICHENG_SIGNING_DIR"):
        sign_certificate_pdf(b"%PDF-1.7", slug="gansu", authority_name="甘肃省职称改革办公室")


def test_production_reads_the_configured_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, signing_dev_dir: Path, certificate: Signed
) -> None:
    shutil.copytree(signing_dev_dir / certificate.slug, tmp_path / certificate.slug)
    monkeypatch.setenv("ZHICHENG_ENV", "production")
    monkeypatch.setenv("ZHICHENG_SIGNING_DIR", str(tmp_path))
    signed = sign_certificate_pdf(
        certificate.unsigned,
        slug=certificate.slug,
        authority_name=certificate.authority,
        signing_time=SIGNING_TIME,
    )
    assert signed == certificate.signed
    assert verify_certificate_pdf(signed, slug=certificate.slug).valid
    (tmp_path / certificate.slug / "key.pem").unlink()  # verifying needs no key
    assert verify_certificate_pdf(signed, slug=certificate.slug).valid
    with pytest.raises(SigningConfigurationError, match=r"missing key\.pem"):
        sign_certificate_pdf(certificate.unsigned, slug=certificate.slug, authority_name="x")
    (tmp_path / certificate.slug / "chain.pem").unlink()
    with pytest.raises(SigningConfigurationError, match=r"missing key\.pem, chain\.pem"):
        sign_certificate_pdf(certificate.unsigned, slug=certificate.slug, authority_name="x")
    assert not verify_certificate_pdf(signed, slug=certificate.slug).trusted
    with pytest.raises(SigningConfigurationError):
        sign_certificate_pdf(certificate.unsigned, slug="nowhere", authority_name="x")


def test_a_retired_ca_stays_trusted_through_trusted_pem(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, signing_dev_dir: Path, certificate: Signed
) -> None:
    """Changing CA: the new identity in key/cert/chain.pem, the old CA appended to trusted.pem."""
    other = next(tenant for tenant in TENANTS if tenant.slug != certificate.slug)
    signing_identity(other.slug, other.authority_name)  # stands in for the new CA's identity
    shutil.copytree(signing_dev_dir / other.slug, tmp_path / certificate.slug)
    monkeypatch.setenv("ZHICHENG_SIGNING_DIR", str(tmp_path))
    assert not verify_certificate_pdf(certificate.signed, slug=certificate.slug).trusted
    shutil.copy(signing_dev_dir / certificate.slug / "chain.pem", tmp_path / certificate.slug / "trusted.pem")
    assert verify_certificate_pdf(certificate.signed, slug=certificate.slug).valid
    renewed = sign_certificate_pdf(
        certificate.unsigned, slug=certificate.slug, authority_name=certificate.authority
    )
    assert verify_certificate_pdf(renewed, slug=certificate.slug).valid


async def test_inside_the_event_loop_the_async_variants_are_used(certificate: Signed) -> None:
    with pytest.raises(RuntimeError, match="sign_certificate_pdf_async"):
        sign_certificate_pdf(
            certificate.unsigned, slug=certificate.slug, authority_name=certificate.authority
        )
    signed = await sign_certificate_pdf_async(
        certificate.unsigned,
        slug=certificate.slug,
        authority_name=certificate.authority,
        signing_time=SIGNING_TIME,
    )
    assert signed == certificate.signed
    assert (await verify_certificate_pdf_async(signed, slug=certificate.slug)).valid
