from piccolo.columns import JSON, ForeignKey, Timestamptz
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tenants.tables import Tenant


class DemoLoad(Table, tablename="demo_load"):
    """One row per tenant whose demo data is loaded: what makes every page carry the demo banner and makes
    ``zhicheng load-demo`` a no-op the second time. ``summary`` keeps the demo accounts (user names, what they
    are; the password is the documented demo password) and certificates for the command's output."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.cascade)
    loaded_at = Timestamptz()
    summary = JSON(default={})
