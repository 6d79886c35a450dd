"""Indexes of the cases tables (core.migrations says why these are not table constraints).

The queue reads the cases waiting for one org and role, oldest first, per procedure (keyset paging on
(queued_at, id)); a holder's cases are found by the keyed hash of the ID number; a filer lists their own.
"""

from core.migrations import index_migration

ID = "2026-11-23T12:17:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "queue, holder and filer indexes on case_file; one attachment per slot; events per case"

forwards = index_migration(
    ID,
    "cases",
    DESCRIPTION,
    unique={"case_attachment_case_slot": 'ON "case_attachment" ("case", "slot")'},
    plain={
        "case_file_queue": 'ON "case_file" ("current_org", "current_role", "procedure", "queued_at", "id")',
        "case_file_holder": 'ON "case_file" ("tenant", "holder_id_hash", "procedure")',
        "case_file_filer": 'ON "case_file" ("filed_by", "updated_at")',
        "case_file_procedure_state": 'ON "case_file" ("tenant", "procedure", "state", "employer")',
        "case_event_case": 'ON "case_event" ("case", "at")',
    },
)
