"""Child process of certificates.signing.verify_untrusted_pdf: verifies the signature of a PDF from outside
under core.sandbox limits and prints the result as JSON.

Input on stdin is one line of JSON, ``{"anchors": ["<PEM>", ...]}`` (the tenant's trust anchors: the child
gets no environment, so it cannot look them up itself), then a newline, then the PDF's bytes. Output is
``certificates.signing.result_as_json`` of the verification.
"""

from __future__ import annotations

import asyncio
import json
import sys

from core.sandbox import apply_limits


def main() -> None:
    apply_limits()
    from cryptography import x509

    from certificates.signing import result_as_json, verify_against

    options = json.loads(sys.stdin.buffer.readline())
    pdf = sys.stdin.buffer.read()
    anchors = [x509.load_pem_x509_certificate(pem.encode()) for pem in options["anchors"]]
    print(result_as_json(asyncio.run(verify_against(pdf, anchors))))


if __name__ == "__main__":
    main()
