"""Child process of seals.services.save_template_version: normalises an uploaded background PDF from stdin
under core.sandbox limits (``seals.render.normalise_template``) and prints JSON, the normalised PDF
base64-encoded or the refusal. What it prints has been rewritten by pypdf, so the renderer may then read
it in the web process."""

from __future__ import annotations

import base64
import io
import json
import sys

from core.sandbox import apply_limits


def main() -> None:
    apply_limits()
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    from core.pdf_probe import ACTIVE_CONTENT, has_active_content
    from seals.render import RenderError, normalise_template

    data = sys.stdin.buffer.read()
    try:
        # Every certificate carries the background's page: a script in it would reach every holder.
        if has_active_content(PdfReader(io.BytesIO(data), strict=False).trailer["/Root"]):
            print(json.dumps({"error": ACTIVE_CONTENT}, ensure_ascii=False))
            return
        normalised = normalise_template(data)
    except RenderError as error:
        print(json.dumps({"error": str(error)}, ensure_ascii=False))
        return
    except (PdfReadError, ValueError, KeyError, TypeError, RecursionError):
        print(json.dumps({"error": "背景 PDF 无法读取"}, ensure_ascii=False))
        return
    print(json.dumps({"pdf": base64.b64encode(normalised).decode()}))


if __name__ == "__main__":
    main()
