"""Upload checks on files made here with Pillow, numpy and pypdf, run through the real sandboxed probes.

The photos are drawn like ID photos: a plain background, a face-coloured ellipse in the middle and dark
shoulders reaching the bottom edge. 413×531 px is 35×45 mm at 300 dpi."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw
from pypdf import PdfWriter

from core.uploads import (
    ONE_INCH_PHOTO,
    TWO_INCH_PHOTO,
    CheckedUpload,
    UploadError,
    UploadSpec,
    check_pdf,
    check_upload,
    photo_as_jpeg,
)
from tests.hostile_pdfs import pdf_of

BLUE = (67, 142, 219)
SKIN = (233, 190, 160)
SUIT = (30, 30, 35)
KB = 1024


def _draw_person(img: Image.Image) -> Image.Image:
    width, height = img.size
    draw = ImageDraw.Draw(img)
    draw.polygon(
        [(0, height), (width * 0.1, height * 0.78), (width * 0.9, height * 0.78), (width, height)], fill=SUIT
    )
    draw.ellipse([width * 0.3, height * 0.18, width * 0.7, height * 0.68], fill=SKIN)
    return img


def _picture(width: int = 413, height: int = 531, background: tuple[int, int, int] = BLUE) -> Image.Image:
    return _draw_person(Image.new("RGB", (width, height), background))


def _encode(img: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def _jpeg(img: Image.Image | None = None, **options: object) -> bytes:
    return _encode(img if img is not None else _picture(), "JPEG", quality=90, **options)


def _padded_jpeg(jpeg: bytes, size: int) -> bytes:
    """The same picture grown to exactly `size` bytes with JPEG comment segments after the SOI marker, so the
    file stays a valid JPEG rather than one with junk after its end marker."""
    padding = bytearray()
    missing = size - len(jpeg)
    assert missing == 0 or missing >= 4, "a segment takes at least 4 bytes"
    while missing:
        take = min(missing, 4 + 65533)  # marker and length, then at most 65533 bytes of comment
        if 0 < missing - take < 4:  # leave enough for the last segment's header
            take -= 4
        padding += b"\xff\xfe" + struct.pack(">H", take - 2) + b"\x00" * (take - 4)
        missing -= take
    result = jpeg[:2] + bytes(padding) + jpeg[2:]
    assert len(result) == size
    return result


def _blank_pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _bilevel_png(width: int, height: int) -> bytes:
    """A complete, valid all-black 1-bit PNG written by hand: Pillow would need the pixels in memory to save
    it, which is exactly what a decompression bomb is about. Zeros compress about 1000:1."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte 0, then the packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


async def _refusal(content: bytes, spec: UploadSpec) -> str:
    with pytest.raises(UploadError) as refused:
        await check_upload(content, spec)
    return str(refused.value)


# --- accepted ---


async def test_a_two_inch_jpeg_photo_is_accepted() -> None:
    content = _jpeg()
    checked = await check_upload(content, TWO_INCH_PHOTO)
    assert checked == CheckedUpload("image/jpeg", len(content), None, 413, 531, colour=True, dpi=None)


async def test_a_one_inch_png_photo_is_accepted_with_its_resolution() -> None:
    # 25×35 mm at 300 dpi; the notice for this photo asks for colour but not a plain background.
    content = _encode(_picture(295, 413, background=(245, 245, 240)), "PNG", dpi=(300, 300))
    checked = await check_upload(content, ONE_INCH_PHOTO)
    assert (checked.media_type, checked.width, checked.height) == ("image/png", 295, 413)
    assert checked.colour is True
    assert checked.dpi == (300.0, 300.0)


async def test_a_phone_photo_stored_sideways_is_measured_as_displayed() -> None:
    # Phones save the sensor's landscape pixels and an EXIF tag saying "turn 90° clockwise to view".
    stored = _picture().rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    checked = await check_upload(_jpeg(stored, exif=exif.tobytes()), TWO_INCH_PHOTO)
    assert (checked.width, checked.height) == (413, 531)


