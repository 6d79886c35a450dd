"""Certificate PDFs: the template's own bytes, then one incremental update that stamps the fields, the seal,
the photo and a vector QR code onto its page.

Why an incremental update: the template (a background PDF normalised by pypdf when it is uploaded, plus its
layout) is the same for thousands of certificates, so its bytes are written once and never re-parsed or
re-serialised per certificate. Each certificate appends only its own objects — a content stream, a Type 3
font subset (see ``glyphs``), the seal and photo images, a replacement page and an info dictionary — and a
cross-reference section pointing back to the template's. Every input is explicit (data, template version,
seal version), nothing reads the clock or a random source, so the same inputs give the same bytes and a
certificate can be re-rendered rather than stored. Signing (PAdES) is a later incremental update on top.
"""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from seals.glyphs import MAX_CODES, UNITS, FontProgram, font_program
from seals.layout import MM, FieldBox, Layout
from seals.qr import make_symbol

TEXT_COLOUR = "0.12 0.12 0.14 rg"
QR_COLOUR = "0 0 0 rg"
COMPRESSION = 6  # zlib level: fixed, so the bytes are reproducible


class RenderError(ValueError):
    pass


@dataclass(frozen=True)
class CertificateContent:
    """What one certificate shows. ``fields`` maps layout keys (seals.layout.FIELD_LABELS) to text."""

    fields: dict[str, str]
    qr_text: str
    issue_date: date
    title: str
    identifier: str = ""
    photo_jpeg: bytes | None = None
    extra_info: dict[str, str] = field(default_factory=dict)


# --- the template, prepared once per version -------------------------------------------------------------


@dataclass(frozen=True)
class PreparedTemplate:
    base: bytes
    page_number: int  # object number of the page to replace
    page_entries: str  # the page dictionary's entries except /Contents and /Resources, serialised
    contents: str  # the original /Contents value, serialised ("12 0 R" or "[12 0 R 13 0 R]")
    resource_entries: dict[str, str]  # resource category → its serialised dictionary body, without << >>
    other_resources: str  # resource entries other than /Font and /XObject, serialised
    root: str
    previous_xref: int
    next_number: int  # the first free object number
    first_id: str


def _serialise(obj: object) -> str:
    buffer = io.BytesIO()
    obj.write_to_stream(buffer)  # type: ignore[attr-defined]
    return buffer.getvalue().decode("latin-1")


