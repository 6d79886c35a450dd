"""More indexes for the reviewer queue (cases.queue), beside case_file_queue of cases_0002:

- case_file_queue_state: the capped counts per procedure and state read only this index, one range of
  (current_org, current_role, procedure, state) each; a list narrowed to one state keeps queue order from it.
- case_file_queue_tail: the search by the last four ID digits, one range per queue, already in queue order.
- case_file_queue_name: the search by a name or its beginning, as a range of names. The range needs names
  ordered by code point: SQLite's default (BINARY) collation is; on PostgreSQL the index and the query use
  COLLATE "C", so the database's own collation (en_US, zh_CN…) does not matter.
"""

from piccolo.engine import engine_finder

from core.migrations import index_migration

ID = "2026-11-23T12:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "queue indexes for counts by state and the search by ID tail and name"

_engine = engine_finder()
_NAME = (
    '"holder_name" COLLATE "C"'
    if _engine is not None and _engine.engine_type == "postgres"
    else '"holder_name"'
)
_QUEUE = '"current_org", "current_role", "procedure"'

forwards = index_migration(
    ID,
    "cases",
    DESCRIPTION,
    unique={},
    plain={
        "case_file_queue_state": f'ON "case_file" ({_QUEUE}, "state", "queued_at", "id")',
        "case_file_queue_tail": f'ON "case_file" ({_QUEUE}, "holder_id_tail", "queued_at", "id")',
        "case_file_queue_name": f'ON "case_file" ({_QUEUE}, {_NAME})',
    },
)
