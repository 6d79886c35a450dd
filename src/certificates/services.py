"""Issuing certificates: the one path the workflow (and the demo command) takes. No HTTP.

Number, identifier, rendering and the certificate row happen in one write transaction, so a failure at any
step gives the number back and leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from accounts.identity import IdNumberError, mask_id_number, normalize_id_number
from accounts.roles import Role
from accounts.secrets import decrypt as pii_decrypt
from accounts.secrets import encrypt, lookup_hash
from accounts.services import take_attempt
from accounts.sessions import Principal
from accounts.tables import Account
from audit.services import Actor, record
from certificates.identifiers import licence_identifier
from certificates.numbering import certificate_settings, next_certificate_number
from certificates.signing import sign_certificate_pdf_async, verify_untrusted_pdf
from certificates.tables import AnnotatedCopy, Certificate
from certificates.tokens import Claims, TokenError, make_token, read_token, verification_url, verify_token
from core.db import write_transaction
from core.sandbox import SandboxError
from core.storage import read_bytes, store_bytes
from seals.layout import parse_layout
from seals.render import CertificateContent, render_certificate, stamp_annotation
from seals.services import current_seal, current_template
from seals.tables import SealVersion, TemplateVersion
from settings import get_settings
from tenants.services import org_tree
from tenants.tables import Org, Tenant

GENDERS = ("男", "女")


class IssueError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        self.message, self.field = message, field
        super().__init__(message)


@dataclass(frozen=True)
class Holder:
    name: str
    id_number: str
    gender: str


@dataclass(frozen=True)
class Title:
    """What was obtained (DESIGN §2): series, title name, specialty, when, and which body reviewed it."""

    series: str
    title_name: str
    specialty: str
    obtained_on: date
    review_body: str


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


def _content(certificate: dict[str, Any], photo_jpeg: bytes | None) -> CertificateContent:
    return CertificateContent(
        fields=certificate["fields"],
        qr_text=certificate["qr_text"],
        issue_date=certificate["issue_date"],
        title=certificate["name"],
        identifier=certificate["licence_identifier"],
        photo_jpeg=photo_jpeg,
        extra_info={"CertificateNumber": certificate["number"], "Issuer": certificate["issuer_name"]},
    )


async def issue_certificate(
    tenant: Tenant,
    actor: Actor,
    *,
    authority_code: str,
    holder: Holder,
    title: Title,
    issue_date: date,
    photo_jpeg: bytes | None = None,
    replaces_paper_number: str | None = None,
) -> dict[str, Any]:
    """Numbers, identifies, renders, signs and records one certificate under the authority's current seal
    and the tenant's current template. A reissue names the lost paper certificate it replaces (old number
    "-1" when unknown, 甘人社通〔2021〕166号 二(二)1). Returns the certificate row."""
    try:
        id_number = normalize_id_number(holder.id_number)
    except IdNumberError as error:
        raise IssueError(str(error), "id_number") from None
    if holder.gender not in GENDERS:
        raise IssueError("性别应为“男”或“女”", "gender")
    authority = await Org.select().where(Org.tenant == tenant.id, Org.code == authority_code).first()
    if authority is None:
        raise IssueError("发证机关不是本地区的机构", "authority")
    seal = await current_seal(tenant, authority["id"])
    if seal is None:
        raise IssueError(f"{authority['name']}尚未采集印模，无法用印", "authority")
    template = await current_template(tenant)
    if template is None:
        raise IssueError("本地区尚无证书模板", "template")
    settings = certificate_settings(tenant)
    if not settings.get("licence_type_code") or not settings.get("issuer_code"):
        raise IssueError("本地区未配置电子证照类型代码和发证机关统一社会信用代码")
    context = f"tenant:{tenant.slug}"
    async with write_transaction(Certificate._meta.db):
        _, number = await next_certificate_number(tenant, issue_date.year)
        identifier = licence_identifier(settings["licence_type_code"], settings["issuer_code"], number)
        claims = Claims(
            tenant_id=tenant.id,
            number=number,
            holder_name=holder.name.strip(),
            id_head=id_number[:6],
            id_tail=id_number[-4:],
            title_name=title.title_name,
            issue_date=issue_date,
        )
        qr_text = verification_url(get_settings().public_url, make_token(tenant.slug, claims))
        row: dict[str, Any] = {
            "tenant": tenant.id,
            "number": number,
            "year": issue_date.year,
            "licence_identifier": identifier,
            "licence_type_code": settings["licence_type_code"],
            "name": f"{tenant.name}职称证书",
            "issuer_name": authority["name"],
            "issuer_code": settings["issuer_code"],
            "issue_date": issue_date,
            "holder_name": holder.name.strip(),
            "holder_id_cipher": encrypt(id_number, context=context),
            "holder_id_hash": lookup_hash(id_number, context=context),
            "jurisdiction_code": authority["division_code"] or tenant.division_code,
            "validity": settings.get("validity") or "长期",
            "authority": authority["id"],
            "seal": seal["id"],
            "template": template["id"],
            "qr_text": qr_text,
            "created_at": datetime.now(UTC),
            "replaces_paper_number": replaces_paper_number,
            # A printed certificate is shown to others, so the ID number on it is masked like everywhere else.
            "fields": {
                "certificate_number": number,
                "name": holder.name.strip(),
                "gender": holder.gender,
                "id_number": mask_id_number(id_number),
                "series": title.series,
                "title_name": title.title_name,
                "specialty": title.specialty,
                "obtained_on": _chinese_date(title.obtained_on),
                "review_body": title.review_body,
                "issuer": authority["name"],
                "url": qr_text,  # 证书网址: the very URL the QR code opens
                "issue_date": _chinese_date(issue_date),
            },
        }
        pdf = render_certificate(
            read_bytes(template["background_sha256"]),
            parse_layout(template["layout"]),
            read_bytes(seal["stamp_sha256"]),
            _content(row, photo_jpeg),
        )
        # Signing comes last: any later rewrite would break the signature.
        signed = await sign_certificate_pdf_async(pdf, slug=tenant.slug, authority_name=authority["name"])
        row["pdf_sha256"] = store_bytes(signed)
        certificate = Certificate(**row)
        await certificate.save()
    await record(
        tenant,
        actor,
        "certificate.issue",
        f"certificate:{certificate.id}",
        {
            "number": number,
            "identifier": identifier,
            "seal_version": seal["version"],
            "template_version": template["version"],
        },
    )
    return {**row, "id": certificate.id}


async def _certificate(tenant: Tenant, certificate_id: int) -> dict[str, Any]:
    row = (
        await Certificate.select()
        .where(Certificate.tenant == tenant.id, Certificate.id == certificate_id)
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise IssueError("证书不存在")
    return row


async def certificate_pdf(tenant: Tenant, certificate_id: int) -> bytes:
    return read_bytes((await _certificate(tenant, certificate_id))["pdf_sha256"])


async def rerender(tenant: Tenant, certificate_id: int, photo_jpeg: bytes | None = None) -> bytes:
    """The certificate rendered again from what was recorded (fields, template version, seal version): the
    issued file's bytes up to its signature."""
    row = await _certificate(tenant, certificate_id)
    template = (
        await TemplateVersion.select()
        .where(TemplateVersion.id == row["template"])
        .output(load_json=True)
        .first()
    )
    seal = await SealVersion.select().where(SealVersion.id == row["seal"]).first()
    assert template is not None and seal is not None
    return render_certificate(
        read_bytes(template["background_sha256"]),
        parse_layout(
            template["layout"] if isinstance(template["layout"], dict) else json.loads(template["layout"])
        ),
        read_bytes(seal["stamp_sha256"]),
        _content(row, photo_jpeg),
    )


