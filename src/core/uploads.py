"""Uploaded files are judged by their content, never their name.

The type comes from the file's first bytes; the file name and the browser's Content-Type are whatever the
uploader's computer made of it. PDFs are then opened by pypdf (``core.pdf_probe``) and pictures by Pillow
(``core.image_probe``), each in a separate process with memory and CPU caps and a wall-clock timeout,
because a crafted file can make a parser loop or balloon (pypdf and Pillow have both had a stream of such
fixes). Every refusal is a Chinese sentence meant to be shown next to the upload field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.sandbox import SandboxError, SandboxTimeout, run_limited

PDF_PROBE_TIMEOUT = 10  # seconds of wall-clock time
PDF_PROBE_MEMORY = 512 * 1024 * 1024  # bytes of address space for the probe process
PDF_PROBE_CPU = 5  # seconds of CPU time
DEFAULT_MAX_PAGES = 50

# Past this many pixels a picture is refused from its header, before it is decoded. 25 megapixels is twice
# what phone cameras save by default and far more than an ID photo or a scanned page at 300 dpi needs;
# decoded it is at most 100 MB (four bytes a pixel).
DEFAULT_MAX_PIXELS = 25_000_000
IMAGE_PROBE_TIMEOUT = 10  # seconds of wall-clock time
# Address space for the image probe: Python, Pillow and numpy take ~150 MB; a picture at DEFAULT_MAX_PIXELS
# takes up to 100 MB decoded plus as much again for the one full-size conversion the probe may make. The
# worst case measured, a 5000×5000 RGBA PNG of noise (95 MB of file bytes on top), needed ~400 MB.
# A spec may lower max_pixels but not raise it past what this holds.
IMAGE_PROBE_MEMORY = 640 * 1024 * 1024
IMAGE_PROBE_CPU = 5  # seconds of CPU time; decoding 25 Mpx takes well under one

PDF, JPEG, PNG = "pdf", "jpeg", "png"
_MEDIA_TYPES = {PDF: "application/pdf", JPEG: "image/jpeg", PNG: "image/png"}
_NAMES = {PDF: "PDF", JPEG: "JPG", PNG: "PNG"}  # as users know them, whatever the file is called
_PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class UploadError(ValueError):
    """Why a file was refused, in Chinese, shown next to the field."""


@dataclass(frozen=True)
class PhotoRule:
    """What a notice asks of an ID-style photo, as far as it can be measured from the file."""

    name: str
    width_mm: int
    height_mm: int
    ratio: str  # width:height in small numbers, for the message
    # Fewest pixels accepted. The photo is printed at its physical size; below roughly 180–190 dpi at that
    # size a face on the certificate shows visible pixels. Well under a photo lab's 300 dpi, so that a
    # phone picture cropped to the frame or a print scanned at 200 dpi still passes.
    min_width: int
    min_height: int
    formats: tuple[str, ...]  # a spec for this photo accepts only these of its own formats
    max_bytes: int | None  # and at most this, whatever its own max_bytes
    plain_background: bool
    colour: bool


PHOTO_RULES: dict[str, PhotoRule] = {
    # 钦人社发〔2020〕1号 附件2 四: "尺寸在35mm*45mm…不超过512K；纯色背景", named 姓名+身份证号.jpg.
    # 260×340 px over 35×45 mm is ~190 dpi.
    "two_inch": PhotoRule(
        name="二寸照",
        width_mm=35,
        height_mm=45,
        ratio="7:9",
        min_width=260,
        min_height=340,
        formats=(JPEG,),
        max_bytes=512 * 1024,
        plain_background=True,
        colour=True,
    ),
    # 甘职改办〔2020〕2号 六(三): "1吋彩色照片"; the notice names no file format or size.
    # 175×245 px over 25×35 mm is ~178 dpi.
    "one_inch": PhotoRule(
        name="1吋照",
        width_mm=25,
        height_mm=35,
        ratio="5:7",
        min_width=175,
        min_height=245,
        formats=(JPEG, PNG),
        max_bytes=None,
        plain_background=False,
        colour=True,
    ),
}
# Width/height may differ from the rule's by this share: crops by hand and phone apps are not exact, while
# the next common size (a 1-inch photo offered as 2-inch: 0.71 against 0.78) is still told apart.
PHOTO_RATIO_TOLERANCE = 0.04


@dataclass(frozen=True)
class UploadSpec:
    formats: tuple[str, ...]  # any of "pdf", "jpeg", "png"
    max_bytes: int
    max_pages: int = DEFAULT_MAX_PAGES
    max_pixels: int = DEFAULT_MAX_PIXELS  # decompression-bomb cap for images, checked on the header
    photo: str | None = None  # None or a key of PHOTO_RULES: "two_inch", "one_inch"

    def __post_init__(self) -> None:
        # Specs come from code and from tenant presets; one that can accept nothing or names something unknown
        # is a mistake to report where it is made, not a reason to refuse an applicant's file.
        if not self.formats or any(kind not in _MEDIA_TYPES for kind in self.formats):
            raise ValueError(f"formats must be some of {sorted(_MEDIA_TYPES)}: {self.formats!r}")
        if self.max_bytes <= 0 or self.max_pages <= 0:
            raise ValueError("max_bytes and max_pages must be positive")
        if not 0 < self.max_pixels <= DEFAULT_MAX_PIXELS:
            raise ValueError(
                f"max_pixels must be in 1..{DEFAULT_MAX_PIXELS} (IMAGE_PROBE_MEMORY holds no more)"
            )
        if self.photo is not None:
            rule = PHOTO_RULES.get(self.photo)
            if rule is None:
                raise ValueError(f"photo must be one of {sorted(PHOTO_RULES)}: {self.photo!r}")
            if not self.accepted_formats:
                raise ValueError(
                    f"a {self.photo} photo can only be one of {rule.formats!r}: {self.formats!r}"
                )

    @property
    def accepted_formats(self) -> tuple[str, ...]:
        """The formats, narrowed to what the photo's notice allows (a two-inch photo is JPEG only)."""
        if self.photo is None:
            return self.formats
        allowed = PHOTO_RULES[self.photo].formats
        return tuple(kind for kind in self.formats if kind in allowed)

    @property
    def size_limit(self) -> int:
        """max_bytes, lowered to the photo's notice where it sets one (a two-inch photo is at most 512 KB)."""
        rule = PHOTO_RULES.get(self.photo) if self.photo else None
        if rule is None or rule.max_bytes is None:
            return self.max_bytes
        return min(self.max_bytes, rule.max_bytes)