async def test_a_photo_exactly_at_the_size_limit_is_accepted() -> None:
    content = _padded_jpeg(_jpeg(), 512 * KB)
    checked = await check_upload(content, TWO_INCH_PHOTO)
    assert checked.size == 512 * KB


async def test_a_pdf_with_a_blank_page_is_accepted() -> None:
    content = _blank_pdf()
    checked = await check_upload(content, UploadSpec(formats=("pdf",), max_bytes=2 * 1024 * KB))
    assert checked == CheckedUpload("application/pdf", len(content), 1, None, None)


async def test_check_pdf_still_returns_the_page_count() -> None:
    assert await check_pdf(_blank_pdf(3), max_bytes=2 * 1024 * KB) == 3


async def test_a_pdf_that_opens_at_a_page_is_accepted() -> None:
    assert await check_pdf(pdf_of(b"/OpenAction [3 0 R /Fit]"), max_bytes=2 * 1024 * KB) == 1


def _with_attachment() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment("run.exe", b"MZ")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        pdf_of(b"/OpenAction 4 0 R", b"<< /S /JavaScript /JS (app.alert(1)) >>"),
        pdf_of(b"/OpenAction << /S /URI /URI (https://example.com/) >>"),
        pdf_of(b"/Names << /JavaScript << /Names [(a) 4 0 R] >> >>", b"<< /S /JavaScript /JS (go()) >>"),
        _with_attachment(),
        pdf_of(
            b"",
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 99 99] /A << /S /Launch /F (cmd.exe) >> >>",
            page_extra=b"/Annots [4 0 R]",
        ),
        pdf_of(b"", page_extra=b"/AA << /O << /S /GoTo /D [3 0 R /Fit] >> >>"),
    ],
    ids=[
        "open-action-script",
        "open-action-uri",
        "document-script",
        "embedded-file",
        "launch-link",
        "page-trigger",
    ],
)
async def test_a_pdf_with_scripts_or_automatic_actions_is_refused(content: bytes) -> None:
    spec = UploadSpec(formats=("pdf",), max_bytes=2 * 1024 * KB)
    assert await _refusal(content, spec) == "PDF 含有脚本或自动动作，请另存为普通 PDF 后上传"


async def test_one_spec_can_accept_pdf_and_pictures() -> None:
    spec = UploadSpec(formats=("pdf", "jpeg", "png"), max_bytes=2 * 1024 * KB)
    assert (await check_upload(_blank_pdf(), spec)).media_type == "application/pdf"
    assert (await check_upload(_jpeg(), spec)).media_type == "image/jpeg"
    assert (await check_upload(_encode(_picture(), "PNG"), spec)).media_type == "image/png"


# --- refused before any parser runs ---


async def test_an_empty_file_is_refused() -> None:
    assert await _refusal(b"", TWO_INCH_PHOTO) == "文件为空"


async def test_a_photo_one_byte_over_the_limit_is_refused() -> None:
    content = _padded_jpeg(_jpeg(), 512 * KB + 1)
    # Both would print as "512 KB", so the message falls back to bytes.
    assert await _refusal(content, TWO_INCH_PHOTO) == "文件大小 524289 字节 超过上限 524288 字节"


async def test_a_photo_well_over_the_limit_is_refused() -> None:
    content = _padded_jpeg(_jpeg(), 600 * KB)
    assert await _refusal(content, TWO_INCH_PHOTO) == "文件大小 600 KB 超过上限 512 KB"


async def test_a_png_sent_where_only_pdf_is_accepted_is_refused() -> None:
    # Whatever it was called (申请表.pdf), the bytes are a PNG.
    content = _encode(_picture(), "PNG")
    message = await _refusal(content, UploadSpec(formats=("pdf",), max_bytes=2 * 1024 * KB))
    assert message == "文件不是 PDF（内容是 PNG 图片）：只接受 PDF 文件（按内容判断，不看扩展名）"


async def test_check_pdf_names_what_it_wanted_for_unknown_content() -> None:
    with pytest.raises(UploadError) as refused:
        await check_pdf(b"GIF89a not a pdf", max_bytes=2 * 1024 * KB)
    assert str(refused.value) == "文件不是 PDF：只接受 PDF 文件（按内容判断，不看扩展名）"


