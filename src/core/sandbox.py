"""Running a parser over untrusted bytes in a child process with memory and CPU caps and a wall-clock
timeout: a crafted PDF or image can make a parser loop or balloon, and then only the child dies.

The child is ``python -m <module>``; it calls ``apply_limits()`` first, reads the bytes from stdin and writes
its answer to stdout.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys


class SandboxError(RuntimeError):
    pass


class SandboxTimeout(SandboxError):
    pass


# At most this many children at once per app process: many visitors (each within their own rate limit) would
# otherwise start a child each, and together exhaust memory (each may take its cap) and the cores. The rest
# wait for a slot; the wall-clock limit counts from the child's start.
CHILD_SLOTS = 2 * (os.cpu_count() or 1)
child_slots = asyncio.Semaphore(CHILD_SLOTS)


async def run_limited(module: str, data: bytes, *, seconds: float, memory: int, cpu: int) -> bytes:
    async with child_slots:
        return await _run_child(module, data, seconds=seconds, memory=memory, cpu=cpu)


async def _run_child(module: str, data: bytes, *, seconds: float, memory: int, cpu: int) -> bytes:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={"SANDBOX_MEMORY": str(memory), "SANDBOX_CPU": str(cpu), "PYTHONPATH": ":".join(sys.path)},
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(data), timeout=seconds)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise SandboxTimeout(module) from None
    if process.returncode != 0:
        raise SandboxError(f"{module} exited with {process.returncode}")
    return output


def apply_limits() -> None:
    memory = int(os.environ.get("SANDBOX_MEMORY", "0"))
    cpu = int(os.environ.get("SANDBOX_CPU", "0"))
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if cpu:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
