"""Process-wide settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    host: str
    port: int
    debug: bool
    public_url: str  # where certificates' QR codes point; the scheme and host the public reaches us at

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def default_public_url(host: str, port: int) -> str:
    """Where `zhicheng serve` is reached when ZHICHENG_PUBLIC_URL does not say: its own HOST and PORT, or this
    machine for a server listening on every address."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'zhicheng.sqlite3'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or default_database_url(),
        host=host,
        port=port,
        debug=os.environ.get("ZHICHENG_DEBUG", "") == "1",
        public_url=(os.environ.get("ZHICHENG_PUBLIC_URL") or default_public_url(host, port)).rstrip("/"),
    )
