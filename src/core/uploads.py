"""Uploaded files are judged by their content, never their name.

PDFs are opened by pypdf in a separate process with memory and CPU caps and a wall-clock timeout, because a
crafted PDF can make a parser loop or balloon (pypdf has had a stream of such fixes).
"""

from __future__ import annotations

import json

from core.sandbox import SandboxError, SandboxTimeout, run_limited

PDF_PROBE_TIMEOUT = 10  # seconds of wall-clock time
PDF_PROBE_MEMORY = 512 * 1024 * 1024  # bytes of address space for the probe process
PDF_PROBE_CPU = 5  # seconds of CPU time
DEFAULT_MAX_PAGES = 50


class UploadError(ValueError):
    """Why a file was refused, in Chinese, shown next to the field."""


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"


async def check_pdf(content: bytes, *, max_bytes: int, max_pages: int = DEFAULT_MAX_PAGES) -> int:
    """The page count of an acceptable PDF; raises UploadError otherwise."""
    if not content:
        raise UploadError("文件为空")
    if len(content) > max_bytes:
        raise UploadError(f"文件大小 {_megabytes(len(content))} 超过上限 {_megabytes(max_bytes)}")
    if not content.lstrip(b"\x00\t\n\r ")[:5] == b"%PDF-":
        raise UploadError("文件不是 PDF（按内容判断，不看扩展名）")
    try:
        output = await run_limited(
            "core.pdf_probe", content, seconds=PDF_PROBE_TIMEOUT, memory=PDF_PROBE_MEMORY, cpu=PDF_PROBE_CPU
        )
    except SandboxTimeout:
        raise UploadError("PDF 解析超时，文件可能已损坏") from None
    except SandboxError:
        raise UploadError("PDF 无法解析，文件可能已损坏") from None
    try:
        result = json.loads(output)
    except ValueError:
        raise UploadError("PDF 无法解析，文件可能已损坏") from None
    if "error" in result:
        raise UploadError(result["error"])
    pages = int(result["pages"])
    if pages > max_pages:
        raise UploadError(f"PDF 共 {pages} 页，超过上限 {max_pages} 页")
    return pages
