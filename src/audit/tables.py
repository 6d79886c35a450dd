from piccolo.columns import JSON, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tenants.tables import Tenant


class AuditEvent(Table, tablename="audit_event"):
    """Append-only: rows are only ever inserted. Each carries the digest of the tenant's previous event, so a
    changed or removed row breaks the chain (``zhicheng audit verify``); (tenant, seq) is unique."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict)
    seq = Integer()
    at = Timestamptz()
    actor = Varchar(length=128)  # "account:<id>" or "anonymous" or "system"
    role = Varchar(length=32, null=True, default=None)
    org_code = Varchar(length=64, null=True, default=None)
    action = Varchar(length=64)
    subject = Varchar(length=128)
    details = JSON(default={})
    prev_digest = Varchar(length=64)
    digest = Varchar(length=64)
