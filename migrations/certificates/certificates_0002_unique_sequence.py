"""(tenant, year) of certificate_sequence is unique: the conflict target of the numbering's
``INSERT … ON CONFLICT ("tenant", "year") DO NOTHING`` (certificates.numbering), so two first issues of a
year cannot create two sequences (both engines accept a unique index as an ON CONFLICT target)."""

from core.migrations import index_migration

ID = "2026-11-23T10:45:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique index on certificate_sequence (tenant, year)"

forwards = index_migration(
    ID,
    "certificates",
    DESCRIPTION,
    unique={
        "certificate_sequence_tenant_year": 'ON "certificate_sequence" ("tenant", "year")',
    },
)
