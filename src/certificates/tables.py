"""Tables of the certificates package."""

from piccolo.columns import JSON, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from accounts.tables import Account
from seals.tables import SealVersion, TemplateVersion
from tenants.tables import Org, Tenant


class CertificateSequence(Table, tablename="certificate_sequence"):
    """The last certificate number handed out per tenant and year. Only ``certificates.numbering`` writes it,
    inside the caller's write transaction, so a rolled-back issue gives its number back (gapless).
    (tenant, year) is unique: a unique index made by migration certificates_0002."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict)
    year = Integer()
    last = Integer(default=0)


class Certificate(Table, tablename="certificate"):
    """An issued electronic certificate with the GB/T 36903 metadata (identifier, type, number, name, issuer
    name and code, issue date, holder, holder ID type, jurisdiction code, validity, status). The PDF is
    rendered from (fields, template version, seal version) and can be rendered again byte for byte; its
    SHA-256 is kept. (tenant, number) and licence_identifier are unique (migration certificates_0004)."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict)
    number = Varchar(length=64)
    year = Integer()
    licence_identifier = Varchar(length=128)
    licence_type_code = Varchar(length=32)
    name = Varchar(length=64)  # the certificate's name, e.g. 甘肃省职称证书
    issuer_name = Varchar(length=128)
    issuer_code = Varchar(length=18)
    issue_date = Date()
    holder_name = Varchar(length=64)
    holder_id_type = Varchar(length=16, default="居民身份证")
    holder_id_cipher = Text()
    holder_id_hash = Varchar(length=64, index=True)
    jurisdiction_code = Varchar(length=6)
    validity = Varchar(length=32, default="长期")
    status = Varchar(length=16, default="valid")  # valid | void
    voided_at = Timestamptz(null=True, default=None)
    void_remark = Text(default="")
    # A reissue (甘职改办〔2020〕2号) replaces a lost paper certificate, which the yearly void notice lists.
    replaces_paper_number = Varchar(length=64, null=True, default=None)
    voided_by = ForeignKey(Account, null=True, default=None, on_delete=OnDelete.restrict)
    authority = ForeignKey(Org, null=False, on_delete=OnDelete.restrict)
    seal = ForeignKey(SealVersion, null=False, on_delete=OnDelete.restrict)
    template = ForeignKey(TemplateVersion, null=False, on_delete=OnDelete.restrict)
    fields = JSON(default={})  # what the PDF shows, as rendered
    qr_text = Text()
    pdf_sha256 = Varchar(length=64)
    created_at = Timestamptz()


class AnnotatedCopy(Table, tablename="annotated_copy"):
    """加注件: a copy of a certificate the holder made for one stated purpose (事由), valid until a date; the
    purpose and validity are stamped on the copy and covered by its own signed QR token."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict)
    certificate = ForeignKey(Certificate, null=False, on_delete=OnDelete.restrict)
    purpose = Varchar(length=60)
    valid_until = Date()
    pdf_sha256 = Varchar(length=64, default="")
    created_at = Timestamptz()
