"""Previews of uploaded attachments for the staff who check them: a PDF's first page or a photo, as a PNG.

The uploaded bytes are only ever parsed in ``core.preview_worker``, a child process under core.sandbox
limits (as core.uploads does for its checks): pdfium and Pillow see untrusted files there, never in the web
process. A preview is cached in the file store beside the files, named by the file's SHA-256 and the
preview's size, so each file is rendered once whoever opens it and in whichever app process.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.sandbox import SandboxError, run_limited
from core.storage import files_dir, path_of, write_atomically
from core.uploads import DEFAULT_MAX_PIXELS, IMAGE_PROBE_MEMORY

PREVIEW_WIDTH = 720  # pixels: sharp at the pane's width on a 2× screen, a few hundred kB at most
PREVIEW_TIMEOUT = 15  # seconds of wall-clock time
PREVIEW_MEMORY = IMAGE_PROBE_MEMORY  # a 25-megapixel photo decoded, plus Python, Pillow and pdfium
PREVIEW_CPU = 10  # seconds of CPU time
_KINDS = {"application/pdf": "pdf", "image/jpeg": "jpeg", "image/png": "png"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PreviewError(ValueError):
    """No preview of this file: its type has none, or the sandboxed renderer failed (the message says so)."""


def preview_path(digest: str) -> Path:
    path_of(digest)  # refuses anything but a SHA-256 hex digest
    return files_dir() / "previews" / digest[:2] / f"{digest}-{PREVIEW_WIDTH}.png"


async def preview_png(digest: str, content: bytes, media_type: str) -> bytes:
    """The PNG preview of a stored file (``content``: its bytes, ``media_type``: what the upload check
    found), from the cache or rendered in the sandbox."""
    kind = _KINDS.get(media_type)
    if kind is None:
        raise PreviewError("该类型的文件没有预览")
    cached = preview_path(digest)
    try:
        return cached.read_bytes()
    except FileNotFoundError:
        pass
    options = {"kind": kind, "width": PREVIEW_WIDTH, "max_pixels": DEFAULT_MAX_PIXELS}
    try:
        png = await run_limited(
            "core.preview_worker",
            json.dumps(options).encode() + b"\n" + content,
            seconds=PREVIEW_TIMEOUT,
            memory=PREVIEW_MEMORY,
            cpu=PREVIEW_CPU,
        )
    except SandboxError:
        raise PreviewError("无法生成预览，文件可能已损坏，请下载后查看") from None
    if not png.startswith(_PNG_SIGNATURE):
        raise PreviewError("无法生成预览，文件可能已损坏，请下载后查看")
    write_atomically(cached, png)
    return png
