"""Tables of the tenants package. Every row below ``Tenant`` carries its tenant."""

from piccolo.columns import JSON, ForeignKey, Integer, Text, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class Tenant(Table, tablename="tenant"):
    slug = Varchar(length=32, unique=True)
    name = Varchar(length=64)
    authority_name = Varchar(length=128)
    division_code = Varchar(length=6)
    theme_color = Varchar(length=7)
    procedures = JSON(default=[])
    portal_links = JSON(default=[])
    frame_ancestors = JSON(default=[])
    contacts = JSON(default=[])
    # Sign-in and session settings: {"session_idle_minutes", "session_max_hours", "oidc": {…} | null}.
    auth = JSON(default={})
    # Certificate numbering and e-licence settings (presets ``tenant.certificates``): {"number_pattern",
    # "licence_type_code" | null, "issuer_code" | null, "validity"}.
    certificate_settings = JSON(default={})


class Org(Table, tablename="org"):
    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.cascade)
    code = Varchar(length=64)
    name = Varchar(length=128)
    kind = Varchar(length=32)
    parent = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    division_code = Varchar(length=6, null=True, default=None)
    position = Integer()

    # (tenant, code) is unique: a unique index made by migration 0001 (SQLite cannot add table constraints).


class AuthorityRule(Table, tablename="authority_rule"):
    """One row of a tenant's decision table for one procedure; rows are tried in ``position`` order."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.cascade)
    procedure = Varchar(length=32)
    position = Integer()
    rule_id = Varchar(length=96)
    citation = Varchar(length=200)
    note = Text()
    conditions = JSON(default={})
    authority = JSON(default=[])
    walk_from = Varchar(length=16, default="employer")
    refusal = Text(null=True, default=None)

    # (tenant, rule_id) is unique: a unique index made by migration 0001.
