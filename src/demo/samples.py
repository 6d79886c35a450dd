"""Sample files and ID numbers a demo case needs, made the way a phone or a scanner would make them: an
ID-style colour portrait (Pillow), a blank PDF page (pypdf), GB 11643 ID numbers with their check character.
The tests build their cases from the same pieces."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw
from pypdf import PdfWriter

from accounts.identity import check_character


def photo(width_mm: float = 25, height_mm: float = 35, *, fmt: str = "JPEG", scale: int = 10) -> bytes:
    """A colour portrait on a plain light-blue background, ``scale`` pixels per millimetre."""
    width, height = round(width_mm * scale), round(height_mm * scale)
    image = Image.new("RGB", (width, height), (90, 150, 220))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.3, height * 0.2, width * 0.7, height * 0.6), fill=(230, 190, 160))
    draw.rectangle((width * 0.2, height * 0.65, width * 0.8, height), fill=(40, 40, 60))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, quality=90)
    return buffer.getvalue()


def pdf_file(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def id_number(region: str = "622826", birthday: str = "19800101", serial: int = 1) -> str:
    """A GB 11643 ID number with a correct check character (serial odd: male, even: female)."""
    body = f"{region}{birthday}{serial:03d}"
    return body + check_character(body)
