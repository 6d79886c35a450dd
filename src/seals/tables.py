"""Tables of the seals package: authorities' seals with their versions, and certificate template versions.
Images and PDFs live in the content-addressed file store (core.storage); rows keep their SHA-256."""

from piccolo.columns import JSON, ForeignKey, Integer, Real, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from accounts.tables import Account
from tenants.tables import Org, Tenant


class SealVersion(Table, tablename="seal_version"):
    """One captured imprint of an authority's seal (印模). A new capture is a new version; an issued
    certificate keeps the version it was stamped with. (tenant, org, version) is unique (migration)."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict)
    org = ForeignKey(Org, null=False, on_delete=OnDelete.restrict)
    version = Integer()
    name = Varchar(length=128)  # the text of the seal, e.g. 甘肃省职称改革办公室 or XX厅职称管理专用章
    stamp_sha256 = Varchar(length=64)  # transparent PNG
    source_sha256 = Varchar(length=64)  # the uploaded scan
    width_mm = Real()
    height_mm = Real()
    dpi = Real()
    operator = Varchar(length=64)  # 操作人员 (seed 002 附件2 三(四)3)
    leader = Varchar(length=64)  # 分管领导
    created_by = ForeignKey(Account, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz()


class TemplateVersion(Table, tablename="template_version"):
    """A certificate template: a normalised background PDF and its layout. Unique: (tenant, kind, version)."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict)
    kind = Varchar(length=32, default="title_certificate")
    version = Integer()
    background_sha256 = Varchar(length=64)
    layout = JSON(default={})
    created_by = ForeignKey(Account, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