def normalise_template(pdf: bytes) -> bytes:
    """What an uploaded background becomes: its first page only, rewritten by pypdf with a classic
    cross-reference table (which an incremental update can extend) and a fixed /ID."""
    reader = PdfReader(io.BytesIO(pdf))
    if len(reader.pages) < 1:
        raise RenderError("模板 PDF 没有页面")
    writer = PdfWriter()
    writer.add_page(reader.pages[0])
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    digest = hashlib.md5(pdf, usedforsecurity=False).hexdigest()
    writer._ID = ArrayObject([_hex_string(digest), _hex_string(digest)])
    writer.add_metadata({"/Producer": "zhicheng"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _hex_string(hex_digits: str) -> object:
    from pypdf.generic import ByteStringObject

    return ByteStringObject(bytes.fromhex(hex_digits))


@lru_cache(maxsize=32)
def prepare_template(base: bytes) -> PreparedTemplate:
    reader = PdfReader(io.BytesIO(base))
    page_ref = reader.trailer["/Root"]["/Pages"]["/Kids"][0]
    if not isinstance(page_ref, IndirectObject):
        raise RenderError("模板页面不是间接对象")
    page = page_ref.get_object()
    assert isinstance(page, DictionaryObject)
    entries = " ".join(
        f"{_serialise(NameObject(key))} {_serialise(value)}"
        for key, value in page.items()
        if key not in ("/Contents", "/Resources")
    )
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else DictionaryObject()
    categories: dict[str, str] = {}
    others = []
    for key, value in resources.items():
        if key in ("/Font", "/XObject"):
            body = _serialise(value.get_object())
            categories[key] = body.strip()[2:-2]
        else:
            others.append(f"{_serialise(NameObject(key))} {_serialise(value)}")
    contents = page.get("/Contents")
    match = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", base)
    if match is None:
        raise RenderError("模板 PDF 的交叉引用表不完整")
    identifier = reader.trailer.get("/ID")
    if identifier:
        first = identifier[0]
        first_id = (first.original_bytes if hasattr(first, "original_bytes") else bytes(first)).hex()
    else:
        first_id = hashlib.md5(base, usedforsecurity=False).hexdigest()
    return PreparedTemplate(
        base=base,
        page_number=page_ref.idnum,
        page_entries=entries,
        contents=_serialise(contents) if contents is not None else "[]",
        resource_entries=categories,
        other_resources=" ".join(others),
        root=_serialise(reader.trailer.raw_get("/Root")),
        previous_xref=int(match.group(1)),
        next_number=int(reader.trailer["/Size"]),
        first_id=first_id,
    )


# --- images, prepared once per seal version and per photo ----------------------------------------------


@dataclass(frozen=True)
class ImageObjects:
    """An image XObject (and its soft mask) as object bodies with placeholders for their numbers."""

    image: bytes  # uses b"%SMASK%" where the soft mask's reference goes
    soft_mask: bytes | None
    width: int
    height: int


def _stream(dictionary: str, data: bytes) -> bytes:
    return f"<< {dictionary} /Length {len(data)} >>\nstream\n".encode("latin-1") + data + b"\nendstream"


@lru_cache(maxsize=64)
def seal_image(png: bytes) -> ImageObjects:
    """A transparent PNG stamp as an RGB image with a grey soft mask (PDF's transparency)."""
    with Image.open(io.BytesIO(png)) as source:
        stamp = source.convert("RGBA")
    rgb = zlib.compress(stamp.convert("RGB").tobytes(), COMPRESSION)
    alpha = zlib.compress(stamp.getchannel("A").tobytes(), COMPRESSION)
    size = f"/Width {stamp.width} /Height {stamp.height} /BitsPerComponent 8"
    return ImageObjects(
        image=_stream(
            f"/Type /XObject /Subtype /Image {size} /ColorSpace /DeviceRGB /Filter /FlateDecode "
            f"/SMask %SMASK%",
            rgb,
        ),
        soft_mask=_stream(
            f"/Type /XObject /Subtype /Image {size} /ColorSpace /DeviceGray /Filter /FlateDecode", alpha
        ),
        width=stamp.width,
        height=stamp.height,
    )


@lru_cache(maxsize=256)
def photo_image(jpeg: bytes) -> ImageObjects:
    """A JPEG photo passed through as it is (DCTDecode): no re-encoding, no quality loss."""
    with Image.open(io.BytesIO(jpeg)) as photo:
        if photo.format != "JPEG":
            raise RenderError("照片应为 JPEG")
        width, height, mode = photo.width, photo.height, photo.mode
    colour = {"L": "/DeviceGray", "RGB": "/DeviceRGB", "CMYK": "/DeviceCMYK"}.get(mode)
    if colour is None:
        raise RenderError("照片的颜色模式不受支持")
    decode = " /Decode [1 0 1 0 1 0 1 0]" if mode == "CMYK" else ""
    return ImageObjects(
        image=_stream(
            f"/Type /XObject /Subtype /Image /Width {width} /Height {height} /BitsPerComponent 8 "
            f"/ColorSpace {colour}{decode} /Filter /DCTDecode",
            jpeg,
        ),
        soft_mask=None,
        width=width,
        height=height,
    )


# --- text ----------------------------------------------------------------------------------------------


MIN_SIZE = 6.0
LINE_SPACING = 1.15  # baseline to baseline, in font sizes


def _lines(font: FontProgram, text: str, width: float, size: float) -> list[str]:
    """The text broken greedily, character by character (URLs and Chinese have no spaces), into lines no
    wider than ``width`` at ``size``."""
    lines = [""]
    for char in text:
        if lines[-1] and font.width(lines[-1] + char, size) > width:
            lines.append("")
        lines[-1] += char
    return lines


def _fit(font: FontProgram, text: str, box: FieldBox) -> tuple[float, list[str]]:
    """The field's size and lines: one line, shrunk until it fits its box (long unit names must not
    overflow); a text too long even at the smallest size (a certificate's own 证书网址) wraps onto as many
    lines as the box's height holds, at the largest size that fits."""
    width, height = box.w * MM, box.h * MM
    sizes = [box.size - step * 0.5 for step in range(int((box.size - MIN_SIZE) / 0.5) + 1)]
    for size in sizes:
        if font.width(text, size) <= width:
            return size, [text]
    for size in sizes:
        lines = _lines(font, text, width, size)
        if len(lines) * size * LINE_SPACING <= height:
            return size, lines
    return MIN_SIZE, _lines(font, text, width, MIN_SIZE)


class _TextSubsets:
    """Assigns one-byte codes to the characters used, in first-use order, 255 per Type 3 font."""

    def __init__(self) -> None:
        self.fonts: list[list[str]] = []
        self.codes: dict[str, tuple[int, int]] = {}

    def encode(self, text: str) -> list[tuple[int, bytes]]:
        """The text as runs of (font index, codes)."""
        runs: list[tuple[int, bytearray]] = []
        for char in text:
            if char not in self.codes:
                if not self.fonts or len(self.fonts[-1]) == MAX_CODES:
                    self.fonts.append([])
                self.fonts[-1].append(char)
                self.codes[char] = (len(self.fonts) - 1, len(self.fonts[-1]))
            index, code = self.codes[char]
            if runs and runs[-1][0] == index:
                runs[-1][1].append(code)
            else:
                runs.append((index, bytearray([code])))
        return [(index, bytes(codes)) for index, codes in runs]


def _text_run(
    font: FontProgram, subsets: _TextSubsets, text: str, x: float, baseline: float, size: float, prefix: str
) -> str:
    runs = "".join(
        f"/{prefix}{index} {size:g} Tf <{codes.hex()}> Tj " for index, codes in subsets.encode(text)
    )
    return f"BT {x:.2f} {baseline:.2f} Td {runs}ET"


def _text_operations(font: FontProgram, subsets: _TextSubsets, layout: Layout, fields: dict[str, str]) -> str:
    lines = [TEXT_COLOUR]
    for box in layout.fields:
        text = (fields.get(box.key) or "").strip()
        if not text:
            continue
        size, rows = _fit(font, text, box)
        left, y, w, h = box.points(layout.height)
        middle = y + (h - size * (font.ascent + font.descent) / UNITS) / 2 + size * -font.descent / UNITS
        leading = size * LINE_SPACING
        for number, row in enumerate(rows):
            x = left
            width = font.width(row, size)
            if box.align == "center":
                x += (w - width) / 2
            elif box.align == "right":
                x += w - width
            baseline = middle + (len(rows) - 1) * leading / 2 - number * leading
            lines.append(_text_run(font, subsets, row, x, baseline, size, "T"))
    return "\n".join(lines)


def _type3_font(font: FontProgram, characters: list[str], first_number: int) -> list[bytes]:
    """Object bodies: the font dictionary, its ToUnicode map, then one CharProc per character."""
    glyphs = [font.glyph(char) for char in characters]
    procedure_numbers = range(first_number + 2, first_number + 2 + len(glyphs))
    char_procs = " ".join(f"/g{code} {number} 0 R" for code, number in enumerate(procedure_numbers, start=1))
    differences = " ".join(f"/g{code}" for code in range(1, len(glyphs) + 1))
    widths = " ".join(str(glyph.advance) for glyph in glyphs)
    dictionary = (
        f"<< /Type /Font /Subtype /Type3 /FontBBox [0 {font.descent} {UNITS} {font.ascent}] "
        f"/FontMatrix [0.001 0 0 0.001 0 0] /CharProcs << {char_procs} >> "
        f"/Encoding << /Type /Encoding /Differences [1 {differences}] >> "
        f"/FirstChar 1 /LastChar {len(glyphs)} /Widths [{widths}] /Resources << >> "
        f"/ToUnicode {first_number + 1} 0 R >>"
    ).encode("ascii")
    mappings = "\n".join(
        f"<{code:02x}> <{char.encode('utf-16-be').hex()}>" for code, char in enumerate(characters, start=1)
    )
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) "
        "/Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def "
        f"1 begincodespacerange <01> <ff> endcodespacerange {len(characters)} beginbfchar\n{mappings}\n"
        "endbfchar endcmap CMapName currentdict /CMap defineresource pop end end"
    ).encode("ascii")
    return [dictionary, _stream("/Filter /FlateDecode", zlib.compress(cmap, COMPRESSION))] + [
        _stream("", glyph.procedure) for glyph in glyphs
    ]


