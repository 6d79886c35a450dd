"""People signed in over HTTP for the filing pages, with the Principal the case services take for the same
account, and files of a given size (made by Pillow/pypdf) for the upload limits."""

from __future__ import annotations

import io
import itertools
import re

import numpy as np
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

_serial = itertools.count(1)


def hidden_version(html: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', html)
    assert match, "no version field on the page"
    return match.group(1)


def jpeg_of_size(size: int, width: int = 800, height: int = 600) -> bytes:
    """A colour JPEG of exactly ``size`` bytes: a small picture padded with comment segments (COM, FF FE)
    right after the start marker, which every decoder skips."""
    pixels = np.random.default_rng(7).integers(0, 255, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=60)
    picture = buffer.getvalue()
    missing = size - len(picture)
    assert missing >= 0, f"the picture alone is {len(picture)} bytes"
    assert missing == 0 or missing >= 4, "a comment segment takes at least 4 bytes"
    segments = b""
    while missing > 0:
        total = min(missing, 4 + 65533)  # marker (2) + length (2) + at most 65533 bytes of comment
        if 0 < missing - total < 4:  # leave a whole segment for the remainder
            total = missing - 4
        segments += b"\xff\xfe" + (total - 2).to_bytes(2, "big") + b" " * (total - 4)
        missing -= total
    content = picture[:2] + segments + picture[2:]
    assert len(content) == size, (len(content), size)
    return content


def pdf_of_size(size: int) -> bytes:
    """A one-page PDF of exactly ``size`` bytes, made large by a comment in the page's content stream (an
    embedded file would be refused as active content)."""
    padding = 0
    for _ in range(4):
        writer = PdfWriter()
        page = writer.add_blank_page(595, 842)
        if padding:
            stream = DecodedStreamObject()
            stream.set_data(b"%" + b"0" * max(0, padding - 1))
            page[NameObject("/Contents")] = writer._add_object(stream)
        buffer = io.BytesIO()
        writer.write(buffer)
        content = buffer.getvalue()
        if len(content) == size:
            return content
        padding += size - len(content)
    raise AssertionError(f"could not make a PDF of {size} bytes (last {len(content)})")
