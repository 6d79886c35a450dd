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


def default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'zhicheng.sqlite3'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or default_database_url(),
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8000")),
        debug=os.environ.get("ZHICHENG_DEBUG", "") == "1",
        public_url=(
            os.environ.get("ZHICHENG_PUBLIC_URL") or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
        ).rstrip("/"),
    )