# --- QR code -------------------------------------------------------------------------------------------


def qr_operations(text: str, box_points: tuple[float, float, float, float]) -> str:
    """A vector QR code (model 2, error correction M, see ``seals.qr``) with its 4-module quiet zone,
    filling the square of the box's shorter side. Drawn in module units under one transformation, each dark
    run of a row one rectangle, so the content stays small and quick to write."""
    modules = make_symbol(text).modules
    size = modules.shape[0]
    x0, y0, w, h = box_points
    side = min(w, h)
    unit = side / (size + 8)
    padded = np.zeros((size, size + 2), dtype=np.int8)
    padded[:, 1:-1] = modules
    rows, columns = np.nonzero(np.diff(padded, axis=1))
    starts, ends, run_rows = columns[::2], columns[1::2], rows[::2]
    # Module space: x to the right, y up from the bottom row of the symbol.
    rectangles = " re\n".join(
        f"{start} {size - 1 - row} {end - start} 1"
        for start, end, row in zip(starts.tolist(), ends.tolist(), run_rows.tolist(), strict=True)
    )
    # The quiet zone is painted white so that a coloured background cannot eat into it.
    return (
        f"1 1 1 rg {x0:.3f} {y0 + h - side:.3f} {side:.3f} {side:.3f} re f\n"
        f"q {unit:.5f} 0 0 {unit:.5f} {x0 + 4 * unit:.3f} {y0 + h - side + 4 * unit:.3f} cm {QR_COLOUR}\n"
        f"{rectangles} re\nf Q"
    )


