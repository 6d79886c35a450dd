"""Seal capture: a scanned imprint becomes a clean transparent stamp, or a Chinese reason why not.

The notices collect imprints as scans (seed 002 附件2 三(四)): stamped on blank paper or the collection
form, scanned to jpg or pdf, normally at 600 dpi, and the imprint must be 方正、清晰、不重叠、无缺边.
Each rule below is one of those requirements made measurable, so an administrator learns at upload
time — not when the first certificate comes out — that the scan has to be redone.

Everything here is a pure function of the uploaded bytes: no HTTP, no database, no clock."""

from __future__ import annotations

import hashlib
import io
import math
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from numpy.typing import NDArray
from PIL import Image, ImageOps

MAX_UPLOAD_BYTES = 20 * 1024 * 1024

# An A4 page at 600 dpi is 35 megapixels; 60 leaves room for a larger scan area while bounding memory
# (each full-size working array is one byte per pixel) before any pixel is decoded.
MAX_PIXELS = 60_000_000

# Scanners usually record their resolution; when a file does not, the notices' 600 dpi is the best guess,
# and the pixel-count and physical-size checks below catch a guess that was wrong.
ASSUMED_DPI = 600.0
PDF_RENDER_DPI = 600.0
MIN_DPI = 300.0
# A 38 mm seal at the 300 dpi floor is 449 px across, so every real seal scanned at an acceptable
# resolution clears this; a 150 dpi scan of a 42 mm seal (248 px) whose file lies about or omits its
# resolution does not. Stricter than this would contradict the 300 dpi floor.
MIN_IMPRINT_PX = 440
MIN_SEAL_MM = 20.0
MAX_SEAL_MM = 80.0
# "方正": official seals are round or square; a bounding box further from 1:1 than this is a smeared,
# slanted-pressure or oval imprint.
MIN_ASPECT = 0.8
MAX_ASPECT = 1.25

# Ink strength is r − max(g, b): high for red and orange ink, about 0 for white or yellowed paper, grey
# or black print and scanner noise, negative (clipped to 0) for blue. It needs no colour conversion and
# does not depend on how bright the scan is the way a plain "red > x" test does.
INK_THRESHOLD = 60  # a pixel counts as ink for detection and measurement
ALPHA_LOW = 35  # at or below: paper (noise on off-white paper stays well under this)
ALPHA_HIGH = 120  # at or above: fully opaque; normal seal ink scans at 140–200
# Less red than this is no seal. Kept far below a real seal's ink (a 42 mm seal has ~300 mm², a 20 mm ring
# drawn with a 0.5 mm line 30 mm²) so that a scan whose resolution was guessed 4× too high still reaches the
# resolution check and hears the real reason.
MIN_INK_MM2 = 5.0
# Gaps up to about this between red marks still make one mark: where ink failed to transfer, a ring or
# frame breaks by a millimetre or so. Text and star need no bridge: whatever lies inside the frame's extent
# belongs to the seal. Larger would swallow red scribbles or reddish print a few mm from the seal.
BRIDGE_MM = 2.0
EDGE_PX = 2
MIN_EDGE_RUN_MM = 0.5  # a tangent ring already touches the edge over ~4 mm; a lone speck does not count
SECOND_IMPRINT_SHARE = 0.3  # another red mark this big next to the seal is a second imprint
# Black print inside the imprint's outline (the ellipse inscribed in its bounding box), as a share of that
# area, beyond which it is "重叠": a 0.3 mm table rule across a 42 mm seal is 0.9 %, a line of text 2–3 %,
# dust and scanner specks on a clean imprint well under 0.1 %.
MAX_OVERLAP_SHARE = 0.005
DARK_MAX_CHANNEL = 100  # a pixel with every channel below this and no redness is black print
MARGIN_SHARE = 0.02
SEAL_RED = (0xD7, 0x26, 0x1E)
PNG_COMPRESS_LEVEL = 6

_Kind = Literal["JPEG", "PNG", "PDF"]
_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "F"})
_BoolArray = NDArray[np.bool_]
_ByteArray = NDArray[np.uint8]

# PDFium keeps global state and is not thread-safe, and sync handlers may run on a thread pool.
_PDFIUM_LOCK = threading.Lock()


class SealRejected(ValueError):
    """Why an imprint was refused, in Chinese, shown next to the upload field."""


