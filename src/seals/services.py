"""Seal and template services: capture and version seals, template versions, layout previews. No HTTP."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import pypdfium2
from PIL import Image, ImageDraw, ImageFont

from audit.services import Actor, record
from core.db import write_transaction
from core.sandbox import SandboxError, SandboxTimeout, run_limited
from core.storage import path_of, read_bytes, store_bytes
from seals.backgrounds import default_background
from seals.capture import MAX_UPLOAD_BYTES, CapturedSeal
from seals.glyphs import FONT_PATH
from seals.layout import Layout, LayoutError, default_layout, parse_layout
from seals.render import CertificateContent, render_certificate
from seals.tables import SealVersion, TemplateVersion
from tenants.tables import Org, Tenant

TITLE_CERTIFICATE = "title_certificate"
SEAL_BEARING_KINDS = ("province_office", "city_office", "county_hr", "department", "committee", "university")
PREVIEW_DPI = 72
TEMPLATE_MAX_BYTES = 10 * 1024 * 1024
TEMPLATE_TIMEOUT = 20  # seconds of wall-clock time to normalise an uploaded background
TEMPLATE_MEMORY = 768 * 1024 * 1024
TEMPLATE_CPU = 10


class SealError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        self.message, self.field = message, field
        super().__init__(message)


def _now() -> datetime:
    return datetime.now(UTC)


# --- seals ---

CAPTURE_TIMEOUT = 30  # seconds of wall-clock time
CAPTURE_MEMORY = 1536 * 1024 * 1024  # a 60-megapixel scan and its working arrays fit
CAPTURE_CPU = 20


async def capture_in_sandbox(scan: bytes) -> CapturedSeal:
    """capture_seal in a resource-capped child process (scans and PDFs come from outside)."""
    if len(scan) > MAX_UPLOAD_BYTES:
        raise SealError("印模文件超过 20 MB", "scan")
    try:
        output = await run_limited(
            "seals.capture_worker", scan, seconds=CAPTURE_TIMEOUT, memory=CAPTURE_MEMORY, cpu=CAPTURE_CPU
        )
        result = json.loads(output)
    except SandboxTimeout:
        raise SealError("印模处理超时，请换一份清晰的扫描件", "scan") from None
    except (SandboxError, ValueError):
        raise SealError("印模文件无法读取", "scan") from None
    if "error" in result:
        raise SealError(result["error"], "scan")
    return CapturedSeal(**{**result, "png": base64.b64decode(result["png"])})


async def store_seal(
    tenant: Tenant, actor: Actor, *, org_code: str, scan: bytes, operator: str, leader: str, name: str = ""
) -> dict[str, Any]:
    """Captures an uploaded imprint and records it as the org's next seal version."""
    org = (
        await Org.select(Org.id, Org.name, Org.kind)
        .where(Org.tenant == tenant.id, Org.code == org_code)
        .first()
    )
    if org is None or org["kind"] not in SEAL_BEARING_KINDS:
        raise SealError("请选择本地区有印章的机构（职改办、人社局、省直部门、评委会或自主评审高校）", "org")
    if not operator.strip():
        raise SealError("请填写操作人员（附件2 三(四)3）", "operator")
    if not leader.strip():
        raise SealError("请填写分管领导（附件2 三(四)3）", "leader")
    captured = await capture_in_sandbox(scan)
    async with write_transaction(SealVersion._meta.db):
        latest = (
            await SealVersion.select(SealVersion.version)
            .where(SealVersion.tenant == tenant.id, SealVersion.org == org["id"])
            .order_by(SealVersion.version, ascending=False)
            .first()
        )
        row = SealVersion(
            tenant=tenant.id,
            org=org["id"],
            version=(latest["version"] + 1) if latest else 1,
            name=name.strip() or org["name"],
            stamp_sha256=store_bytes(captured.png),
            source_sha256=store_bytes(scan),
            width_mm=round(captured.width_mm, 1),
            height_mm=round(captured.height_mm, 1),
            dpi=round(captured.dpi),
            operator=operator.strip(),
            leader=leader.strip(),
            created_by=int(actor.label.split(":")[1]) if actor.label.startswith("account:") else None,
            created_at=_now(),
        )
        await row.save()
    await record(
        tenant, actor, "seal.capture", f"org:{org_code}", {"version": row.version, "stamp": row.stamp_sha256}
    )
    return {"id": row.id, "version": row.version, "stamp_sha256": row.stamp_sha256}


async def seal_versions(tenant: Tenant) -> list[dict[str, Any]]:
    """Every captured version, each marked whether its scan is an image (shown beside the stamp) or a PDF."""
    rows = (
        await SealVersion.select(
            SealVersion.all_columns(),
            SealVersion.org.code.as_alias("org_code"),
            SealVersion.org.name.as_alias("org_name"),
        )
        .where(SealVersion.tenant == tenant.id)
        .order_by(SealVersion.org)
        .order_by(SealVersion.version, ascending=False)
    )
    for row in rows:
        with path_of(row["source_sha256"]).open("rb") as scan:
            row["scan_is_image"] = scan.read(5) != b"%PDF-"
    return rows


async def current_seal(tenant: Tenant, org_id: int) -> dict[str, Any] | None:
    """The seal a certificate issued by this authority is stamped with: its latest version. (Certificates
    carry the seal of the authority that issues them, 附件2 三(四); review forms' seals are not drawn.)"""
    return (
        await SealVersion.select()
        .where(SealVersion.tenant == tenant.id, SealVersion.org == org_id)
        .order_by(SealVersion.version, ascending=False)
        .first()
    )