# --- putting it together --------------------------------------------------------------------------------


def _pdf_string(text: str) -> str:
    return f"<feff{text.encode('utf-16-be').hex()}>"


def _pdf_date(day: date) -> str:
    return f"(D:{day:%Y%m%d}000000+08'00')"


def _placed(box_points: tuple[float, float, float, float], name: str, aspect: float) -> str:
    """The image centred in its box at its own aspect ratio."""
    x, y, w, h = box_points
    if w / h > aspect:
        width, height = h * aspect, h
    else:
        width, height = w, w / aspect
    return (
        f"q {width:.3f} 0 0 {height:.3f} {x + (w - width) / 2:.3f} {y + (h - height) / 2:.3f} cm /{name} Do Q"
    )


class _Update:
    """One incremental update onto a prepared PDF: new objects, new text, new images, a replaced page."""

    def __init__(self, base: bytes, font_prefix: str) -> None:
        self.template = prepare_template(base)
        self.font = font_program()
        self.subsets = _TextSubsets()
        self.font_prefix = font_prefix
        self.objects: list[bytes] = []
        self.number = self.template.next_number
        self.xobjects: list[str] = []

    def add(self, body: bytes) -> int:
        self.objects.append(body)
        self.number += 1
        return self.number - 1

    def image(self, name: str, image: ImageObjects) -> None:
        mask = self.add(image.soft_mask) if image.soft_mask is not None else None
        body = image.image.replace(b"%SMASK%", f"{mask} 0 R".encode()) if mask else image.image
        self.xobjects.append(f"/{name} {self.add(body)} 0 R")

    def finish(self, operations: list[str], info_entries: dict[str, str], day: date) -> bytes:
        template = self.template
        fonts: list[str] = []
        for index, characters in enumerate(self.subsets.fonts):
            first = self.number
            for body in _type3_font(self.font, characters, first):
                self.add(body)
            fonts.append(f"/{self.font_prefix}{index} {first} 0 R")
        overlay = zlib.compress(("q\n" + "\n".join(operations) + "\nQ").encode("ascii"), COMPRESSION)
        overlay_number = self.add(_stream("/Filter /FlateDecode", overlay))
        resources = " ".join(
            [
                template.other_resources,
                f"/Font << {template.resource_entries.get('/Font', '')} {' '.join(fonts)} >>",
                f"/XObject << {template.resource_entries.get('/XObject', '')} {' '.join(self.xobjects)} >>",
            ]
        )
        # The earlier content runs inside q…Q so that whatever graphics state it leaves cannot skew ours.
        guard_open = self.add(_stream("", b"q"))
        guard_close = self.add(_stream("", b"Q"))
        original = template.contents.strip()
        original_list = original[1:-1] if original.startswith("[") else original
        page_body = (
            f"<< {template.page_entries} /Contents [{guard_open} 0 R {original_list} {guard_close} 0 R "
            f"{overlay_number} 0 R] /Resources << {resources} >> >>"
        ).encode("latin-1")
        info = "<< " + " ".join(f"{key} {_pdf_string(value)}" for key, value in info_entries.items() if value)
        info += f" /CreationDate {_pdf_date(day)} /ModDate {_pdf_date(day)} >>"
        info_number = self.add(info.encode("latin-1"))
        return _append_update(template, self.objects, {template.page_number: page_body}, info_number)


