"""The certificate font: WenQuanYi Micro Hei (Apache-2.0; its OS/2 fsType allows embedding), shipped in
``seals/fonts/`` so that a fresh machine renders the same bytes.

Certificates embed a subset of it as a Type 3 font whose glyph procedures are the font's own outlines, with a
ToUnicode map so that text stays searchable and copyable. Each glyph's procedure is computed once per process
and reused, so embedding a subset costs string joins rather than a TrueType subsetting pass per document —
that is where most of a naive renderer's time goes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont

FONT_PATH = Path(__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"
UNITS = 1000  # glyph space of the Type 3 font: 1000 units per em, as FontMatrix [0.001 0 0 0.001 0 0]
MAX_CODES = 255  # one-byte codes 1..255 per Type 3 font


class _PathPen(BasePen):
    """Writes outlines as PDF path operators in 1000-unit glyph space (quadratics become exact cubics)."""

    def __init__(self, glyph_set: object, scale: float) -> None:
        super().__init__(glyph_set)
        self.scale = scale
        self.parts: list[str] = []

    def _point(self, point: tuple[float, float]) -> str:
        return f"{round(point[0] * self.scale)} {round(point[1] * self.scale)}"

    def _moveTo(self, pt: tuple[float, float]) -> None:
        self.parts.append(f"{self._point(pt)} m")

    def _lineTo(self, pt: tuple[float, float]) -> None:
        self.parts.append(f"{self._point(pt)} l")

    def _curveToOne(
        self, pt1: tuple[float, float], pt2: tuple[float, float], pt3: tuple[float, float]
    ) -> None:
        self.parts.append(f"{self._point(pt1)} {self._point(pt2)} {self._point(pt3)} c")

    def _closePath(self) -> None:
        self.parts.append("h")


@dataclass(frozen=True)
class Glyph:
    char: str
    advance: int  # in 1000-unit glyph space
    procedure: bytes  # the Type 3 CharProc content stream


class FontProgram:
    """The loaded font with a per-character cache of Type 3 glyph procedures (thread-safe)."""

    def __init__(self, path: Path = FONT_PATH) -> None:
        self._font = TTFont(str(path), fontNumber=0, lazy=True)
        self._cmap = self._font.getBestCmap()
        self._glyph_set = self._font.getGlyphSet()
        self._scale = UNITS / self._font["head"].unitsPerEm
        self._metrics = self._font["hmtx"].metrics
        self._glyphs: dict[str, Glyph] = {}
        self._lock = threading.Lock()
        self.ascent = round(self._font["hhea"].ascent * self._scale)
        self.descent = round(self._font["hhea"].descent * self._scale)

    def glyph(self, char: str) -> Glyph:
        cached = self._glyphs.get(char)
        if cached is not None:
            return cached
        with self._lock:
            glyph = self._glyphs.get(char) or self._outline(char)
            self._glyphs[char] = glyph
            return glyph

    def _outline(self, char: str) -> Glyph:
        name = self._cmap.get(ord(char)) or self._cmap.get(ord("□")) or ".notdef"
        advance = round(self._metrics[name][0] * self._scale)
        pen = _PathPen(self._glyph_set, self._scale)
        self._glyph_set[name].draw(pen)
        body = " ".join(pen.parts)
        # d0: the glyph's colour comes from the page, so the certificate's text colour applies.
        procedure = f"{advance} 0 d0\n{body} f" if body else f"{advance} 0 d0"
        return Glyph(char, advance, procedure.encode("ascii"))

    def width(self, text: str, size: float) -> float:
        return sum(self.glyph(char).advance for char in text) * size / UNITS


@cache
def font_program() -> FontProgram:
    return FontProgram()