@cache
def sample_seal_png(label: str = "样章") -> bytes:
    """A plainly marked sample stamp for previews and demo certificates — never a real authority's seal."""
    size = 1000
    stamp = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(stamp)
    red = (215, 38, 30, 255)
    draw.ellipse((24, 24, size - 24, size - 24), outline=red, width=36)
    draw.regular_polygon((size // 2, size // 2 - 60, 150), 5, fill=red)
    font = ImageFont.truetype(str(FONT_PATH), 150, index=0)
    draw.text((size // 2, size // 2 + 210), label, fill=red, font=font, anchor="mm")
    buffer = io.BytesIO()
    stamp.save(buffer, "PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def sample_scan() -> bytes:
    """The sample stamp as a 600 dpi paper scan (JPEG), for demo installations to go through the same
    capture path as a real imprint."""
    stamp = Image.open(io.BytesIO(sample_seal_png()))
    paper = Image.new("RGB", (1400, 1400), (250, 248, 242))
    paper.paste(stamp, (200, 200), stamp)
    buffer = io.BytesIO()
    paper.save(buffer, "JPEG", quality=92, dpi=(600, 600))
    return buffer.getvalue()


# --- templates -------------------------------------------------------------------------------------------


async def current_template(tenant: Tenant, kind: str = TITLE_CERTIFICATE) -> dict[str, Any] | None:
    return (
        await TemplateVersion.select()
        .where(TemplateVersion.tenant == tenant.id, TemplateVersion.kind == kind)
        .order_by(TemplateVersion.version, ascending=False)
        .output(load_json=True)
        .first()
    )


async def ensure_default_template(tenant: Tenant) -> bool:
    """Every tenant starts with a template made by our own code; returns whether one was created."""
    if await current_template(tenant) is not None:
        return False
    layout = default_layout()
    background = default_background(
        f"{tenant.name}职称证书", tenant.authority_name, tenant.theme_color, layout
    )
    await TemplateVersion.insert(
        TemplateVersion(
            tenant=tenant.id,
            kind=TITLE_CERTIFICATE,
            version=1,
            background_sha256=store_bytes(background),
            layout=json.loads(layout.to_json()),
            created_at=_now(),
        )
    )
    return True


async def normalise_in_sandbox(background_pdf: bytes) -> bytes:
    """normalise_template in a resource-capped child process (the background PDF is uploaded)."""
    try:
        output = await run_limited(
            "seals.template_worker",
            background_pdf,
            seconds=TEMPLATE_TIMEOUT,
            memory=TEMPLATE_MEMORY,
            cpu=TEMPLATE_CPU,
        )
        result = json.loads(output)
    except SandboxTimeout:
        raise SealError("背景 PDF 过于复杂，无法在限定时间内读取", "background") from None
    except (SandboxError, ValueError):
        raise SealError("背景 PDF 无法读取", "background") from None
    if "error" in result:
        raise SealError(result["error"], "background")
    return base64.b64decode(result["pdf"])


async def save_template_version(
    tenant: Tenant, actor: Actor, *, layout_data: Any, background_pdf: bytes | None = None
) -> int:
    """A new template version with this layout (and, when given, a new background PDF)."""
    try:
        layout = parse_layout(layout_data)
    except LayoutError as error:
        raise SealError(str(error), "layout") from None
    current = await current_template(tenant)
    if background_pdf is not None:
        if len(background_pdf) > TEMPLATE_MAX_BYTES or not background_pdf.lstrip()[:5] == b"%PDF-":
            raise SealError("背景应为不超过 10 MB 的 PDF", "background")
        background_sha = store_bytes(await normalise_in_sandbox(background_pdf))
    elif current is not None:
        background_sha = current["background_sha256"]
    else:
        raise SealError("请上传背景 PDF", "background")
    version = (current["version"] + 1) if current else 1
    await TemplateVersion.insert(
        TemplateVersion(
            tenant=tenant.id,
            kind=TITLE_CERTIFICATE,
            version=version,
            background_sha256=background_sha,
            layout=json.loads(layout.to_json()),
            created_at=_now(),
        )
    )
    await record(tenant, actor, "template.version", f"template:{TITLE_CERTIFICATE}", {"version": version})
    return version


def sample_content(tenant: Tenant) -> CertificateContent:
    return CertificateContent(
        fields={
            "certificate_number": f"2026{tenant.division_code}000001",
            "name": "张三",
            "gender": "男",
            "id_number": f"{tenant.division_code}********6421",
            "series": "农业系列",
            "title_name": "高级兽医师",
            "specialty": "兽医",
            "obtained_on": "2025年12月20日",
            "review_body": f"{tenant.name}农业系列高级职称评审委员会",
            "issuer": tenant.authority_name,
            "url": "https://zc.example.cn/v/样例",
            "issue_date": "2026年01月15日",
        },
        qr_text="https://zc.example.cn/v/SAMPLE",
        issue_date=date(2026, 1, 15),
        title=f"{tenant.name}职称证书（样例）",
    )


def preview_png(
    background: bytes, layout: Layout, content: CertificateContent, seal_png: bytes | None = None
) -> bytes:
    """The sample certificate rendered with pdfium, as the layout editor shows it."""
    pdf = render_certificate(background, layout, seal_png or sample_seal_png(), content)
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=PREVIEW_DPI / 72).to_pil()
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def template_preview(tenant: Tenant, layout_data: Any | None = None) -> bytes:
    current = await current_template(tenant)
    if current is None:
        raise SealError("尚无证书模板")
    try:
        layout = parse_layout(layout_data if layout_data is not None else current["layout"])
    except LayoutError as error:
        raise SealError(str(error), "layout") from None
    return preview_png(read_bytes(current["background_sha256"]), layout, sample_content(tenant))
