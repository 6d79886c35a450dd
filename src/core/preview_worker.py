"""Child process of core.previews: renders an uploaded file's preview under core.sandbox limits and writes
it to stdout as PNG bytes. A file it cannot render makes it exit non-zero (the parent says so).

Input on stdin is one line of JSON options, ``{"kind": "pdf" | "jpeg" | "png", "width": N, "max_pixels":
N}``, then a newline, then the file's bytes. A PDF's first page is rendered by pdfium; a photo is decoded by
Pillow with only the decoder its kind names, turned upright (EXIF orientation) and re-encoded, so the browser
never gets the uploaded bytes themselves as a picture.
"""

from __future__ import annotations

import io
import json
import sys
import warnings
from typing import TYPE_CHECKING

from core.sandbox import apply_limits

if TYPE_CHECKING:
    from PIL import Image

# A preview is at most this many times as tall as it is wide: a strip-shaped page or picture is scaled to fit
# rather than rendered kilometres long.
MAX_ASPECT = 2


def main() -> None:
    apply_limits()
    options = json.loads(sys.stdin.buffer.readline())
    data = sys.stdin.buffer.read()
    kind, width = str(options["kind"]), int(options["width"])
    image = pdf_page(data, width) if kind == "pdf" else photo(data, kind, width, int(options["max_pixels"]))
    output = io.BytesIO()
    image.save(output, "PNG", optimize=True)
    sys.stdout.buffer.write(output.getvalue())


def pdf_page(data: bytes, width: int) -> Image.Image:
    import pypdfium2 as pdfium

    page = pdfium.PdfDocument(data)[0]
    page_width, page_height = page.get_size()  # in points
    scale = min(width / page_width, width * MAX_ASPECT / page_height)
    return page.render(scale=scale).to_pil().convert("RGB")


def photo(data: bytes, kind: str, width: int, max_pixels: int) -> Image.Image:
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = max_pixels  # above it Pillow raises before decoding (a decompression bomb)
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    image = Image.open(io.BytesIO(data), formats=[{"jpeg": "JPEG", "png": "PNG"}[kind]])
    image.draft("RGB", (width, width * MAX_ASPECT))  # JPEG: decode at a reduced size where it can
    upright = ImageOps.exif_transpose(image)
    upright.thumbnail((width, width * MAX_ASPECT))
    if upright.mode not in ("RGB", "RGBA", "L", "LA"):
        upright = upright.convert("RGBA" if "A" in upright.getbands() else "RGB")
    return upright


if __name__ == "__main__":
    main()