def public_notices(tenant: Tenant | None) -> dict[str, str]:
    """The tenant's own notices its public pages cite (presets ``tenant.certificates.notices``)."""
    if tenant is None:
        return {}
    return certificate_settings(tenant).get("notices") or {}


# --- verification -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """What the public verification page and API say about a token."""

    state: str  # valid | void | expired (an annotated copy past its date) | unverifiable
    reason: str = ""
    tenant: Tenant | None = None
    certificate: dict[str, Any] | None = None
    claims: Claims | None = None
    annotation: dict[str, Any] | None = None


async def verify(token: str) -> Verification:
    """The token's signature must hold under its tenant's key, the certificate must exist, and what the
    token claims must be what was issued; only then does the record's status count."""
    try:
        claims, payload, signature = read_token(token)
    except TokenError:
        return Verification("unverifiable", "二维码内容无法识别")
    tenant = await Tenant.objects().get(Tenant.id == claims.tenant_id).output(load_json=True)
    if tenant is None or not verify_token(tenant.slug, payload, signature):
        return Verification("unverifiable", "签名无效：该二维码不是本平台签发的")
    row = (
        await Certificate.select(
            Certificate.all_columns(), Certificate.voided_by.name.as_alias("voided_by_name")
        )
        .where(Certificate.tenant == tenant.id, Certificate.number == claims.number)
        .output(load_json=True)
        .first()
    )
    if row is None:
        return Verification("unverifiable", "未找到该证书", tenant)
    issued = (row["holder_name"], row["fields"]["id_number"], row["fields"]["title_name"], row["issue_date"])
    if issued != (claims.holder_name, claims.masked_id, claims.title_name, claims.issue_date):
        return Verification("unverifiable", "二维码内容与签发记录不符", tenant)
    annotation = None
    if claims.annotation_id is not None:
        annotation = (
            await AnnotatedCopy.select()
            .where(AnnotatedCopy.id == claims.annotation_id, AnnotatedCopy.certificate == row["id"])
            .first()
        )
        if annotation is None or annotation["valid_until"] != claims.valid_until:
            return Verification("unverifiable", "加注件记录不符", tenant)
    if row["status"] == "void":
        return Verification("void", "", tenant, row, claims, annotation)
    if annotation is not None and date.today() > annotation["valid_until"]:
        return Verification(
            "expired",
            f"加注件已于{annotation['valid_until'].isoformat()}过期",
            tenant,
            row,
            claims,
            annotation,
        )
    return Verification("valid", "", tenant, row, claims, annotation)


