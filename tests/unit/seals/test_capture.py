"""Seal capture on scans drawn here with Pillow: a red ring seal with a star and red text on off-white,
slightly noisy paper with black print nearby, saved the ways administrators upload it."""

from __future__ import annotations

import hashlib
import io
import math
import re
import struct
import zlib
from collections.abc import Callable
from functools import cache

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from reportlab.lib import units
from reportlab.pdfgen import canvas

from seals.capture import MAX_UPLOAD_BYTES, SEAL_RED, CapturedSeal, SealRejected, capture_seal

DPI = 600
PX_PER_MM = DPI / 25.4
SEAL_MM = 42.0
RING_MM = 1.2
INK = (196, 38, 46)
PAPER = (246, 243, 234)


def _mm(value: float) -> int:
    return round(value * PX_PER_MM)


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.38
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    draw.polygon(points, fill=INK)


def _draw_seal(draw: ImageDraw.ImageDraw, cx: float, cy: float, width_mm: float, height_mm: float) -> None:
    rx, ry = _mm(width_mm) / 2, _mm(height_mm) / 2
    draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), outline=INK, width=_mm(RING_MM))
    _star(draw, cx, cy, min(rx, ry) * 0.32)
    # Stand-ins for the characters along the ring: short thick strokes on an arc inside it.
    for i in range(14):
        angle = math.radians(200 + i * (140 / 13))
        x = cx + (rx - _mm(5)) * math.cos(angle)
        y = cy + (ry - _mm(5)) * math.sin(angle)
        draw.rectangle((x - _mm(1.6), y - _mm(1.6), x + _mm(1.6), y + _mm(1.6)), outline=INK, width=_mm(0.5))
    font = ImageFont.load_default(size=_mm(3.5))
    draw.text((cx, cy + min(rx, ry) * 0.55), "CERT 2019", fill=INK, font=font, anchor="mm")


def _paper(width_mm: float, height_mm: float) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (_mm(width_mm), _mm(height_mm)), PAPER)
    return image, ImageDraw.Draw(image)


def _finish(image: Image.Image, *, black_text: bool = True) -> Image.Image:
    """Scanner softness, black print beside the imprint, and paper noise."""
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    if black_text:
        draw = ImageDraw.Draw(image)
        font = ImageFont.load_default(size=_mm(3))
        draw.text((_mm(3), _mm(2)), "Seal imprint collection form", fill=(20, 20, 20), font=font)
        draw.text(
            (_mm(3), image.height - _mm(6)), "Operator: ____  Leader: ____", fill=(25, 25, 25), font=font
        )
    pixels = np.asarray(image).astype(np.int16)
    return Image.fromarray(np.clip(pixels + _noise(pixels.shape), 0, 255).astype(np.uint8))


@cache
def _noise(shape: tuple[int, ...]) -> NDArray[np.int16]:
    return np.random.default_rng(7).integers(-7, 8, size=shape, dtype=np.int16)


@cache
def _good_scan() -> Image.Image:
    image, draw = _paper(56, 60)
    _draw_seal(draw, image.width / 2, image.height / 2, SEAL_MM, SEAL_MM)
    return _finish(image)


def _jpeg(image: Image.Image, dpi: float | None = DPI) -> bytes:
    out = io.BytesIO()
    extra = {"dpi": (dpi, dpi)} if dpi else {}
    image.save(out, format="JPEG", quality=92, **extra)
    return out.getvalue()


def _png(image: Image.Image, dpi: float | None = DPI) -> bytes:
    out = io.BytesIO()
    extra = {"dpi": (dpi, dpi)} if dpi else {}
    # Fast compression: the test scans are noisy and the default level would dominate the run time.
    image.save(out, format="PNG", compress_level=1, **extra)
    return out.getvalue()


def _pdf(image: Image.Image, dpi: float = DPI) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PDF", resolution=dpi)
    return out.getvalue()


