"""The Debian tools the certificate tests read PDFs with. .ci/run installs them; on a laptop without them
the tests that need them are skipped with the install line, on CI they fail."""

from __future__ import annotations

import os
import shutil

import pytest

PACKAGES = {
    "qpdf": "qpdf",
    "pdftoppm": "poppler-utils",
    "pdftotext": "poppler-utils",
    "pdfsig": "poppler-utils",
    "zbarimg": "zbar-tools",
}


def require_tools(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        packages = sorted({PACKAGES[tool] for tool in missing})
        message = f"missing {', '.join(missing)}: apt-get install {' '.join(packages)}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
