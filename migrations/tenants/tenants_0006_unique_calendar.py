"""Per-tenant uniqueness of calendar years and holiday days (core.migrations says why these are indexes)."""

from core.migrations import index_migration

ID = "2026-11-23T12:14:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes on calendar_year (tenant, year) and holiday_day (tenant, day)"

forwards = index_migration(
    ID,
    "tenants",
    DESCRIPTION,
    unique={
        "calendar_year_tenant_year": 'ON "calendar_year" ("tenant", "year")',
        "holiday_day_tenant_day": 'ON "holiday_day" ("tenant", "day")',
    },
)