@dataclass(frozen=True)
class CheckedUpload:
    media_type: str  # "application/pdf", "image/jpeg", "image/png"
    size: int
    pages: int | None  # PDFs only
    width: int | None  # images only, in pixels as displayed (after the EXIF orientation)
    height: int | None
    colour: bool | None = None  # images only: False for greyscale, whatever the mode it is stored in
    dpi: tuple[float, float] | None = None  # images only, when the file records it


# Ready-made specs for the photos the notices ask for.
TWO_INCH_PHOTO = UploadSpec(formats=(JPEG,), max_bytes=512 * 1024, photo="two_inch")
# No size limit in the notice; a 1-inch photo is a few hundred kB even straight from a phone crop.
ONE_INCH_PHOTO = UploadSpec(formats=(JPEG, PNG), max_bytes=2 * 1024 * 1024, photo="one_inch")


async def check_upload(content: bytes, spec: UploadSpec) -> CheckedUpload:
    """What an acceptable upload is; raises UploadError with the reason otherwise."""
    if not content:
        raise UploadError("文件为空")
    if len(content) > spec.size_limit:
        shown, limit = _size(len(content)), _size(spec.size_limit)
        if shown == limit:  # 512.0004 KB against 512 KB: rounding would make both read the same
            shown, limit = f"{len(content)} 字节", f"{spec.size_limit} 字节"
        raise UploadError(f"文件大小 {shown} 超过上限 {limit}")
    kind = _sniff(content)
    if kind not in spec.accepted_formats:
        raise UploadError(_wrong_type(kind, spec))
    if kind == PDF:
        pages = await _probe_pdf(content, spec.max_pages)
        return CheckedUpload(_MEDIA_TYPES[PDF], len(content), pages, None, None)
    found = await _probe_image(content, kind, spec.max_pixels)
    width, height = int(found["width"]), int(found["height"])
    colour = bool(found["colour"])
    if spec.photo is not None:
        _check_photo(PHOTO_RULES[spec.photo], width, height, colour, bool(found["plain_background"]))
    dpi = found.get("dpi")
    return CheckedUpload(
        _MEDIA_TYPES[kind],
        len(content),
        None,
        width,
        height,
        colour=colour,
        dpi=(float(dpi[0]), float(dpi[1])) if dpi else None,
    )


async def check_pdf(content: bytes, *, max_bytes: int, max_pages: int = DEFAULT_MAX_PAGES) -> int:
    """The page count of an acceptable PDF; raises UploadError otherwise."""
    spec = UploadSpec(formats=(PDF,), max_bytes=max_bytes, max_pages=max_pages)
    pages = (await check_upload(content, spec)).pages
    assert pages is not None  # always set for a PDF
    return pages


