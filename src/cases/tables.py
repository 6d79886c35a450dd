"""Tables of the cases package. Every row carries its tenant; indexes are made by migration cases_0002."""

from piccolo.columns import JSON, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from accounts.tables import Account
from certificates.tables import Certificate
from tenants.tables import Org, Tenant


class Case(Table, tablename="case_file"):
    """One application. ``version`` grows with every change: an action names the version it saw, and loses
    (told so) when someone else changed the case first. ``current_org``/``current_role`` say who must act
    now; they are empty unless the case waits in somebody's queue."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict)
    procedure = Varchar(length=32)
    state = Varchar(length=16)
    version = Integer(default=1)
    filed_by = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    filer_org = ForeignKey(Org, null=True, default=None, on_delete=OnDelete.restrict)
    employer = ForeignKey(Org, null=True, default=None, on_delete=OnDelete.restrict)
    authority = ForeignKey(Org, null=True, default=None, on_delete=OnDelete.restrict)
    holder_name = Varchar(length=64, default="")
    holder_id_cipher = Text(null=True, default=None)  # AES-GCM, see accounts.secrets
    holder_id_hash = Varchar(length=64, null=True, default=None)  # keyed hash, to find a holder's cases
    holder_id_tail = Varchar(length=4, default="")  # the last four digits, for the queue's search
    level = Varchar(length=32, default="")
    series = Varchar(length=64, default="")
    data = JSON(default={})
    plan = JSON(default=[])
    step = Integer(default=0)
    current_org = ForeignKey(Org, null=True, default=None, on_delete=OnDelete.restrict)
    current_role = Varchar(length=16, null=True, default=None)
    queued_at = Timestamptz(null=True, default=None)
    return_reason = Text(null=True, default=None)
    decision_reason = Text(null=True, default=None)
    certificate = ForeignKey(Certificate, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None)
    completed_at = Timestamptz(null=True, default=None)


class CaseEvent(Table, tablename="case_event"):
    """What happened to a case, step by step (also written to the hash-chained audit log)."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict)
    case = ForeignKey(Case, null=False, on_delete=OnDelete.cascade)
    at = Timestamptz()
    account = ForeignKey(Account, null=True, default=None, on_delete=OnDelete.restrict)
    actor_name = Varchar(length=64, default="")
    role = Varchar(length=16, null=True, default=None)
    org = ForeignKey(Org, null=True, default=None, on_delete=OnDelete.restrict)
    action = Varchar(length=24)
    from_state = Varchar(length=16)
    to_state = Varchar(length=16)
    step = Integer(default=0)
    reason = Text(null=True, default=None)
    diff = JSON(default={})


class Attachment(Table, tablename="case_attachment"):
    """An uploaded file, stored content-addressed outside the database; one per slot of a case."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict)
    case = ForeignKey(Case, null=False, on_delete=OnDelete.cascade)
    slot = Varchar(length=40)
    filename = Varchar(length=200)
    media_type = Varchar(length=40)
    size = Integer()
    sha256 = Varchar(length=64)
    pages = Integer(null=True, default=None)
    width = Integer(null=True, default=None)
    height = Integer(null=True, default=None)
    uploaded_by = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    uploaded_at = Timestamptz()
