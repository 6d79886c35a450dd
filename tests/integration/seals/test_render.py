"""Real certificates for all three tenants, checked the way a recipient's software would read them: pypdf,
qpdf, poppler (pdftotext, pdftoppm), pdfium and zbar decoding the QR code from a 150 dpi rendering."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from seals.backgrounds import default_background
from seals.layout import default_layout
from seals.render import CertificateContent, render_certificate
from seals.services import sample_seal_png
from tenants.presets import preset_paths, read_preset
from tests.tools import require_tools

TOOLS = ("qpdf", "pdftoppm", "pdftotext", "zbarimg")
QR_TEXT = "https://zc.example.cn/v/" + "eyJpZCI6IjEuMi4xNTYuMzAwNS4yIn0." * 4


def seal_png() -> bytes:
    return sample_seal_png()


def photo_jpeg() -> bytes:
    photo = Image.new("RGB", (413, 531), (210, 222, 240))
    ImageDraw.Draw(photo).ellipse((120, 90, 290, 300), fill=(110, 80, 60))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def content(tenant_name: str, authority: str) -> CertificateContent:
    return CertificateContent(
        fields={
            "certificate_number": "2026620000000042",
            "name": "张三",
            "gender": "男",
            "id_number": "622826********6421",
            "series": "农业系列",
            "title_name": "高级兽医师",
            "specialty": "兽医",
            "obtained_on": "2018年12月20日",
            "review_body": f"{tenant_name}农业系列高级职称评审委员会",
            "issuer": authority,
            "url": "https://zc.example.cn/v/2026620000000042",
            "issue_date": "2026年01月15日",
        },
        qr_text=QR_TEXT,
        issue_date=date(2026, 1, 15),
        title=f"{tenant_name}职称证书",
        identifier="1.2.156.3005.2.11100000000000001X.demo",
        photo_jpeg=photo_jpeg(),
    )


TENANTS = [read_preset(path).tenant for path in preset_paths()]


@pytest.fixture(scope="module", params=TENANTS, ids=[tenant.slug for tenant in TENANTS])
def certificate(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, bytes]:
    tenant = request.param
    layout = default_layout()
    template = default_background(f"{tenant.name}职称证书", tenant.authority_name, tenant.theme_color, layout)
    pdf = render_certificate(template, layout, seal_png(), content(tenant.name, tenant.authority_name))
    path = tmp_path_factory.mktemp(tenant.slug) / "certificate.pdf"
    path.write_bytes(pdf)
    return path, pdf


def test_pypdf_reads_the_fields_and_metadata(certificate: tuple[Path, bytes]) -> None:
    reader = PdfReader(io.BytesIO(certificate[1]))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for value in ("张三", "高级兽医师", "2026620000000042", "622826********6421"):
        assert value in text
    assert reader.metadata is not None
    assert reader.metadata.title.endswith("职称证书")
    assert reader.metadata["/Subject"] == "1.2.156.3005.2.11100000000000001X.demo"


def test_qpdf_finds_no_errors(certificate: tuple[Path, bytes]) -> None:
    require_tools(*TOOLS)
    result = subprocess.run(["qpdf", "--check", str(certificate[0])], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors" in result.stdout


def test_poppler_extracts_the_chinese_text(certificate: tuple[Path, bytes]) -> None:
    require_tools(*TOOLS)
    text = subprocess.run(
        ["pdftotext", str(certificate[0]), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "姓名： 张三" in text or ("姓名" in text and "张三" in text)
    assert "职称证书" in text


def poppler_raster(path: Path, dpi: int) -> Image.Image:
    prefix = path.with_suffix(f".{dpi}")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(path), str(prefix)], check=True)
    return Image.open(prefix.with_suffix(f".{dpi}.png")).convert("RGB")


def test_the_qr_code_decodes_from_a_150_dpi_rendering(certificate: tuple[Path, bytes]) -> None:
    require_tools(*TOOLS)
    poppler_raster(certificate[0], 150)
    png = certificate[0].with_suffix(".150.png")
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True)
    assert decoded.returncode == 0, decoded.stderr
    assert decoded.stdout.strip() == QR_TEXT


def _coarse(raster: np.ndarray) -> np.ndarray:
    """Averaged over 6×6-pixel cells: the two renderers anti-alias edges differently, which is not a
    difference in what the page shows."""
    image = Image.fromarray(raster.astype(np.uint8))
    return np.asarray(image.resize((raster.shape[1] // 6, raster.shape[0] // 6), Image.BOX), dtype=np.int16)


def test_poppler_and_pdfium_render_the_same(certificate: tuple[Path, bytes]) -> None:
    require_tools(*TOOLS)
    poppler = np.asarray(poppler_raster(certificate[0], 50), dtype=np.int16)
    document = pypdfium2.PdfDocument(certificate[1])
    pdfium = np.asarray(document[0].render(scale=50 / 72).to_pil().convert("RGB"), dtype=np.int16)
    assert abs(poppler.shape[0] - pdfium.shape[0]) <= 1 and abs(poppler.shape[1] - pdfium.shape[1]) <= 1
    height, width = min(poppler.shape[0], pdfium.shape[0]), min(poppler.shape[1], pdfium.shape[1])
    difference = np.abs(_coarse(poppler[:height, :width]) - _coarse(pdfium[:height, :width])).max(axis=2)
    assert difference.mean() < 3, difference.mean()
    assert (difference > 48).mean() < 0.002  # no region where one shows something the other does not


def test_the_seal_is_stamped_in_its_box(certificate: tuple[Path, bytes]) -> None:
    require_tools(*TOOLS)
    raster = np.asarray(poppler_raster(certificate[0], 50), dtype=np.int16)
    seal = default_layout().seal
    scale = 50 / 25.4
    box = raster[
        int(seal.y * scale) : int((seal.y + seal.h) * scale),
        int(seal.x * scale) : int((seal.x + seal.w) * scale),
    ]
    red = (box[:, :, 0] > 150) & (box[:, :, 1] < 110) & (box[:, :, 2] < 110)
    assert red.mean() > 0.05


def test_same_inputs_give_the_same_bytes_in_another_process(certificate: tuple[Path, bytes]) -> None:
    slug = certificate[0].parent.name.rstrip("0123456789")
    tenant = next(tenant for tenant in TENANTS if tenant.slug == slug)
    script = f"""
import sys
sys.path[:0] = {[str(Path(__file__).parent), *sys.path]!r}
from test_render import content, seal_png
from seals.backgrounds import default_background
from seals.layout import default_layout
from seals.render import render_certificate
layout = default_layout()
name, authority = {tenant.name!r}, {tenant.authority_name!r}
template = default_background(name + "职称证书", authority, {tenant.theme_color!r}, layout)
sys.stdout.buffer.write(render_certificate(template, layout, seal_png(), content(name, authority)))
"""
    other = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, check=True, env={**os.environ}
    )
    assert other.stdout == certificate[1]


def test_a_long_value_is_shrunk_to_fit_its_box() -> None:
    layout = default_layout()
    template = default_background("甘肃省职称证书", "甘肃省职称改革办公室", "#9c2b23", layout)
    long_body = "甘肃省某某市某某县某某乡镇某某村农业技术推广服务中心高级兽医师职称评审委员会（扩大）"
    item = content("甘肃省", "甘肃省职称改革办公室")
    item = CertificateContent(
        {**item.fields, "review_body": long_body}, item.qr_text, item.issue_date, item.title
    )
    pdf = render_certificate(template, layout, seal_png(), item)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert long_body in text.replace("\n", "")
