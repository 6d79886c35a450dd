"""`zhicheng` command line: migrate, load presets, serve."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")


async def migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all")
    if not result.success:
        raise SystemExit(f"迁移失败：{result.message}")


async def load_presets() -> None:
    from core import db
    from tenants.presets import PresetError
    from tenants.services import load_all_presets
    from tenants.tables import Tenant

    engine = Tenant._meta.db
    await db.start(engine)
    try:
        for report in await load_all_presets():
            print(report.summary())
    except PresetError as error:
        raise SystemExit(f"预置文件有误，未加载任何内容：{error}") from None
    finally:
        await db.stop(engine)


def serve() -> None:
    import uvicorn

    from settings import get_settings

    settings = get_settings()
    uvicorn.run("app:app", host=settings.host, port=settings.port, proxy_headers=True, log_level="info")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="zhicheng", description="职称电子证书平台")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("load-presets", help="create or update the tenants from src/tenants/presets/*.yaml")
    commands.add_parser("serve", help="serve HTTP on HOST:PORT (default 127.0.0.1:8000)")
    commands.add_parser("setup", help="migrate, then load presets")
    args = parser.parse_args(argv)
    if args.command in ("migrate", "setup"):
        asyncio.run(migrate())
    if args.command in ("load-presets", "setup"):
        asyncio.run(load_presets())
    if args.command == "serve":
        serve()


if __name__ == "__main__":
    main(sys.argv[1:])
