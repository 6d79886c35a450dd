"""Content-addressed file storage outside the database: a file is named by its SHA-256.

Local directory by default (``ZHICHENG_FILES_DIR``, default ``var/files``); several app processes share it
when it is a shared mount.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from settings import PROJECT_ROOT


def files_dir() -> Path:
    return Path(os.environ.get("ZHICHENG_FILES_DIR") or PROJECT_ROOT / "var" / "files")


def path_of(digest: str) -> Path:
    if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
        raise ValueError("not a SHA-256 hex digest")
    return files_dir() / digest[:2] / digest


def store_bytes(content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()
    target = path_of(digest)
    if not target.exists():
        write_atomically(target, content)
    return digest


def write_atomically(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(content)
    partial.replace(target)  # atomic: readers never see half a file


def read_bytes(digest: str) -> bytes:
    return path_of(digest).read_bytes()