def render_certificate(
    template_base: bytes, layout: Layout, seal_png: bytes, content: CertificateContent
) -> bytes:
    update = _Update(template_base, "T")
    operations = [_text_operations(update.font, update.subsets, layout, content.fields)]
    seal = seal_image(seal_png)
    update.image("ZcSeal", seal)
    if content.photo_jpeg and layout.photo is not None:
        photo = photo_image(content.photo_jpeg)
        update.image("ZcPhoto", photo)
        operations.insert(
            0, _placed(layout.photo.points(layout.height), "ZcPhoto", photo.width / photo.height)
        )
    operations.append(qr_operations(content.qr_text, layout.qr.points(layout.height)))
    # The seal goes last: an authority's seal is stamped over the text, as on paper.
    operations.append(_placed(layout.seal.points(layout.height), "ZcSeal", seal.width / seal.height))
    info = {
        "/Title": content.title,
        "/Producer": "zhicheng",
        "/Subject": content.identifier,
        **{f"/{key}": value for key, value in sorted(content.extra_info.items())},
    }
    return update.finish(operations, info, content.issue_date)


ANNOTATION_COLOUR = "0.70 0.10 0.10 rg"


def stamp_annotation(
    pdf: bytes, lines: list[str], qr_text: str, day: date, *, width_mm: float = 297
) -> bytes:
    """An annotated copy (加注件): the certificate with a band of text across its foot and a small QR code
    of its own, as one more incremental update (so an earlier signature still covers the bytes it signed)."""
    update = _Update(pdf, "A")
    size = 9.0
    operations = [
        f"1 1 1 rg {14 * MM:.2f} {12 * MM:.2f} {(width_mm - 28) * MM:.2f} {15 * MM:.2f} re f",
        ANNOTATION_COLOUR,
    ]
    for index, line in enumerate(lines):
        operations.append(
            _text_run(update.font, update.subsets, line, 16 * MM, (23 - index * 4.2) * MM, size, "A")
        )
    operations.append(qr_operations(qr_text, ((width_mm - 60) * MM, 3 * MM, 31 * MM, 31 * MM)))
    return update.finish(operations, {"/Producer": "zhicheng", "/Subject": "加注件"}, day)


def _append_update(
    template: PreparedTemplate, objects: list[bytes], replaced: dict[int, bytes], info_number: int
) -> bytes:
    out = bytearray(template.base)
    if not out.endswith(b"\n"):
        out += b"\n"
    offsets: dict[int, int] = {}
    for number, body in [*replaced.items(), *enumerate(objects, start=template.next_number)]:
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_offset = len(out)
    lines = ["xref", "0 1", "0000000000 65535 f "]
    for number in sorted(offsets):
        lines += [f"{number} 1", f"{offsets[number]:010d} 00000 n "]
    size = template.next_number + len(objects)
    # The second /ID changes with the content (the first identifies the template), without any randomness.
    second_id = hashlib.md5(bytes(out), usedforsecurity=False).hexdigest()
    lines += [
        "trailer",
        f"<< /Size {size} /Root {template.root} /Info {info_number} 0 R /Prev {template.previous_xref} "
        f"/ID [<{template.first_id}> <{second_id}>] >>",
        "startxref",
        str(xref_offset),
        "%%EOF",
        "",
    ]
    out += "\n".join(lines).encode("ascii")
    return bytes(out)
