"""Hostile PDFs written byte by byte, so that each carries exactly the construct a test is about."""

from __future__ import annotations

import io


def pdf_of(catalog_extra: bytes, *objects: bytes, page_extra: bytes = b"") -> bytes:
    """A one-page PDF: object 1 is the catalog (with ``catalog_extra`` among its entries), 2 the page tree,
    3 the page (with ``page_extra``), and ``objects`` follow as 4, 5, …; a classic cross-reference table
    indexes them all."""
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + page_extra + b" >>",
        *objects,
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref))
    return out.getvalue()


def many_signature_fields(count: int) -> bytes:
    """A form of ``count`` empty /Sig fields: every signature reader walks them all, which is quadratic
    in pyHanko (60,000 took ~7 s of CPU, 100,000 fields are ~7.5 MB)."""
    references = b" ".join(b"%d 0 R" % (4 + index) for index in range(count))
    fields = [b"<< /FT /Sig /T (s%d) >>" % index for index in range(count)]
    return pdf_of(b"/AcroForm << /Fields [" + references + b"] >>", *fields)
