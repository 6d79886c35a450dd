"""Tables of the accounts package. Unique indexes are made by migration accounts_0002."""

from piccolo.columns import JSON, Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tenants.tables import Org, Tenant


class Account(Table, tablename="account"):
    """An applicant (keyed by ID number) or a staff member (keyed by user name), within one tenant."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict)
    kind = Varchar(length=16)
    name = Varchar(length=64)
    username = Varchar(length=64, null=True, default=None)  # staff; unique per tenant
    id_number_cipher = Text(null=True, default=None)  # AES-GCM, see accounts.secrets
    id_number_hash = Varchar(length=64, null=True, default=None)  # keyed hash; unique per tenant
    password_hash = Text(null=True, default=None)
    must_change_password = Boolean(default=False)
    disabled = Boolean(default=False)
    oidc_subject = Varchar(length=255, null=True, default=None)
    # Applicants: the employer or archive agency they are filed under (its administrators look after them).
    org = ForeignKey(Org, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz()


class RoleGrant(Table, tablename="role_grant"):
    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict)
    account = ForeignKey(Account, null=False, on_delete=OnDelete.cascade)
    org = ForeignKey(Org, null=False, on_delete=OnDelete.restrict)
    role = Varchar(length=16)
    granted_at = Timestamptz()


class WebSession(Table, tablename="web_session"):
    """Server-side session. The cookie holds a random token; only its SHA-256 is stored."""

    token_hash = Varchar(length=64, unique=True)
    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.cascade)
    account = ForeignKey(Account, null=True, default=None, on_delete=OnDelete.cascade)
    csrf_token = Varchar(length=64)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    data = JSON(default={})


class SignInAttempt(Table, tablename="sign_in_attempt"):
    """One failed sign-in, counted per account and per client address for rate limiting; also one public
    file check per client address (``accounts.services.take_attempt``)."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.cascade)
    bucket = Varchar(length=96, index=True)
    at = Timestamptz()


class UnitAdminApplication(Table, tablename="unit_admin_application"):
    """A request to become an employer's first unit administrator, with the stamped form (seed 003 三(二))."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict)
    account = ForeignKey(Account, null=False, on_delete=OnDelete.cascade)
    org = ForeignKey(Org, null=False, on_delete=OnDelete.restrict)
    form_sha256 = Varchar(length=64)
    status = Varchar(length=16, default="pending")
    decided_by = ForeignKey(Account, null=True, default=None, on_delete=OnDelete.restrict)
    decided_at = Timestamptz(null=True, default=None)
    reason = Text(default="")
    created_at = Timestamptz()