def verification_json(result: Verification) -> dict[str, Any]:
    answer: dict[str, Any] = {"state": result.state}
    if result.reason:
        answer["reason"] = result.reason
    row = result.certificate
    if row is not None:
        fields = row["fields"]
        answer.update(
            number=row["number"],
            licence_identifier=row["licence_identifier"],
            holder_name=row["holder_name"],
            id_number=fields["id_number"],
            series=fields["series"],
            title_name=fields["title_name"],
            specialty=fields["specialty"],
            obtained_on=fields["obtained_on"],
            review_body=fields["review_body"],
            issuer=row["issuer_name"],
            issue_date=row["issue_date"].isoformat(),
            pdf_sha256=row["pdf_sha256"],
        )
        if result.annotation is not None:
            answer["annotation"] = {
                "purpose": result.annotation["purpose"],
                "valid_until": result.annotation["valid_until"].isoformat(),
                "expired": result.state == "expired",
            }
        if row["status"] == "void":
            answer["voided_at"] = row["voided_at"].isoformat() if row["voided_at"] else None
            answer["void_remark"] = row["void_remark"]
    return answer


# --- voiding and the void notice ---------------------------------------------------------------------------


async def void_certificate(tenant: Tenant, principal: Principal, certificate_id: int, remark: str) -> None:
    """Voiding needs a remark (钦人社发〔2020〕1号 附件2 三) and is for the tenant's administrators or an org
    administrator of the issuing authority."""
    if not remark.strip():
        raise IssueError("作废须填写备注", "remark")
    row = await _certificate(tenant, certificate_id)
    if Role.tenant_admin not in principal.roles:
        authority = await Org.select(Org.code).where(Org.id == row["authority"]).first()
        if authority is None or authority["code"] not in principal.orgs_with(Role.org_admin):
            raise IssueError("只有发证机关的单位管理员或地区管理员可以作废证书")
    if row["status"] == "void":
        raise IssueError("证书已作废")
    await Certificate.update(
        {
            Certificate.status: "void",
            Certificate.voided_at: datetime.now(UTC),
            Certificate.void_remark: remark.strip(),
            Certificate.voided_by: principal.account_id,
        }
    ).where(Certificate.id == certificate_id)
    await record(
        tenant,
        Actor(principal.actor_label),
        "certificate.void",
        f"certificate:{certificate_id}",
        {"number": row["number"], "remark": remark.strip()},
    )