async def photo_as_jpeg(content: bytes, media_type: str) -> bytes:
    """A checked photo as the JPEG a certificate embeds: a JPEG as it is, a PNG converted in the sandbox."""
    if media_type == _MEDIA_TYPES[JPEG]:
        return content
    try:
        return await run_limited(
            "core.jpeg_convert",
            content,
            seconds=IMAGE_PROBE_TIMEOUT,
            memory=IMAGE_PROBE_MEMORY,
            cpu=IMAGE_PROBE_CPU,
        )
    except SandboxError:
        raise UploadError("照片无法转换为 JPEG，请重新上传 JPG 照片") from None


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.1f}".removesuffix(".0") + " KB"
    return f"{size / 1024 / 1024:.1f}".removesuffix(".0") + " MB"


def _sniff(content: bytes) -> str | None:
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(_PNG_SIGNATURE):
        return PNG
    # Some producers put whitespace or a stray newline before the header; readers accept it, and so do we.
    if content.lstrip(b"\x00\t\n\r ")[:5] == b"%PDF-":
        return PDF
    return None


def _wrong_type(kind: str | None, spec: UploadSpec) -> str:
    accepted = spec.accepted_formats
    names = [_NAMES[each] for each in accepted]
    either = names[0] if len(names) == 1 else "、".join(names[:-1]) + " 或 " + names[-1]
    noun = "照片" if spec.photo else "文件" if PDF in accepted else "图片"
    found = "" if kind is None else f"（内容是 {_NAMES[kind]} {'文件' if kind == PDF else '图片'}）"
    return f"文件不是 {either}{found}：只接受 {either} {noun}（按内容判断，不看扩展名）"


def _check_photo(rule: PhotoRule, width: int, height: int, colour: bool, plain_background: bool) -> None:
    expected = rule.width_mm / rule.height_mm
    if abs(width / height / expected - 1) > PHOTO_RATIO_TOLERANCE:
        raise UploadError(
            f"照片比例应为{rule.name} {rule.width_mm}mm×{rule.height_mm}mm（宽:高≈{rule.ratio}），"
            f"上传的是 {width}×{height} 像素"
        )
    if width < rule.min_width or height < rule.min_height:
        raise UploadError(
            f"照片分辨率过低：{width}×{height} 像素，"
            f"{rule.name}至少需要 {rule.min_width}×{rule.min_height} 像素"
        )
    if rule.colour and not colour:
        raise UploadError("须为彩色照片，上传的是黑白或灰度照片")
    if rule.plain_background and not plain_background:
        raise UploadError("照片背景须为纯色：照片边缘的颜色不一致，请在单色背景前拍摄")


async def _probe_pdf(content: bytes, max_pages: int) -> int:
    result = await _run_probe(
        "core.pdf_probe",
        content,
        seconds=PDF_PROBE_TIMEOUT,
        memory=PDF_PROBE_MEMORY,
        cpu=PDF_PROBE_CPU,
        timeout_message="PDF 解析超时，文件可能已损坏",
        broken_message="PDF 无法解析，文件可能已损坏",
    )
    pages = int(result["pages"])
    if pages > max_pages:
        raise UploadError(f"PDF 共 {pages} 页，超过上限 {max_pages} 页")
    return pages


async def _probe_image(content: bytes, kind: str, max_pixels: int) -> dict[str, Any]:
    # Only the decoder the magic bytes named: a file must not reach Pillow's other plugins.
    options = json.dumps({"formats": [_PILLOW_FORMATS[kind]], "max_pixels": max_pixels}).encode()
    return await _run_probe(
        "core.image_probe",
        options + b"\n" + content,
        seconds=IMAGE_PROBE_TIMEOUT,
        memory=IMAGE_PROBE_MEMORY,
        cpu=IMAGE_PROBE_CPU,
        timeout_message="图片解析超时，文件可能已损坏",
        broken_message="图片无法解析，文件可能已损坏",
    )


async def _run_probe(
    module: str,
    data: bytes,
    *,
    seconds: float,
    memory: int,
    cpu: int,
    timeout_message: str,
    broken_message: str,
) -> dict[str, Any]:
    """The probe's JSON answer; its own refusal, a crash (limits hit) or garbage become an UploadError."""
    try:
        output = await run_limited(module, data, seconds=seconds, memory=memory, cpu=cpu)
    except SandboxTimeout:
        raise UploadError(timeout_message) from None
    except SandboxError:
        raise UploadError(broken_message) from None
    try:
        result = json.loads(output)
    except ValueError:
        raise UploadError(broken_message) from None
    if not isinstance(result, dict):
        raise UploadError(broken_message)
    if "error" in result:
        raise UploadError(str(result["error"]))
    return result