@dataclass(frozen=True)
class CapturedSeal:
    png: bytes  # RGBA PNG, cropped to the imprint plus a small margin; paper alpha 0, ink in SEAL_RED
    width_px: int  # of the PNG (margin included)
    height_px: int
    dpi: float  # resolution the sizes were measured at; also written into the PNG
    width_mm: float  # the imprint itself (ink bounding box, margin excluded)
    height_mm: float
    ink_ratio: float  # share of the PNG's pixels that are ink
    source_sha256: str  # of the uploaded bytes
    # True when the file recorded no resolution and ASSUMED_DPI was used; the UI should say so.
    dpi_assumed: bool = False


@dataclass(frozen=True)
class _Scan:
    rgb: _ByteArray  # (h, w, 3)
    dpi: float
    dpi_assumed: bool
    # Resolution of the pixels actually captured, when lower than `dpi`: a PDF rendered at 600 dpi from a
    # 150 dpi scan has 600 dpi pixels but only 150 dpi of detail.
    source_dpi: float


@dataclass(frozen=True)
class _Imprint:
    top: int  # exact ink bounding box in image pixels, bottom/right exclusive
    left: int
    bottom: int
    right: int
    blocks: _BoolArray  # ~1 mm blocks belonging to the seal
    block: int  # block size in pixels


def capture_seal(data: bytes) -> CapturedSeal:
    """The transparent stamp cut from an uploaded imprint scan; raises SealRejected with the reason."""
    if not data:
        raise SealRejected("文件为空")
    if len(data) > MAX_UPLOAD_BYTES:
        raise SealRejected(
            f"文件大小 {len(data) / 1024 / 1024:.1f} MB 超过上限 {MAX_UPLOAD_BYTES // 1024 // 1024} MB"
        )
    kind = _sniff(data)
    scan = _render_pdf(data) if kind == "PDF" else _decode_image(data, kind)
    if min(scan.dpi, scan.source_dpi) < MIN_DPI:
        where = "PDF 中的扫描图像约为" if scan.source_dpi < scan.dpi else "文件标注的分辨率为"
        raise SealRejected(
            f"分辨率过低：{where} {min(scan.dpi, scan.source_dpi):.0f} dpi，"
            f"至少需要 {MIN_DPI:.0f} dpi，请按 600 dpi 重新扫描"
        )

    strength = _ink_strength(scan.rgb)
    ink = strength >= INK_THRESHOLD
    px_per_mm = scan.dpi / 25.4
    imprint = _locate_imprint(ink, px_per_mm)
    _check_imprint(scan, strength, ink, imprint)
    return _stamp(data, scan, strength, ink, imprint)


def _sniff(data: bytes) -> _Kind:
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    # Some producers put whitespace or a BOM-less newline before the header; core.uploads accepts the same.
    if data.lstrip(b"\x00\t\n\r ").startswith(b"%PDF-"):
        return "PDF"
    raise SealRejected("只接受 JPG、PNG 或 PDF 格式的印模扫描件")


def _too_many_pixels(width: int | None = None, height: int | None = None) -> SealRejected:
    size = f"（{width}×{height} 像素）" if width and height else ""
    return SealRejected(f"图像过大{size}，请只扫描印模所在的 A4 或更小的纸张，分辨率 600 dpi 即可")


def _decode_image(data: bytes, kind: _Kind) -> _Scan:
    try:
        # formats= makes Pillow decode what the magic bytes said, not whatever plugin claims it first.
        with Image.open(io.BytesIO(data), formats=[kind]) as img:
            width, height = img.size
            # Checked on the header, before the pixel data is decompressed.
            if width * height > MAX_PIXELS:
                raise _too_many_pixels(width, height)
            # Red ink is what the stamp is cut from; a grey scan has none, and "no seal found" would
            # send the administrator looking for the wrong fault.
            if img.mode in _GREY_MODES:
                raise SealRejected("扫描件是黑白或灰度图像，无法识别红色印章，请用彩色模式重新扫描")
            dpi = _recorded_dpi(img, kind)
            img.load()
            # In place: a full-page scan is 140 MB inside Pillow, and a copy per step adds up.
            ImageOps.exif_transpose(img, in_place=True)
            rgb = _flatten(img)
    except SealRejected:
        raise
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error):
        raise SealRejected("图像文件已损坏，无法读取") from None
    if dpi is None:
        return _Scan(rgb, ASSUMED_DPI, True, ASSUMED_DPI)
    x_dpi, y_dpi = dpi
    if abs(x_dpi - y_dpi) > 0.01 * max(x_dpi, y_dpi):
        # Non-square pixels would distort the stamp and its measured size; scanners never produce them.
        raise SealRejected(f"横向与纵向分辨率不一致（{x_dpi:.0f}×{y_dpi:.0f} dpi），请按 600 dpi 重新扫描")
    # PNG stores pixels per metre, so 600 dpi reads back as 599.9988.
    resolved = round(x_dpi, 1)
    return _Scan(rgb, resolved, False, resolved)


