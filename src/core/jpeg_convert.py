"""Child process of core.uploads.photo_as_jpeg: reads a checked PNG photo on stdin under core.sandbox limits
and writes it as a JPEG to stdout (certificates embed JPEG). Pillow decodes the picture here again, so this
runs capped like the probe that checked it."""

from __future__ import annotations

import io
import sys

from core.sandbox import apply_limits

QUALITY = 90


def main() -> None:
    apply_limits()
    from PIL import Image

    with Image.open(io.BytesIO(sys.stdin.buffer.read()), formats=["PNG"]) as image:
        image.convert("RGB").save(sys.stdout.buffer, format="JPEG", quality=QUALITY)


if __name__ == "__main__":
    main()
