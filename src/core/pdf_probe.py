"""Child process of core.uploads.check_pdf: reads a PDF on stdin under resource limits, prints JSON."""

from __future__ import annotations

import io
import json
import sys

from core.sandbox import apply_limits


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
    except (PdfReadError, ValueError, KeyError, TypeError, RecursionError, MemoryError):
        print(json.dumps({"error": "PDF 无法解析，文件可能已损坏"}))
        return
    if pages == 0:
        print(json.dumps({"error": "PDF 没有页面"}))
        return
    print(json.dumps({"pages": pages}))


if __name__ == "__main__":
    main()
