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


async def run_limited(module: str, data: bytes, *, seconds: float, memory: int, cpu: int) -> bytes:
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
