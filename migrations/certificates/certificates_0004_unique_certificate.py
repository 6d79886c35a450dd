"""A certificate number is unique per tenant, an e-licence identifier everywhere."""

from core.migrations import index_migration

ID = "2026-11-23T10:55:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes on certificate numbers and identifiers"

forwards = index_migration(
    ID,
    "certificates",
    DESCRIPTION,
    unique={
        "certificate_tenant_number": 'ON "certificate" ("tenant", "number")',
        "certificate_licence_identifier": 'ON "certificate" ("licence_identifier")',
    },
)