def _rejected(data: bytes) -> str:
    with pytest.raises(SealRejected) as caught:
        capture_seal(data)
    return str(caught.value)


@cache
def _good(kind: str, dpi: float | None = DPI) -> bytes:
    if kind == "png":
        return _png(_good_scan(), dpi=dpi)
    if kind == "pdf":
        return _pdf(_good_scan(), dpi=dpi or DPI)
    return _jpeg(_good_scan(), dpi=dpi)


@cache
def _captured(kind: str) -> CapturedSeal:
    return capture_seal(_good(kind))


@pytest.mark.parametrize("kind", ["jpeg", "png", "pdf"])
def test_a_good_scan_becomes_a_clean_stamp(kind: str) -> None:
    seal = _captured(kind)
    assert seal.dpi == pytest.approx(DPI, abs=0.5)
    assert not seal.dpi_assumed
    assert seal.width_mm == pytest.approx(SEAL_MM, abs=3)
    assert seal.height_mm == pytest.approx(SEAL_MM, abs=3)
    assert 0.05 < seal.ink_ratio < 0.5

    stamp = Image.open(io.BytesIO(seal.png))
    assert stamp.format == "PNG"
    assert stamp.mode == "RGBA"
    assert stamp.size == (seal.width_px, seal.height_px)
    assert stamp.info["dpi"] == pytest.approx((DPI, DPI), abs=0.5)
    pixels = np.asarray(stamp)
    alpha = pixels[..., 3]
    # Cropped to the imprint plus a small margin.
    assert seal.width_px == pytest.approx(_mm(SEAL_MM), rel=0.08)
    for corner in (alpha[:5, :5], alpha[:5, -5:], alpha[-5:, :5], alpha[-5:, -5:]):
        assert corner.max() == 0
    # Paper between the ring and the star, and the paper outside the ring, is fully transparent.
    middle = seal.height_px // 2
    assert alpha[middle, seal.width_px // 2 - _mm(11)] == 0
    assert alpha[middle, 1] == 0
    # The ring is opaque, in the uniform seal red.
    ring = alpha[middle, : _mm(5)]
    assert ring.max() >= 250
    assert np.all(pixels[..., :3] == SEAL_RED)


def test_a_drawn_pdf_without_a_scan_is_rendered_at_600_dpi() -> None:
    # Some offices export the imprint from a drawing program: vectors, no embedded image to judge.
    out = io.BytesIO()
    drawing = canvas.Canvas(out, pagesize=(60 * units.mm, 60 * units.mm))
    drawing.setStrokeColorRGB(0.8, 0.15, 0.15)
    drawing.setLineWidth(RING_MM * units.mm)
    drawing.circle(30 * units.mm, 30 * units.mm, (SEAL_MM - RING_MM) / 2 * units.mm)
    drawing.save()
    seal = capture_seal(out.getvalue())
    assert seal.dpi == DPI
    assert seal.width_mm == pytest.approx(SEAL_MM, abs=0.5)


@pytest.mark.parametrize("kind", ["jpeg", "png", "pdf"])
def test_the_stamp_is_the_same_bytes_every_time(kind: str) -> None:
    data = _good(kind)
    first, second = _captured(kind), capture_seal(data)
    assert first.png == second.png
    assert first == second
    assert first.source_sha256 == hashlib.sha256(data).hexdigest()
    assert b"tIME" not in first.png


def test_the_formats_agree_on_the_seal() -> None:
    sizes = [(_captured(kind).width_mm, _captured(kind).height_mm) for kind in ("jpeg", "png", "pdf")]
    for width, height in sizes:
        assert width == pytest.approx(sizes[1][0], abs=0.5)
        assert height == pytest.approx(sizes[1][1], abs=0.5)


def test_a_scan_without_a_recorded_resolution_is_taken_as_600_dpi() -> None:
    seal = capture_seal(_good("jpeg", dpi=None))
    assert seal.dpi_assumed
    assert seal.dpi == DPI
    assert seal.width_mm == pytest.approx(SEAL_MM, abs=3)


def test_the_resolution_is_read_from_exif_when_jfif_has_none() -> None:
    exif = Image.Exif()
    exif[0x011A] = exif[0x011B] = 600.0  # XResolution, YResolution
    exif[0x0128] = 2  # inches
    out = io.BytesIO()
    _good_scan().save(out, format="JPEG", exif=exif)
    seal = capture_seal(out.getvalue())
    assert (seal.dpi, seal.dpi_assumed) == (DPI, False)


def test_exif_without_a_resolution_is_no_resolution() -> None:
    # Pillow reports 72 dpi for such a file; taking that at its word would refuse a good scan.
    exif = Image.Exif()
    exif[0x010F] = "Scanner"  # Make
    out = io.BytesIO()
    _good_scan().save(out, format="JPEG", exif=exif)
    seal = capture_seal(out.getvalue())
    assert (seal.dpi, seal.dpi_assumed) == (DPI, True)


def test_a_greyscale_scan_is_refused_with_the_reason() -> None:
    out = io.BytesIO()
    _good_scan().convert("L").save(out, format="JPEG", dpi=(DPI, DPI))
    assert "彩色模式" in _rejected(out.getvalue())


def test_a_png_with_transparency_is_read_as_on_white_paper() -> None:
    pixels = np.asarray(_good_scan().convert("RGBA")).copy()
    # Paper cut away as fully transparent, with black underneath: it must not read as print or ink.
    paper = pixels[..., 0].astype(int) - pixels[..., 1] < 60
    pixels[paper] = (0, 0, 0, 0)
    seal = capture_seal(_png(Image.fromarray(pixels)))
    assert seal.width_mm == pytest.approx(SEAL_MM, abs=3)


@cache
def _low_resolution() -> Image.Image:
    scan = _good_scan()
    return scan.resize((scan.width // 4, scan.height // 4), Image.Resampling.LANCZOS)


@pytest.mark.parametrize(
    ("encode", "reason"),
    [
        (lambda image: _jpeg(image, dpi=150), "文件标注的分辨率为 150 dpi"),
        (lambda image: _png(image, dpi=150), "150 dpi"),
        (lambda image: _pdf(image, dpi=150), "PDF 中的扫描图像约为 150 dpi"),
        # The file records no resolution: 600 dpi is assumed, and the imprint's pixel count gives it away.
        (lambda image: _jpeg(image, dpi=None), "像素宽"),
    ],
    ids=["jpeg", "png", "pdf", "jpeg-no-dpi"],
)
def test_a_150_dpi_scan_is_refused(encode: Callable[[Image.Image], bytes], reason: str) -> None:
    message = _rejected(encode(_low_resolution()))
    assert message.startswith("分辨率过低")
    assert reason in message


def test_a_150_dpi_scan_claiming_600_dpi_is_refused_by_its_size() -> None:
    message = _rejected(_png(_low_resolution(), dpi=600))
    assert re.match(r"印章尺寸约 1[01]×1[01] mm（按 600 dpi 计算）", message)


def test_a_blank_page_is_refused() -> None:
    image, _ = _paper(60, 66)
    assert _rejected(_jpeg(_finish(image))) == "未检测到红色印章"


def test_a_clipped_seal_is_refused() -> None:
    image, draw = _paper(60, 66)
    _draw_seal(draw, _mm(15), image.height / 2, SEAL_MM, SEAL_MM)
    assert "印章不完整（有缺边）" in _rejected(_jpeg(_finish(image)))


def test_a_seal_just_touching_the_edge_is_refused() -> None:
    image, draw = _paper(60, 66)
    _draw_seal(draw, image.width / 2, _mm(SEAL_MM / 2) - 1, SEAL_MM, SEAL_MM)
    assert "有缺边" in _rejected(_jpeg(_finish(image, black_text=False)))


def test_an_elongated_imprint_is_refused() -> None:
    image, draw = _paper(80, 50)
    _draw_seal(draw, image.width / 2, image.height / 2, 60, 20)
    message = _rejected(_jpeg(_finish(image)))
    assert message.startswith("印模应为圆形或方形")
    ratio = re.search(r"宽高比 ([0-9.]+)", message)
    assert ratio
    assert float(ratio.group(1)) == pytest.approx(3.0, abs=0.1)


@pytest.mark.parametrize(("dpi", "shown"), [(2000, "13×13 mm"), (300, "84×84 mm")])
def test_an_implausible_size_is_refused_with_the_measured_size(dpi: float, shown: str) -> None:
    # The 42 mm drawing labelled with another resolution measures as a 13 mm or an 84 mm seal.
    message = _rejected(_good("jpeg", dpi=dpi))
    assert message.startswith("印章尺寸约")
    assert shown in message


def test_a_seal_stamped_over_print_is_refused() -> None:
    image, draw = _paper(60, 66)
    _draw_seal(draw, image.width / 2, image.height / 2, SEAL_MM, SEAL_MM)
    draw.line(
        (0, image.height / 2 + _mm(3), image.width, image.height / 2 + _mm(3)),
        fill=(15, 15, 15),
        width=_mm(0.4),
    )
    assert "重叠" in _rejected(_jpeg(_finish(image)))


def test_two_imprints_on_one_scan_are_refused() -> None:
    image, draw = _paper(110, 60)
    _draw_seal(draw, _mm(28), image.height / 2, SEAL_MM, SEAL_MM)
    _draw_seal(draw, _mm(82), image.height / 2, SEAL_MM, SEAL_MM)
    assert "多处红色印迹" in _rejected(_jpeg(_finish(image)))


def test_a_stray_red_mark_beside_the_seal_is_ignored() -> None:
    image, draw = _paper(70, 66)
    _draw_seal(draw, _mm(30), image.height / 2, SEAL_MM, SEAL_MM)
    draw.line((_mm(60), _mm(10), _mm(64), _mm(16)), fill=INK, width=_mm(0.5))  # a red pen tick
    seal = capture_seal(_jpeg(_finish(image)))
    assert seal.width_mm == pytest.approx(SEAL_MM, abs=3)


def _gif() -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (200, 200), PAPER)
    ImageDraw.Draw(image).ellipse((20, 20, 180, 180), outline=INK, width=8)
    image.save(out, format="GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        _gif(),
        "印模.jpg".encode() + b"\nthis is a text file, whatever its name says\n",
        b"GIF89a" + b"\0" * 64,
    ],
    ids=["gif", "text", "gif-header"],
)
def test_other_formats_are_refused_by_content(data: bytes) -> None:
    # The API never sees a file name: a GIF or a text file uploaded as 印模.jpg is judged on its bytes.
    assert _rejected(data) == "只接受 JPG、PNG 或 PDF 格式的印模扫描件"


def test_an_empty_upload_is_refused() -> None:
    assert _rejected(b"") == "文件为空"


def test_an_oversized_upload_is_refused_before_decoding() -> None:
    data = b"\xff\xd8\xff\xe0" + bytes(MAX_UPLOAD_BYTES)
    assert "超过上限 20 MB" in _rejected(data)


def _png_header(width: int, height: int) -> bytes:
    """A PNG that only claims its size: a decompression bomb is refused before any pixel is inflated."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [9_000, 100_000])
def test_a_decompression_bomb_is_refused(side: int) -> None:
    assert _rejected(_png_header(side, side)).startswith("图像过大")


@pytest.mark.parametrize(
    "data",
    [_png_header(1000, 1000), b"\xff\xd8\xff\xe0" + b"\0" * 100, b"%PDF-1.7\n" + b"garbage" * 20],
    ids=["truncated-png", "broken-jpeg", "broken-pdf"],
)
def test_a_corrupt_file_is_refused(data: bytes) -> None:
    message = _rejected(data)
    assert "损坏" in message
