"""The default certificate background each preset ships: drawn by our own code (no copied artwork) with
reportlab, which embeds a TrueType subset of the certificate font. ``invariant`` keeps reportlab from writing
the time or a random id, so the same tenant settings give the same bytes."""

from __future__ import annotations

import io
from functools import cache

from reportlab.lib.colors import HexColor
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from seals.glyphs import FONT_PATH
from seals.layout import MM, Layout
from seals.render import normalise_template

FONT_NAME = "WenQuanYiMicroHei"


@cache
def _register_font() -> str:
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH), subfontIndex=0))
    return FONT_NAME


def default_background(title: str, authority: str, theme_color: str, layout: Layout) -> bytes:
    """A4 landscape: a double border in the tenant's colour, the title, a line naming the authority, and the
    field labels beside their boxes. Returned normalised, ready to be a template version."""
    font = _register_font()
    width, height = layout.width * MM, layout.height * MM
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=1, pageCompression=1)
    canvas.setTitle(title)
    colour = HexColor(theme_color)
    canvas.setStrokeColor(colour)
    canvas.setLineWidth(3)
    canvas.rect(8 * MM, 8 * MM, width - 16 * MM, height - 16 * MM)
    canvas.setLineWidth(0.8)
    canvas.rect(11 * MM, 11 * MM, width - 22 * MM, height - 22 * MM)
    canvas.setFillColor(colour)
    canvas.setFont(font, 26)
    canvas.drawCentredString(width / 2, height - 32 * MM, title)
    canvas.setFont(font, 10)
    canvas.setFillColor(HexColor("#555555"))
    canvas.drawCentredString(width / 2, height - 40 * MM, f"{authority} 监制 · 扫描二维码核验真伪")
    canvas.setFillColor(HexColor("#333333"))
    for box in layout.fields:
        x, y, _, h = box.points(layout.height)
        canvas.setFont(font, 11)
        canvas.drawRightString(x - 2 * MM, y + h / 2 - 4, f"{box.label}：")
    if layout.photo is not None:
        x, y, w, h = layout.photo.points(layout.height)
        canvas.setStrokeColor(HexColor("#bbbbbb"))
        canvas.setDash(2, 2)
        canvas.rect(x, y, w, h)
    canvas.showPage()
    canvas.save()
    return normalise_template(buffer.getvalue())