async def test_a_png_sent_as_a_two_inch_photo_is_refused() -> None:
    message = await _refusal(_encode(_picture(), "PNG"), TWO_INCH_PHOTO)
    assert message == "文件不是 JPG（内容是 PNG 图片）：只接受 JPG 照片（按内容判断，不看扩展名）"


async def test_a_pdf_sent_as_a_photo_is_refused() -> None:
    message = await _refusal(_blank_pdf(), ONE_INCH_PHOTO)
    assert message == (
        "文件不是 JPG 或 PNG（内容是 PDF 文件）：只接受 JPG 或 PNG 照片（按内容判断，不看扩展名）"
    )


# --- refused by the sandboxed parsers ---


async def test_a_truncated_jpeg_is_refused() -> None:
    content = _jpeg()
    assert await _refusal(content[: len(content) // 2], TWO_INCH_PHOTO) == "图片无法解析，文件可能已损坏"


async def test_garbage_behind_jpeg_magic_bytes_is_refused() -> None:
    content = b"\xff\xd8\xff" + bytes(range(256)) * 8
    assert await _refusal(content, TWO_INCH_PHOTO) == "图片无法解析，文件可能已损坏"


async def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    # 900 megapixels, a gigabyte once decoded, in ~110 kB. Pillow's own guard trips on it at open; the
    # probe's memory cap (well under a gigabyte) means any decoding would have crashed the child instead
    # and produced "无法解析", so this message proves no pixel was decoded.
    content = _bilevel_png(30_000, 30_000)
    assert len(content) < 200 * KB
    started = time.monotonic()
    message = await _refusal(content, UploadSpec(formats=("png",), max_bytes=1024 * KB))
    assert message == "图片尺寸过大：超过上限 2500 万像素"
    assert time.monotonic() - started < 5


async def test_a_picture_just_over_the_pixel_cap_is_refused_with_its_size() -> None:
    # 36 Mpx is under twice the cap, where Pillow only warns: the probe's own header check refuses it.
    content = _bilevel_png(6_000, 6_000)
    message = await _refusal(content, UploadSpec(formats=("png",), max_bytes=1024 * KB))
    assert message == "图片尺寸过大：6000×6000 像素，超过上限 2500 万像素"


async def test_a_pdf_with_too_many_pages_is_refused() -> None:
    spec = UploadSpec(formats=("pdf",), max_bytes=2 * 1024 * KB, max_pages=2)
    assert await _refusal(_blank_pdf(3), spec) == "PDF 共 3 页，超过上限 2 页"


# --- refused by the photo rules ---


async def test_a_square_photo_is_refused_with_the_expected_size() -> None:
    message = await _refusal(_jpeg(_picture(400, 400)), TWO_INCH_PHOTO)
    assert message == "照片比例应为二寸照 35mm×45mm（宽:高≈7:9），上传的是 400×400 像素"


async def test_a_one_inch_photo_offered_as_two_inch_is_refused() -> None:
    message = await _refusal(_jpeg(_picture(295, 413)), TWO_INCH_PHOTO)
    assert message == "照片比例应为二寸照 35mm×45mm（宽:高≈7:9），上传的是 295×413 像素"


async def test_a_two_inch_photo_offered_as_one_inch_is_refused() -> None:
    message = await _refusal(_jpeg(_picture()), ONE_INCH_PHOTO)
    assert message == "照片比例应为1吋照 25mm×35mm（宽:高≈5:7），上传的是 413×531 像素"


async def test_a_photo_too_small_to_print_is_refused() -> None:
    message = await _refusal(_jpeg(_picture(210, 270)), TWO_INCH_PHOTO)
    assert message == "照片分辨率过低：210×270 像素，二寸照至少需要 260×340 像素"


async def test_a_greyscale_photo_is_refused() -> None:
    message = await _refusal(_jpeg(_picture().convert("L")), TWO_INCH_PHOTO)
    assert message == "须为彩色照片，上传的是黑白或灰度照片"


async def test_a_grey_photo_saved_in_colour_mode_is_refused() -> None:
    # An RGB file whose three channels are equal: a black-and-white print scanned in colour mode.
    grey_rgb = _picture().convert("L").convert("RGB")
    assert await _refusal(_jpeg(grey_rgb), TWO_INCH_PHOTO) == "须为彩色照片，上传的是黑白或灰度照片"


async def test_a_noisy_background_is_refused() -> None:
    noise = np.random.default_rng(7).integers(0, 256, (531, 413, 3), dtype=np.uint8)
    photo = _draw_person(Image.fromarray(noise, "RGB"))
    message = await _refusal(_jpeg(photo), TWO_INCH_PHOTO)
    assert message == "照片背景须为纯色：照片边缘的颜色不一致，请在单色背景前拍摄"


async def test_a_striped_background_is_refused() -> None:
    backdrop = Image.new("RGB", (413, 531), (240, 240, 240))
    draw = ImageDraw.Draw(backdrop)
    for x in range(0, 413, 24):
        draw.rectangle([x, 0, x + 11, 531], fill=(180, 120, 90))
    message = await _refusal(_jpeg(_draw_person(backdrop)), TWO_INCH_PHOTO)
    assert message == "照片背景须为纯色：照片边缘的颜色不一致，请在单色背景前拍摄"


async def test_a_plain_background_with_grain_and_a_lighting_falloff_is_accepted() -> None:
    # What a real plain backdrop looks like: a little sensor grain and darker towards the bottom.
    falloff = np.linspace(0, -25, 531)[:, None, None]
    grain = np.random.default_rng(3).normal(0, 6, (531, 413, 3))
    backdrop = np.clip(np.array(BLUE) + falloff + grain, 0, 255).astype(np.uint8)
    photo = _draw_person(Image.fromarray(backdrop, "RGB"))
    assert (await check_upload(_jpeg(photo), TWO_INCH_PHOTO)).width == 413


# --- specs are checked when written ---


@pytest.mark.parametrize(
    "arguments",
    [
        {"formats": (), "max_bytes": KB},
        {"formats": ("gif",), "max_bytes": KB},
        {"formats": ("jpeg",), "max_bytes": 0},
        {"formats": ("jpeg",), "max_bytes": KB, "max_pixels": 100_000_000},
        {"formats": ("jpeg",), "max_bytes": KB, "photo": "passport"},
        {"formats": ("pdf",), "max_bytes": KB, "photo": "one_inch"},
        {"formats": ("png",), "max_bytes": KB, "photo": "two_inch"},
    ],
)
def test_a_spec_that_can_accept_nothing_or_names_the_unknown_is_an_error(
    arguments: dict[str, object],
) -> None:
    with pytest.raises(ValueError):
        UploadSpec(**arguments)  # type: ignore[arg-type]


async def test_a_looser_spec_for_a_two_inch_photo_still_gets_the_notices_limits() -> None:
    # A preset may say "jpeg or png, up to 1 MB"; the notice behind two_inch says JPEG and 512 KB.
    loose = UploadSpec(formats=("jpeg", "png"), max_bytes=1024 * KB, photo="two_inch")
    assert await _refusal(_padded_jpeg(_jpeg(), 600 * KB), loose) == "文件大小 600 KB 超过上限 512 KB"
    message = await _refusal(_encode(_picture(), "PNG"), loose)
    assert message == "文件不是 JPG（内容是 PNG 图片）：只接受 JPG 照片（按内容判断，不看扩展名）"


async def test_a_png_photo_becomes_the_jpeg_a_certificate_embeds_in_the_sandbox() -> None:
    png = _encode(_picture(), "PNG")
    jpeg = await photo_as_jpeg(png, "image/png")
    with Image.open(io.BytesIO(jpeg)) as converted:
        assert converted.format == "JPEG" and converted.size == (413, 531)
    assert await photo_as_jpeg(jpeg, "image/jpeg") is jpeg
    with pytest.raises(UploadError, match="照片无法转换为 JPEG"):
        await photo_as_jpeg(png[:200], "image/png")
