"""The sandbox's children per app process are capped: a request beyond the cap waits for a slot instead of
starting one more child."""

from __future__ import annotations

import asyncio
import json

from core import sandbox


async def test_a_child_beyond_the_cap_waits_for_a_slot() -> None:
    for _ in range(sandbox.CHILD_SLOTS):  # every slot taken, as by that many running children
        await sandbox.child_slots.acquire()
    try:
        # json.tool reads stdin and writes stdout, like our workers; any module would do.
        waiting = asyncio.create_task(
            sandbox.run_limited("json.tool", b'{"a": 1}', seconds=30, memory=0, cpu=0)
        )
        await asyncio.sleep(1.0)  # ample for a child to start and answer, had it been let in
        assert not waiting.done()
    finally:
        for _ in range(sandbox.CHILD_SLOTS):
            sandbox.child_slots.release()
    assert json.loads(await asyncio.wait_for(waiting, 30)) == {"a": 1}