def _recorded_dpi(img: Image.Image, kind: _Kind) -> tuple[float, float] | None:
    """The resolution the file itself records, or None. Pillow invents 72 dpi for a JPEG whose EXIF lacks
    a resolution, which would wrongly fail the scan, so JPEG metadata is read here directly."""
    if kind == "PNG":
        found = img.info.get("dpi")  # only set for a pHYs chunk in pixels per metre
    elif img.info.get("jfif_unit") in (1, 2):
        found = img.info.get("dpi")
    else:
        exif = img.getexif()
        if 0x011A not in exif:
            return None
        unit = exif.get(0x0128, 2)  # 2 = inch is the EXIF default; 1 = no unit, only an aspect ratio
        if unit not in (2, 3):
            return None
        scale = 2.54 if unit == 3 else 1.0
        try:
            x = float(exif[0x011A]) * scale
            y = float(exif.get(0x011B, exif[0x011A])) * scale
        except (TypeError, ValueError, ZeroDivisionError):
            return None
        found = (x, y)
    if not found:
        return None
    x, y = float(found[0]), float(found[1])
    # JFIF "1:1" written with an inch unit, and similar placeholders, say nothing about the scan.
    if not (math.isfinite(x) and math.isfinite(y)) or x <= 1 or y <= 1:
        return None
    return x, y


def _flatten(img: Image.Image) -> _ByteArray:
    """RGB pixels; transparent areas become white paper so they never count as ink."""
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(paper, rgba)
    return np.asarray(img if img.mode == "RGB" else img.convert("RGB"), dtype=np.uint8)


def _render_pdf(data: bytes) -> _Scan:
    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            raise SealRejected("PDF 无法打开（可能已加密或已损坏）") from None
        try:
            if len(pdf) == 0:
                raise SealRejected("PDF 没有页面")
            page = pdf[0]
            width_pt, height_pt = page.get_size()
            if not (width_pt > 0 and height_pt > 0):
                raise SealRejected("PDF 页面尺寸无效")
            scale = PDF_RENDER_DPI / 72
            # A page larger than about A3 would exceed the pixel cap at 600 dpi; render it coarser
            # instead, as long as the result still meets the resolution floor.
            if width_pt * height_pt * scale * scale > MAX_PIXELS:
                scale = math.sqrt(MAX_PIXELS / (width_pt * height_pt)) * 0.999
            dpi = scale * 72
            if dpi < MIN_DPI:
                raise SealRejected(
                    f"PDF 页面过大（约 {width_pt / 72 * 25.4:.0f}×{height_pt / 72 * 25.4:.0f} mm），"
                    "请把印模扫描在 A4 或更小的页面上"
                )
            source_dpi = _embedded_scan_dpi(page) or dpi
            bitmap = page.render(
                scale=scale, rev_byteorder=True, fill_color=(255, 255, 255, 255), may_draw_forms=False
            )
            # Copied: the bitmap's buffer belongs to PDFium and goes away with the document.
            rgb = np.array(bitmap.to_numpy()[..., :3], dtype=np.uint8)
        except pdfium.PdfiumError:
            raise SealRejected("PDF 无法渲染，文件可能已损坏") from None
        finally:
            pdf.close()
    return _Scan(rgb, round(dpi, 1), False, round(min(source_dpi, dpi), 1))


def _embedded_scan_dpi(page: pdfium.PdfPage) -> float | None:
    """The resolution of the largest image on the page — the scan a scanner wraps in its PDF — or None
    for a page without images (drawn vectors are sharp at any render resolution)."""
    best_area = 0.0
    best_dpi: float | None = None
    for px_size, (a, b, c, d) in _page_images(page, None, pdfium.PdfMatrix(), 0):
        # An image is drawn into the unit square mapped by its matrix: the column lengths are its
        # displayed width and height in points, whatever rotation it has.
        shown_w = math.hypot(a, b) / 72
        shown_h = math.hypot(c, d) / 72
        if shown_w <= 0 or shown_h <= 0:
            continue
        area = shown_w * shown_h
        if area > best_area:
            best_area = area
            best_dpi = min(px_size[0] / shown_w, px_size[1] / shown_h)
    # Images smaller than a seal (a logo, a QR code) say nothing about the imprint's resolution.
    if best_dpi is None or best_area < (MIN_SEAL_MM / 25.4) ** 2:
        return None
    return best_dpi


