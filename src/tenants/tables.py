"""Tables of the tenants package. Every row below ``Tenant`` carries its tenant."""

from piccolo.columns import JSON, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
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
    # "licence_type_code" | null, "issuer_code" | null, "validity", "notices": {"e_certificates"?,
    # "void_notice"?} (the tenant's own notices its public pages cite)}.
    certificate_settings = JSON(default={})
    # The tenant's 职称系列 vocabulary (presets ``series``), offered by the procedures' series fields.
    series = JSON(default=[])


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


class CalendarYear(Table, tablename="calendar_year"):
    """A year whose State Council holiday arrangement the tenant's calendar holds. A year without this row is
    unknown, and dates in it are never guessed (the notice for a year comes out late in the year before)."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.cascade)
    year = Integer()
    source = Varchar(length=16)  # "package" (seeded from chinese-calendar) or "admin" (entered in the UI)
    updated_at = Timestamptz()

    # (tenant, year) is unique: a unique index made by migration 0006.


class HolidayDay(Table, tablename="holiday_day"):
    """One override of the Monday–Friday week: a public holiday, or a make-up working day (调休上班),
    usually a weekend day. It belongs to the known year of its own date."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.cascade)
    day = Date()
    kind = Varchar(length=16)  # "holiday" or "workday"
    name = Varchar(length=64)

    # (tenant, day) is unique: a unique index made by migration 0006.


class ProcedureConfig(Table, tablename="procedure_config"):
    """One procedure's definition (tenants.procedures) as the YAML text an administrator reviews and edits."""

    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.cascade)
    procedure = Varchar(length=32)
    source = Text()
    updated_at = Timestamptz()
    updated_by = Varchar(length=64, default="system")

    # (tenant, procedure) is unique: a unique index made by migration 0008.
