"""Per-tenant uniqueness for accounts and role grants, and the sign-in throttle's look-up index."""

from core.migrations import index_migration

ID = "2026-11-23T10:19:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes on accounts and role grants"

forwards = index_migration(
    ID,
    "accounts",
    DESCRIPTION,
    unique={
        "account_tenant_username": 'ON "account" ("tenant", "username")',
        "account_tenant_id_number_hash": 'ON "account" ("tenant", "id_number_hash")',
        "role_grant_account_org_role": 'ON "role_grant" ("account", "org", "role")',
    },
    plain={
        "sign_in_attempt_tenant_bucket_at": 'ON "sign_in_attempt" ("tenant", "bucket", "at")',
    },
)