async def voided_certificates(tenant: Tenant, year: int) -> list[dict[str, Any]]:
    """The yearly void notice (作废公告, 甘职改办〔2020〕2号 五(二)): certificates voided in that year."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    return (
        await Certificate.select(
            Certificate.number,
            Certificate.holder_name,
            Certificate.issuer_name,
            Certificate.voided_at,
            Certificate.void_remark,
            Certificate.fields,
        )
        .where(
            Certificate.tenant == tenant.id,
            Certificate.status == "void",
            Certificate.voided_at >= start,
            Certificate.voided_at < end,
        )
        .order_by(Certificate.voided_at)
        .output(load_json=True)
    )


async def replaced_paper_certificates(tenant: Tenant, year: int) -> list[dict[str, Any]]:
    """Lost paper certificates replaced by a reissue that year (甘职改办〔2020〕2号 五(二))."""
    return (
        await Certificate.select(
            Certificate.replaces_paper_number,
            Certificate.holder_name,
            Certificate.issuer_name,
            Certificate.issue_date,
            Certificate.number,
            Certificate.fields,
        )
        .where(
            Certificate.tenant == tenant.id,
            Certificate.replaces_paper_number.is_not_null(),
            Certificate.issue_date >= date(year, 1, 1),
            Certificate.issue_date <= date(year, 12, 31),
        )
        .order_by(Certificate.issue_date)
        .output(load_json=True)
    )


async def recent_certificates(tenant: Tenant, principal: Principal, limit: int = 100) -> list[dict[str, Any]]:
    """The tenant's administrators see every certificate; an org administrator those issued by their orgs
    and the orgs below them."""
    query = Certificate.select(Certificate.all_columns()).where(Certificate.tenant == tenant.id)
    if Role.tenant_admin not in principal.roles:
        tree = await org_tree(tenant)
        codes = [
            code
            for own in principal.orgs_with(Role.org_admin)
            if own in tree
            for code in (own, *tree.descendants(own))
        ]
        query = query.where(Certificate.authority.code.is_in(codes or [""]))
    return await query.order_by(Certificate.id, ascending=False).limit(limit).output(load_json=True)


def obtained_year(certificate: Mapping[str, Any]) -> int:
    """获得职称年度: the year the title was obtained, from the field printed on the certificate
    (“2016年12月30日”)."""
    return int(certificate["fields"]["obtained_on"][:4])


async def holder_certificates(tenant: Tenant, id_number: str) -> list[dict[str, Any]]:
    """我的电子证书: the holder's certificates by 获得职称年度 (newest first), then 职称名称 — the order in
    which the applicant chooses them in 甘职改办〔2020〕2号 (七) 第三步."""
    rows = await (
        Certificate.select()
        .where(
            Certificate.tenant == tenant.id,
            Certificate.holder_id_hash == lookup_hash(id_number, context=f"tenant:{tenant.slug}"),
        )
        .order_by(Certificate.issue_date, ascending=False)
        .output(load_json=True)
    )
    return sorted(rows, key=lambda row: (-obtained_year(row), row["fields"]["title_name"]))


def pick_certificates(
    rows: list[dict[str, Any]], *, year: int | None = None, title_name: str | None = None
) -> list[dict[str, Any]]:
    """The holder's choice of 获得职称年度 and 获得职称名称 (第三步); None keeps every one."""
    return [
        row
        for row in rows
        if (year is None or obtained_year(row) == year)
        and (title_name is None or row["fields"]["title_name"] == title_name)
    ]


# --- annotated copies (加注件) ------------------------------------------------------------------------------

ANNOTATION_MAX_DAYS = 366
PURPOSE_MAX = 30


