"""Child process of core.uploads.check_upload: reads a JPEG or PNG on stdin under core.sandbox limits and
prints what it found as JSON, or the Chinese reason it was refused.

Input on stdin is one line of JSON options, ``{"formats": ["JPEG", ...], "max_pixels": N}``, then a newline,
then the file's bytes (the sandbox passes nothing else to the child). Output is either ``{"error": "…"}`` or
``{"width", "height", "mode", "colour", "dpi", "plain_background", "border_spread"}``; width and
height are as displayed, after the EXIF orientation a phone records.

Pillow only ever sees the bytes here, never in the web process: image decoders have had overflow and
decompression-bomb bugs, and a picture that makes Pillow loop or balloon must only kill this child.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import sys
import warnings
from typing import TYPE_CHECKING, Any

from core.sandbox import apply_limits

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from PIL import Image

# The statistics below run on a copy box-averaged to at most this many pixels on the long side: enough to
# see a background or a face, and the averaging smooths out JPEG artefacts and a colour scanner's sensor
# noise, which would otherwise make a black-and-white print look coloured or a plain background patterned.
ANALYSIS_SIDE = 512

# A pixel counts as coloured when its channels differ by more than this (0–255 scale). A grey picture saved
# as colour JPEG stays within a few levels after averaging; skin, lips and blue or red backgrounds are
# 30–100 levels apart.
COLOUR_CHROMA = 20
# ...and the picture is a colour one when at least this share of its pixels are coloured. A colour ID photo
# has a face (far more than 1 % of the frame); a greyscale one with the odd tinted speck does not pass.
COLOUR_MIN_SHARE = 0.01

# The background is judged on the outer strips of the picture, this share of its width or height deep.
BORDER_SHARE = 0.05
# Only the top strip and the upper part of the side strips: in a correctly framed ID photo the shoulders
# and clothes reach the bottom edge and the lower sides, and they are not background.
BORDER_SIDE_DEPTH = 0.6
# How far (Euclidean distance in RGB, 0–255 per channel) the border may stray from its median colour, taken
# at this percentile so that a few hairs or a shadow touching the edge do not count. Measured on generated
# photos: a plain background saved as JPEG is under 5, with heavy sensor grain (σ 15 a channel) about 16,
# with a 25-level lighting falloff from top to bottom about 19; grain of ±60 levels is about 35, and stripes
# or a room behind the person 170 and more.
BORDER_PERCENTILE = 90
PLAIN_BACKGROUND_MAX_SPREAD = 32.0

_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_ORIENTATION_TAG = 0x0112


def main() -> None:
    apply_limits()
    # OpenBLAS reserves address space per thread when numpy is imported; on a many-core server that alone can
    # exceed the sandbox's memory cap. The statistics here need no threads.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    # Read as two pieces rather than split afterwards, so the picture's bytes are held once, not twice.
    options = json.loads(sys.stdin.buffer.readline())
    data = sys.stdin.buffer.read()
    print(json.dumps(probe(data, list(options["formats"]), int(options["max_pixels"])), ensure_ascii=False))


def probe(data: bytes, formats: list[str], max_pixels: int) -> dict[str, Any]:
    from PIL import Image

    # Pillow warns between its limit and twice that, and raises above; the explicit check below gives every
    # oversized picture the same answer, so the warning only needs silencing.
    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
    try:
        # formats= makes Pillow use the decoder the magic bytes named, not whichever plugin claims the file.
        with Image.open(io.BytesIO(data), formats=formats) as img:
            width, height = img.size
            # Checked on the header, before any pixel data is decompressed.
            if width * height > max_pixels:
                return {"error": _too_many_pixels(max_pixels, width, height)}
            # load() decodes every pixel, so a truncated or corrupt file fails here and not later in a PDF.
            img.load()
            mode = img.mode
            dpi = _recorded_dpi(img)
            orientation = img.getexif().get(_ORIENTATION_TAG, 1)
            rgb = _small_rgb(img)
    except Image.DecompressionBombError:
        return {"error": _too_many_pixels(max_pixels)}
    except (OSError, SyntaxError, ValueError, EOFError, struct.error):
        # OSError covers UnidentifiedImageError and "image file is truncated".
        return {"error": "图片无法解析，文件可能已损坏"}
    rgb = _oriented(rgb, orientation)
    if orientation in (5, 6, 7, 8):  # stored turned by 90°: the viewer shows it the other way round
        width, height = height, width
    spread = _border_spread(rgb)
    return {
        "width": width,
        "height": height,
        "mode": mode,
        "colour": mode not in _GREY_MODES and _is_colour(rgb),
        "dpi": dpi,
        "plain_background": spread <= PLAIN_BACKGROUND_MAX_SPREAD,
        "border_spread": round(spread, 1),
    }


def _too_many_pixels(max_pixels: int, width: int | None = None, height: int | None = None) -> str:
    size = f"{width}×{height} 像素，" if width and height else ""
    return f"图片尺寸过大：{size}超过上限 {max_pixels / 10_000:g} 万像素"


def _recorded_dpi(img: Image.Image) -> list[float] | None:
    """The resolution the file itself records, or None. Pillow fills in 72 dpi for a JPEG whose EXIF has no
    resolution, so JPEG metadata is read directly rather than trusted from img.info."""
    found: Any
    if img.format == "PNG" or img.info.get("jfif_unit") in (1, 2):
        found = img.info.get("dpi")  # PNG pHYs in pixels per metre, or JFIF dots per inch or per cm
    else:
        exif = img.getexif()
        if 0x011A not in exif:
            return None
        unit = exif.get(0x0128, 2)  # 2 = inch is the EXIF default; 1 = no unit, only an aspect ratio
        if unit not in (2, 3):
            return None
        scale = 2.54 if unit == 3 else 1.0
        try:
            found = (float(exif[0x011A]) * scale, float(exif.get(0x011B, exif[0x011A])) * scale)
        except (TypeError, ValueError, ZeroDivisionError):
            return None
    if not found:
        return None
    x, y = float(found[0]), float(found[1])
    # JFIF's "1:1 aspect ratio" placeholders say nothing about the picture.
    if not (math.isfinite(x) and math.isfinite(y)) or x <= 1 or y <= 1:
        return None
    # PNG stores pixels per metre, so 300 dpi reads back as 299.9994.
    return [round(x, 1), round(y, 1)]


def _small_rgb(img: Image.Image) -> NDArray[np.uint8]:
    """The picture box-averaged to ANALYSIS_SIDE as (h, w, 3) RGB; transparent areas become white.

    Reduced before any conversion where Pillow allows it, so a full-size picture is never held twice over in
    a wider mode."""
    import numpy as np
    from PIL import Image

    if img.mode == "1":
        img = img.convert("L")
    elif img.mode in ("P", "PA") or "transparency" in img.info:
        img = img.convert("RGBA")
    elif img.mode.startswith("I;16"):
        img = img.convert("I")  # Pillow cannot reduce 16-bit modes
    factor = max(1, math.ceil(max(img.size) / ANALYSIS_SIDE))
    small = img.reduce(factor) if factor > 1 else img
    if small.mode in ("I", "F"):
        # 16-bit grey: scale to 8 bits rather than let convert() clip everything above 255 to white.
        values = np.asarray(small, dtype=np.float64) / 257.0
        small = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "L")
    if small.mode in ("RGBA", "LA", "La", "RGBa", "PA"):
        rgba = np.asarray(small.convert("RGBA"), dtype=np.float64)
        alpha = rgba[..., 3:4] / 255.0
        return np.rint(rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.asarray(small.convert("RGB"), dtype=np.uint8)


def _oriented(rgb: NDArray[np.uint8], orientation: int) -> NDArray[np.uint8]:
    """The pixels as a viewer shows them, following the EXIF orientation tag: phones store photos sideways."""
    import numpy as np

    if orientation in (2, 4):
        rgb = rgb[:, ::-1] if orientation == 2 else rgb[::-1]
    elif orientation == 3:
        rgb = rgb[::-1, ::-1]
    elif orientation == 5:
        rgb = np.swapaxes(rgb, 0, 1)
    elif orientation == 6:
        rgb = np.rot90(rgb, k=-1)
    elif orientation == 7:
        rgb = np.swapaxes(rgb[::-1, ::-1], 0, 1)  # transposed across the other diagonal
    elif orientation == 8:
        rgb = np.rot90(rgb, k=1)
    return rgb


def _is_colour(rgb: NDArray[np.uint8]) -> bool:
    import numpy as np

    chroma = rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2)
    return bool(np.count_nonzero(chroma > COLOUR_CHROMA) >= COLOUR_MIN_SHARE * chroma.size)


def _border_spread(rgb: NDArray[np.uint8]) -> float:
    """How far the background strips stray from one colour (see PLAIN_BACKGROUND_MAX_SPREAD)."""
    import numpy as np

    height, width = rgb.shape[:2]
    deep_y = max(1, round(height * BORDER_SHARE))
    deep_x = max(1, round(width * BORDER_SHARE))
    side_bottom = max(deep_y + 1, round(height * BORDER_SIDE_DEPTH))
    strips = [
        rgb[:deep_y].reshape(-1, 3),
        rgb[deep_y:side_bottom, :deep_x].reshape(-1, 3),
        rgb[deep_y:side_bottom, width - deep_x :].reshape(-1, 3),
    ]
    border = np.concatenate(strips).astype(np.float64)
    distance = np.linalg.norm(border - np.median(border, axis=0), axis=1)
    return float(np.percentile(distance, BORDER_PERCENTILE))


if __name__ == "__main__":
    main()
