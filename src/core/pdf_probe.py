"""Child process of core.uploads.check_pdf: reads a PDF on stdin under resource limits, prints JSON.

Besides the page count it looks for active content, which a reviewer's PDF viewer might run: scripts,
automatic actions, launching programs and embedded files. An uploaded scan or form has no need of any."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

from core.sandbox import apply_limits

ACTIVE_CONTENT = "PDF 含有脚本或自动动作，请另存为普通 PDF 后上传"
# Action types that run code, start programs, open embedded documents or send data (ISO 32000-2 §12.6.4).
ACTIVE_ACTIONS = frozenset(
    {"/JavaScript", "/Launch", "/GoToE", "/ImportData", "/SubmitForm", "/Rendition", "/RichMediaExecute"}
)
# Keys that only active content uses: scripts, triggers that act by themselves (/AA), XFA forms (which carry
# scripts), embedded files and their name tree, rich media.
ACTIVE_KEYS = frozenset({"/JS", "/AA", "/XFA", "/EF", "/EmbeddedFiles", "/JavaScript", "/RichMediaContent"})
ACTIVE_TYPES = frozenset({"/EmbeddedFile", "/FileAttachment", "/RichMedia", "/Sound", "/Movie", "/Screen"})


def main() -> None:
    apply_limits()
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    data = sys.stdin.buffer.read()
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            print(json.dumps({"error": "PDF 已加密，请上传未加密的扫描件"}))
            return
        pages = len(reader.pages)
        for page in reader.pages[:3]:
            page.mediabox  # noqa: B018 - touching the page tree finds most broken files early
        active = has_active_content(reader.trailer["/Root"])
    except (PdfReadError, ValueError, KeyError, TypeError, RecursionError, MemoryError):
        print(json.dumps({"error": "PDF 无法解析，文件可能已损坏"}))
        return
    if pages == 0:
        print(json.dumps({"error": "PDF 没有页面"}))
        return
    if active:
        print(json.dumps({"error": ACTIVE_CONTENT}, ensure_ascii=False))
        return
    print(json.dumps({"pages": pages}))


def has_active_content(catalog: Any) -> bool:
    """Whether anything reachable from the catalog is active content. Walks every dictionary and array
    (not stream data), each indirect object once; the sandbox's caps bound a file built to make this long."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    root = catalog.get_object()
    opening = root.get("/OpenAction")
    # An /OpenAction that is a destination (an array: "open at page 1, fit width") is harmless; an action
    # dictionary other than a go-to acts the moment the file is opened.
    if opening is not None:
        opening = opening.get_object()
        if isinstance(opening, DictionaryObject) and opening.get("/S") != "/GoTo":
            return True
    seen: set[tuple[int, int]] = set()
    pending: list[Any] = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            node = node.get_object()
        if isinstance(node, DictionaryObject):
            if not ACTIVE_KEYS.isdisjoint(node.keys()):
                return True
            if node.get("/S") in ACTIVE_ACTIONS or node.get("/Type") in ACTIVE_TYPES:
                return True
            if node.get("/Subtype") in ACTIVE_TYPES:
                return True
            pending.extend(node.values())
        elif isinstance(node, ArrayObject):
            pending.extend(node)
    return False


if __name__ == "__main__":
    main()
