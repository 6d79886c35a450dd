"""Tables of the certificates package."""

from piccolo.columns import ForeignKey, Integer
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tenants.tables import Tenant


class CertificateSequence(Table, tablename="certificate_sequence"):
    """The last certificate number handed out per tenant and year. Only ``certificates.numbering`` writes it,
    inside the caller's write transaction, so a rolled-back issue gives its number back (gapless).
    (tenant, year) is unique: a unique index made by migration certificates_0002."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict)
    year = Integer()
    last = Integer(default=0)