def _page_images(
    page: pdfium.PdfPage, form: pdfium.PdfObject | None, outer: pdfium.PdfMatrix, depth: int
) -> Iterator[tuple[tuple[int, int], tuple[float, float, float, float]]]:
    # Walked by hand rather than with get_objects' own recursion, because a nested object's matrix is
    # relative to its form and has to be composed with the form's to give page units.
    for obj in page.get_objects(form=form, max_depth=1, level=depth):
        if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            matrix = obj.get_matrix().multiply(outer)
            yield obj.get_px_size(), (matrix.a, matrix.b, matrix.c, matrix.d)
        elif obj.type == pdfium_c.FPDF_PAGEOBJ_FORM and depth < 4:
            yield from _page_images(page, obj, obj.get_matrix().multiply(outer), depth + 1)


def _ink_strength(rgb: _ByteArray) -> _ByteArray:
    red = rgb[..., 0]
    other = np.maximum(rgb[..., 1], rgb[..., 2])
    # red − min(red, other) is max(red − other, 0) without leaving uint8: no wrap-around, and one byte a
    # pixel even for a full A4 scan.
    return red - np.minimum(red, other)


def _locate_imprint(ink: _BoolArray, px_per_mm: float) -> _Imprint:
    """The seal among the red marks on the page. Real scans carry stray red (a tick, a speck of dust, a red
    form heading) that a plain bounding box of all red pixels would swallow, so ink is grouped into
    ~1 mm blocks, nearby blocks joined into marks, and the biggest mark taken as the seal."""
    height, width = ink.shape
    block = max(4, round(px_per_mm))
    # Rows are summed through a reshape (a view, no copy): reduceat down the columns of a full-page scan
    # is ten times slower.
    whole = height // block * block
    row_sums = ink[:whole].reshape(height // block, block, width).sum(axis=1, dtype=np.int32)
    if whole < height:
        row_sums = np.vstack([row_sums, ink[whole:].sum(axis=0, dtype=np.int32)])
    counts = np.add.reduceat(row_sums, np.arange(0, width, block), axis=1)
    # A few pixels per block already: the ring's extreme points graze the last block row or column.
    inky = counts >= max(3, block * block // 200)
    if not inky.any():
        raise SealRejected("未检测到红色印章")
    reach = max(1, round(BRIDGE_MM / 2 * px_per_mm / block))
    labels, count = _label(_dilate(inky, reach))
    labels = np.where(inky, labels, 0)
    ink_per_mark = np.bincount(labels.ravel(), weights=counts.ravel(), minlength=count + 1)
    ink_per_mark[0] = 0

    rows, cols = np.nonzero(inky)
    marks = labels[rows, cols]
    top = np.full(count + 1, np.iinfo(np.int32).max)
    left = top.copy()
    bottom = np.full(count + 1, -1)
    right = bottom.copy()
    np.minimum.at(top, marks, rows)
    np.minimum.at(left, marks, cols)
    np.maximum.at(bottom, marks, rows)
    np.maximum.at(right, marks, cols)

    main = int(np.argmax(ink_per_mark))
    # The star and the inner text sit further than BRIDGE_MM from the frame; whatever lies within the
    # frame's extent is part of the seal.
    inside = (top >= top[main]) & (bottom <= bottom[main]) & (left >= left[main]) & (right <= right[main])
    inside[0] = False
    others = np.where(inside, 0.0, ink_per_mark)
    ink_px = int(ink_per_mark[inside].sum())
    px_per_mm2 = px_per_mm * px_per_mm
    if ink_px / px_per_mm2 < MIN_INK_MM2:
        raise SealRejected("未检测到红色印章")
    second = float(others.max())
    if second >= SECOND_IMPRINT_SHARE * ink_px and second / px_per_mm2 >= MIN_INK_MM2:
        raise SealRejected("检测到多处红色印迹：每份扫描件只能有一枚印章，请在空白纸上单独盖章后扫描")

    blocks = inky & inside[labels]
    y0, y1 = int(top[main]) * block, min(height, (int(bottom[main]) + 1) * block)
    x0, x1 = int(left[main]) * block, min(width, (int(right[main]) + 1) * block)
    seal = ink[y0:y1, x0:x1] & _expand(blocks, block, y0, y1, x0, x1)
    seal_rows = np.flatnonzero(seal.any(axis=1))
    seal_cols = np.flatnonzero(seal.any(axis=0))
    return _Imprint(
        top=y0 + int(seal_rows[0]),
        left=x0 + int(seal_cols[0]),
        bottom=y0 + int(seal_rows[-1]) + 1,
        right=x0 + int(seal_cols[-1]) + 1,
        blocks=blocks,
        block=block,
    )


def _dilate(grid: _BoolArray, reach: int) -> _BoolArray:
    padded = np.pad(grid, reach)
    height, width = grid.shape
    rows = np.zeros((height + 2 * reach, width), dtype=bool)
    for dx in range(2 * reach + 1):
        rows |= padded[:, dx : dx + width]
    out = np.zeros_like(grid)
    for dy in range(2 * reach + 1):
        out |= rows[dy : dy + height]
    return out


def _label(grid: _BoolArray) -> tuple[NDArray[np.int32], int]:
    """8-connected components. A plain flood fill suffices: the grid has one cell per millimetre, so even
    an all-red A4 page is only 62 000 cells."""
    height, width = grid.shape
    free = grid.ravel().tolist()
    labels = [0] * (height * width)
    count = 0
    for start in np.flatnonzero(grid).tolist():
        if not free[start]:
            continue
        count += 1
        free[start] = False
        stack = [start]
        while stack:
            cell = stack.pop()
            labels[cell] = count
            y, x = divmod(cell, width)
            for yy in (y - 1, y, y + 1):
                if 0 <= yy < height:
                    for xx in (x - 1, x, x + 1):
                        if 0 <= xx < width:
                            neighbour = yy * width + xx
                            if free[neighbour]:
                                free[neighbour] = False
                                stack.append(neighbour)
    return np.array(labels, dtype=np.int32).reshape(height, width), count


def _expand(blocks: _BoolArray, block: int, y0: int, y1: int, x0: int, x1: int) -> _BoolArray:
    """The block grid as a pixel mask over the window [y0:y1, x0:x1]."""
    by0, bx0 = y0 // block, x0 // block
    by1, bx1 = (y1 - 1) // block + 1, (x1 - 1) // block + 1
    pixels = np.repeat(np.repeat(blocks[by0:by1, bx0:bx1], block, axis=0), block, axis=1)
    return pixels[y0 - by0 * block : y1 - by0 * block, x0 - bx0 * block : x1 - bx0 * block]


def _check_imprint(scan: _Scan, strength: _ByteArray, ink: _BoolArray, imprint: _Imprint) -> None:
    height, width = ink.shape
    px_per_mm = scan.dpi / 25.4
    top, left, bottom, right = imprint.top, imprint.left, imprint.bottom, imprint.right
    seal = ink[top:bottom, left:right] & _expand(imprint.blocks, imprint.block, top, bottom, left, right)

    # 无缺边: the imprint may not run off the scan. A couple of pixels of edge is enough to tell, and a
    # run of ink along it (not a speck) is what a cut ring or frame leaves.
    min_run = max(3, round(MIN_EDGE_RUN_MM * px_per_mm))
    edges = (
        seal[: max(0, EDGE_PX - top)],
        seal[max(0, height - EDGE_PX - top) :],
        seal[:, : max(0, EDGE_PX - left)],
        seal[:, max(0, width - EDGE_PX - left) :],
    )
    if any(int(edge.sum()) >= min_run for edge in edges):
        raise SealRejected("印章不完整（有缺边）：印章触及扫描件边缘，请在印章四周留出空白后重新扫描")

    box_w, box_h = right - left, bottom - top
    aspect = box_w / box_h
    if not MIN_ASPECT <= aspect <= MAX_ASPECT:
        raise SealRejected(f"印模应为圆形或方形（检测到宽高比 {aspect:.2f}），请端正盖章并完整扫描")

    # With a recorded resolution the physical size is known and is the clearer reason; with a guessed one
    # a tiny imprint most likely means a coarse scan, so the pixel count speaks first.
    if scan.dpi_assumed:
        _check_pixels(scan, box_w, box_h)
        _check_size(scan, box_w, box_h)
    else:
        _check_size(scan, box_w, box_h)
        _check_pixels(scan, box_w, box_h)

    # 不重叠: black print inside the imprint means the stamp landed on text or a table rule; the cut-out
    # would have holes where the print was.
    window = scan.rgb[top:bottom, left:right]
    ys = (np.arange(box_h) + 0.5 - box_h / 2) / (box_h / 2)
    xs = (np.arange(box_w) + 0.5 - box_w / 2) / (box_w / 2)
    outline = ys[:, None] ** 2 + xs[None, :] ** 2 <= 1.0
    dark = (window.max(axis=2) < DARK_MAX_CHANNEL) & (strength[top:bottom, left:right] < ALPHA_LOW) & outline
    if int(dark.sum()) > MAX_OVERLAP_SHARE * int(outline.sum()):
        raise SealRejected("印章与文字或线条重叠，请在空白处重新盖章后扫描")


def _check_pixels(scan: _Scan, box_w: int, box_h: int) -> None:
    # Counted in the pixels actually captured: an upscaled PDF render has more pixels than detail.
    captured_px = max(box_w, box_h) * min(1.0, scan.source_dpi / scan.dpi)
    if captured_px < MIN_IMPRINT_PX:
        raise SealRejected(
            f"分辨率过低：印章只有约 {captured_px:.0f} 像素宽（42 mm 的印章按 600 dpi 扫描约 1000 像素），"
            "请按 600 dpi 重新扫描"
        )


def _check_size(scan: _Scan, box_w: int, box_h: int) -> None:
    px_per_mm = scan.dpi / 25.4
    width_mm, height_mm = box_w / px_per_mm, box_h / px_per_mm
    if min(width_mm, height_mm) < MIN_SEAL_MM or max(width_mm, height_mm) > MAX_SEAL_MM:
        basis = (
            f"文件未标注分辨率，按 {scan.dpi:.0f} dpi 计算"
            if scan.dpi_assumed
            else f"按 {scan.dpi:.0f} dpi 计算"
        )
        raise SealRejected(
            f"印章尺寸约 {width_mm:.0f}×{height_mm:.0f} mm（{basis}），不在 "
            f"{MIN_SEAL_MM:.0f}–{MAX_SEAL_MM:.0f} mm 的合理范围内；请按原大（1:1）以 600 dpi 扫描"
        )


def _stamp(
    data: bytes, scan: _Scan, strength: _ByteArray, ink: _BoolArray, imprint: _Imprint
) -> CapturedSeal:
    height, width = ink.shape
    top, left, bottom, right = imprint.top, imprint.left, imprint.bottom, imprint.right
    margin = max(2, round(MARGIN_SHARE * max(right - left, bottom - top)))
    # The margin may reach past the scan's edge; that part is padded as transparent paper below.
    y0, y1 = max(0, top - margin), min(height, bottom + margin)
    x0, x1 = max(0, left - margin), min(width, right + margin)

    # Only ink belonging to the seal (its blocks, widened by one block for the soft outer edge) shows;
    # faint specks and stray marks inside the crop stay paper.
    near_seal = _expand(_dilate(imprint.blocks, 1), imprint.block, y0, y1, x0, x1)
    level = strength[y0:y1, x0:x1].astype(np.int32)
    span = ALPHA_HIGH - ALPHA_LOW
    alpha = (np.clip(level - ALPHA_LOW, 0, span) * 255 + span // 2) // span
    alpha = np.where(near_seal, alpha, 0).astype(np.uint8)
    pad = ((y0 - (top - margin), (bottom + margin) - y1), (x0 - (left - margin), (right + margin) - x1))
    alpha = np.pad(alpha, pad)
    ink_ratio = float(np.count_nonzero(np.pad(ink[y0:y1, x0:x1] & near_seal, pad))) / alpha.size

    # One uniform red, also under fully transparent pixels, so scaling the stamp never blends in a
    # dark fringe and it looks the same on any background.
    rgba = np.empty((*alpha.shape, 4), dtype=np.uint8)
    rgba[..., :3] = SEAL_RED
    rgba[..., 3] = alpha
    out = io.BytesIO()
    # Pillow writes no timestamp; a fixed compression level keeps the bytes a function of the input.
    Image.fromarray(rgba).save(out, format="PNG", compress_level=PNG_COMPRESS_LEVEL, dpi=(scan.dpi, scan.dpi))
    px_per_mm = scan.dpi / 25.4
    return CapturedSeal(
        png=out.getvalue(),
        width_px=int(alpha.shape[1]),
        height_px=int(alpha.shape[0]),
        dpi=scan.dpi,
        width_mm=round((right - left) / px_per_mm, 2),
        height_mm=round((bottom - top) / px_per_mm, 2),
        ink_ratio=round(ink_ratio, 4),
        source_sha256=hashlib.sha256(data).hexdigest(),
        dpi_assumed=scan.dpi_assumed,
    )