async def annotate(
    tenant: Tenant, principal: Principal, certificate_id: int, purpose: str, valid_until: date
) -> bytes:
    """A copy of the holder's own certificate stamped with a purpose and a validity date, with its own signed
    QR token, and signed again (the issued signature stays valid for the bytes it covers)."""
    if principal.account_id is None:
        raise IssueError("请先登录")
    account = (
        await Account.select().where(Account.tenant == tenant.id, Account.id == principal.account_id).first()
    )
    number = pii_decrypt(account["id_number_cipher"], context=f"tenant:{tenant.slug}") if account else None
    mine = {row["id"]: row for row in (await holder_certificates(tenant, number) if number else [])}
    row = mine.get(certificate_id)
    if row is None:
        raise IssueError("证书不存在")
    if row["status"] == "void":
        raise IssueError("已作废的证书不能制作加注件")
    purpose = " ".join(purpose.split())
    if not purpose:
        raise IssueError("请填写事由", "purpose")
    if len(purpose) > PURPOSE_MAX:
        raise IssueError(f"事由最多{PURPOSE_MAX}个字", "purpose")
    today = date.today()
    if not today <= valid_until <= today + timedelta(days=ANNOTATION_MAX_DAYS):
        raise IssueError("有效期应在今天到一年之内", "valid_until")
    copy = AnnotatedCopy(
        tenant=tenant.id,
        certificate=row["id"],
        purpose=purpose,
        valid_until=valid_until,
        created_at=datetime.now(UTC),
    )
    await copy.save()
    claims = Claims(
        tenant_id=tenant.id,
        number=row["number"],
        holder_name=row["holder_name"],
        id_head=row["fields"]["id_number"][:6],
        id_tail=row["fields"]["id_number"][-4:],
        title_name=row["fields"]["title_name"],
        issue_date=row["issue_date"],
        annotation_id=copy.id,
        valid_until=valid_until,
    )
    url = verification_url(get_settings().public_url, make_token(tenant.slug, claims))
    stamped = stamp_annotation(
        read_bytes(row["pdf_sha256"]),
        [
            f"加注件 · 事由：{purpose}",
            f"有效期至 {_chinese_date(valid_until)} · 仅限上述事由使用，扫描右侧二维码核验",
        ],
        url,
        today,
    )
    signed = await sign_certificate_pdf_async(
        stamped,
        slug=tenant.slug,
        authority_name=row["issuer_name"],
        reason="职称电子证书加注件",
        field_name="AnnotatedCopySignature",
    )
    digest = store_bytes(signed)
    await AnnotatedCopy.update({AnnotatedCopy.pdf_sha256: digest}).where(AnnotatedCopy.id == copy.id)
    await record(
        tenant,
        Actor(principal.actor_label),
        "certificate.annotate",
        f"certificate:{row['id']}",
        {"copy": copy.id, "purpose": purpose, "valid_until": valid_until.isoformat()},
    )
    return signed


# --- checking a PDF file ------------------------------------------------------------------------------------

# Each check of a file from outside costs a child process and up to its CPU cap (certificates.signing).
FILE_CHECK_LIMIT_PER_MINUTE = 10  # per client address and tenant
TOO_COMPLEX = "文件过于复杂，无法在限定时间内检查。请上传本平台签发的电子证书或加注件 PDF 原文件"


class FileCheckError(ValueError):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class FileCheck:
    signature_valid: bool
    signature_reason: str
    issued: bool  # the very file we issued (a certificate or an annotated copy)
    number: str = ""
    voided: bool = False  # the certificate (of the copy) has been voided since
    void_remark: str = ""


async def file_check_wait(tenant: Tenant, client: str) -> int | None:
    """Counts one file check for the client address; the seconds to wait instead when over the limit."""
    return await take_attempt(tenant, f"file-check:{client}", FILE_CHECK_LIMIT_PER_MINUTE)


def file_check_throttle_message(seconds: int) -> str:
    return f"核验次数过多，请{seconds}秒后再试"


async def check_file(tenant: Tenant, pdf: bytes) -> FileCheck:
    try:
        result = await verify_untrusted_pdf(pdf, slug=tenant.slug)
    except SandboxError:  # out of time or memory: crafted or pathological, either way not our certificate
        raise FileCheckError(TOO_COMPLEX) from None
    digest = hashlib.sha256(pdf).hexdigest()
    row = (
        await Certificate.select(Certificate.number, Certificate.status, Certificate.void_remark)
        .where(Certificate.tenant == tenant.id, Certificate.pdf_sha256 == digest)
        .first()
    )
    if row is None:
        row = (
            await AnnotatedCopy.select(
                AnnotatedCopy.certificate.number.as_alias("number"),
                AnnotatedCopy.certificate.status.as_alias("status"),
                AnnotatedCopy.certificate.void_remark.as_alias("void_remark"),
            )
            .where(AnnotatedCopy.tenant == tenant.id, AnnotatedCopy.pdf_sha256 == digest)
            .first()
        )
    if row is None:
        return FileCheck(result.valid, result.reason, False)
    return FileCheck(
        result.valid,
        result.reason,
        True,
        row["number"],
        voided=row["status"] == "void",
        void_remark=row["void_remark"],
    )
