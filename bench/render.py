"""Certificate rendering speed: our incremental-update renderer against a naive pipeline, in one process on
one core. `make bench-render` (or `python bench/render.py [count]`). Last line:
`render: <ours> certs/s, naive <theirs> certs/s, ratio <r>`.

The naive pipeline is how most systems do it: per certificate re-read the template, draw an overlay with
reportlab (its TrueType subsetting, the seal and photo as images, the QR code drawn from segno's matrix),
`merge_page` it onto the template page with pypdf and write the result.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from datetime import date

from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from seals.backgrounds import _register_font, default_background
from seals.layout import MM, Layout, default_layout
from seals.qr import make_symbol
from seals.render import CertificateContent, render_certificate
from seals.services import sample_seal_png

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
SERIES = [
    ("工程系列", "高级工程师", "电气工程"),
    ("卫生系列", "副主任医师", "内科"),
    ("农业系列", "高级兽医师", "兽医"),
    ("中小学教师", "一级教师", "数学"),
]


def sample_photo(index: int) -> bytes:
    photo = Image.new("RGB", (413, 531), (200 + index % 40, 215, 235))
    ImageDraw.Draw(photo).ellipse((120, 90, 290, 300), fill=(120, 90, 70))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def contents(count: int) -> list[CertificateContent]:
    photos = [sample_photo(index) for index in range(16)]
    result = []
    for index in range(count):
        series, title, specialty = SERIES[index % len(SERIES)]
        name = SURNAMES[index % len(SURNAMES)] + GIVEN[index % len(GIVEN)] + GIVEN[(index * 7) % len(GIVEN)]
        number = f"2026450000{index:06d}"
        token = f"{index:08d}" + "Qx7-" * 24
        result.append(
            CertificateContent(
                fields={
                    "certificate_number": number,
                    "name": name,
                    "gender": "男" if index % 2 else "女",
                    "id_number": f"450702********{index % 10000:04d}",
                    "series": series,
                    "title_name": title,
                    "specialty": specialty,
                    "obtained_on": "2025年12月20日",
                    "review_body": "广西壮族自治区工程系列高级职称评审委员会",
                    "issuer": "广西壮族自治区人力资源和社会保障厅",
                    "url": f"https://zc.example.cn/v/{number}",
                    "issue_date": "2026年01月15日",
                },
                qr_text=f"https://zc.example.cn/v/{token}",
                issue_date=date(2026, 1, 15),
                title="广西壮族自治区职称证书",
                photo_jpeg=photos[index % len(photos)],
            )
        )
    return result


def naive(template: bytes, layout: Layout, seal: bytes, content: CertificateContent) -> bytes:
    font = _register_font()
    overlay_buffer = io.BytesIO()
    canvas = Canvas(overlay_buffer, pagesize=(layout.width * MM, layout.height * MM), invariant=1)
    for box in layout.fields:
        x, y, _, h = box.points(layout.height)
        canvas.setFont(font, box.size)
        canvas.drawString(x, y + h / 2 - box.size / 3, content.fields.get(box.key, ""))
    if content.photo_jpeg and layout.photo:
        x, y, w, h = layout.photo.points(layout.height)
        canvas.drawImage(ImageReader(io.BytesIO(content.photo_jpeg)), x, y, w, h)
    x, y, w, h = layout.qr.points(layout.height)
    modules = make_symbol(content.qr_text).modules
    unit = min(w, h) / (modules.shape[0] + 8)
    for row_index, row in enumerate(modules):
        for column, dark in enumerate(row):
            if dark:
                canvas.rect(
                    x + (column + 4) * unit, y + h - (row_index + 5) * unit, unit, unit, stroke=0, fill=1
                )
    x, y, w, h = layout.seal.points(layout.height)
    canvas.drawImage(ImageReader(io.BytesIO(seal)), x, y, w, h, mask="auto")
    canvas.save()
    # pypdf 7 merges only onto a page attached to a writer: clone the template into one first.
    writer = PdfWriter(clone_from=io.BytesIO(template))
    writer.pages[0].merge_page(PdfReader(io.BytesIO(overlay_buffer.getvalue())).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def measure(label: str, render: object, items: list[CertificateContent]) -> tuple[float, float]:
    timings = []
    started = time.perf_counter()
    for content in items:
        begin = time.perf_counter()
        render(content)  # type: ignore[operator]
        timings.append((time.perf_counter() - begin) * 1000)
    elapsed = time.perf_counter() - started
    rate = len(items) / elapsed
    median = statistics.median(timings)
    print(f"{label}: {len(items)} certs in {elapsed:.2f} s, {rate:.0f} certs/s, median {median:.2f} ms")
    return rate, statistics.median(timings)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    layout = default_layout()
    template = default_background(
        "广西壮族自治区职称证书", "广西壮族自治区人力资源和社会保障厅", "#1d4f91", layout
    )
    seal = sample_seal_png()
    items = contents(count)
    # Warm-up: load the font and fill the per-process caches the way a running server has them.
    render_certificate(template, layout, seal, items[0])
    naive(template, layout, seal, items[0])
    ours, _ = measure("ours", lambda content: render_certificate(template, layout, seal, content), items)
    naive_count = max(50, count // 10)
    theirs, _ = measure("naive", lambda content: naive(template, layout, seal, content), items[:naive_count])
    print(f"render: {ours:.0f} certs/s, naive {theirs:.1f} certs/s, ratio {ours / theirs:.1f}")


if __name__ == "__main__":
    main()
