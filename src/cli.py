"""`zhicheng` command line: migrate, load presets, serve, verify the audit log, re-encrypt ID numbers."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")


async def migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all")
    if not result.success:
        raise SystemExit(f"迁移失败：{result.message}")


def database() -> AbstractAsyncContextManager[None]:
    from core import db
    from tenants.tables import Tenant

    return db.running(Tenant._meta.db)


async def load_presets() -> None:
    from seals.services import ensure_default_template
    from tenants.calendar import seed_calendar_from_package
    from tenants.presets import PresetError
    from tenants.services import list_tenants, load_all_presets

    async with database():
        try:
            for report in await load_all_presets():
                print(report.summary())
        except PresetError as error:
            raise SystemExit(f"预置文件有误，未加载任何内容：{error}") from None
        for tenant in await list_tenants():
            if await ensure_default_template(tenant):
                print(f"{tenant.slug}: 已生成默认证书模板")
            if years := await seed_calendar_from_package(tenant):
                print(f"{tenant.slug}: 已载入{years}个年度的法定节假日安排")


async def audit_verify(slug: str | None) -> None:
    """One line per tenant; exit status 1 when any tenant's chain is broken, 2 for an unknown tenant."""
    from audit.services import verify_chain
    from tenants.tables import Tenant

    async with database():
        query = Tenant.objects().order_by(Tenant.id)
        if slug is not None:
            query = query.where(Tenant.slug == slug)
        tenants = await query
        if not tenants:
            print(f"no tenant {slug!r}" if slug else "no tenants", file=sys.stderr)
            raise SystemExit(2)
        broken = False
        for tenant in tenants:
            report = await verify_chain(tenant)
            if report.intact:
                print(f"{report.tenant}: {report.events} events, chain intact")
            else:
                broken = True
                print(f"{report.tenant}: BROKEN at event {report.first_broken_seq}: {report.reason}")
    if broken:
        raise SystemExit(1)


async def rotate_pii_key() -> None:
    from accounts.key_rotation import ReencryptionError, reencrypt_id_numbers
    from accounts.secrets import KeyConfigurationError, pii_keys

    async with database():
        try:
            count = await reencrypt_id_numbers()
        except (KeyConfigurationError, ReencryptionError) as error:
            raise SystemExit(f"re-encryption stopped: {error}") from None
    print(f"re-encrypted {count} ID numbers with key {pii_keys().current_id}")


async def create_staff(slug: str, org_code: str, role: str, username: str, name: str) -> None:
    """A staff account with a one-time password, for the first administrator of a fresh installation."""
    from accounts.roles import Role
    from accounts.services import AccountError
    from accounts.services import create_staff as create
    from audit.services import SYSTEM
    from tenants.services import get_tenant
    from tenants.tables import Org

    async with database():
        tenant = await get_tenant(slug)
        if tenant is None:
            raise SystemExit(f"no tenant {slug!r}")
        org = await Org.select(Org.id).where(Org.tenant == tenant.id, Org.code == org_code).first()
        if org is None:
            raise SystemExit(f"no org {org_code!r} in {slug}")
        try:
            _, password = await create(
                tenant, SYSTEM, name=name, username=username, grants=[(org["id"], Role(role))]
            )
        except AccountError as error:
            raise SystemExit(f"{error.field}: {error.message}") from None
    print(f"created {username} ({role} at {org_code}); one-time password: {password}")
    print(f"sign in at /t/{slug}/signin and change it")


async def demo_certificate(slug: str) -> tuple[dict[str, Any], bytes]:
    """A sample certificate issued through the same service the workflow uses, by the tenant's top authority,
    under a plainly marked sample seal if the authority has none yet."""
    from datetime import date

    from audit.services import SYSTEM
    from certificates.services import Holder, Title, issue_certificate
    from core.storage import read_bytes
    from demo.loader import ensure_sample_seal
    from tenants.services import get_tenant
    from tenants.tables import Org

    async with database():
        tenant = await get_tenant(slug)
        if tenant is None:
            raise SystemExit(f"no tenant {slug!r}")
        authority = await Org.select().where(Org.tenant == tenant.id, Org.parent.is_null()).first()
        assert authority is not None
        await ensure_sample_seal(tenant, authority["code"], authority["name"])
        certificate = await issue_certificate(
            tenant,
            SYSTEM,
            authority_code=authority["code"],
            holder=Holder(name="张三", id_number="622826198501306421", gender="男"),
            title=Title(
                series="农业系列",
                title_name="高级兽医师",
                specialty="兽医",
                obtained_on=date(2025, 12, 20),
                review_body=f"{tenant.name}农业系列高级职称评审委员会",
            ),
            issue_date=date.today(),
        )
        return certificate, read_bytes(certificate["pdf_sha256"])


async def load_demo(slug: str | None = None) -> None:
    """Each tenant's (or one tenant's) demo accounts, cases and certificates (demo.loader); refused in
    production."""
    from demo.loader import DemoRefused
    from demo.loader import load_demo as load
    from tenants.services import list_tenants

    async with database():
        try:
            for tenant in await list_tenants():
                if slug is None or tenant.slug == slug:
                    print("\n".join((await load(tenant)).lines()))
        except DemoRefused as error:
            raise SystemExit(f"未载入演示数据：{error}") from None


def wants_demo() -> bool:
    """`zhicheng setup` loads the demo on the embedded default (no DATABASE_URL: what `make run` uses), never
    in production."""
    from demo.loader import production_refusal

    return not os.environ.get("DATABASE_URL") and production_refusal() is None


def check_keys() -> None:
    """Load the PII keys now, so that a misconfigured (or, with ZHICHENG_ENV=production, missing) key stops
    the server before it listens rather than at the first request that needs one."""
    from accounts.secrets import KeyConfigurationError, pii_keys

    try:
        pii_keys()
    except KeyConfigurationError as error:
        raise SystemExit(f"PII keys: {error}") from None


def serve() -> None:
    import uvicorn

    from settings import get_settings

    check_keys()
    settings = get_settings()
    uvicorn.run("app:app", host=settings.host, port=settings.port, proxy_headers=True, log_level="info")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="zhicheng", description="职称电子证书平台")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("load-presets", help="create or update the tenants from src/tenants/presets/*.yaml")
    commands.add_parser("serve", help="serve HTTP on HOST:PORT (default 127.0.0.1:8000)")
    commands.add_parser(
        "setup", help="migrate, load presets, and on the embedded default database load the demo"
    )
    demo_data = commands.add_parser("load-demo", help="load the demo accounts, cases and certificates")
    demo_data.add_argument("--tenant", metavar="SLUG", help="only this tenant")
    audit = commands.add_parser("audit", help="the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="check every tenant's hash chain (exit status 1 if broken)"
    )
    verify.add_argument("--tenant", metavar="SLUG", help="only this tenant")
    commands.add_parser(
        "rotate-pii-key", help="re-encrypt ID numbers under the current (first) key of ZHICHENG_PII_KEYS"
    )
    staff = commands.add_parser("create-staff", help="create a staff account; prints a one-time password")
    staff.add_argument("--tenant", required=True, metavar="SLUG")
    staff.add_argument("--org", required=True, metavar="CODE", help="org code, e.g. 620000-province_office")
    staff.add_argument(
        "--role", required=True, choices=["clerk", "reviewer", "sealer", "org_admin", "tenant_admin"]
    )
    staff.add_argument("--username", required=True)
    staff.add_argument("--name", required=True)
    demo = commands.add_parser("demo-certificate", help="issue a sample certificate and write its PDF")
    demo.add_argument("--tenant", required=True, metavar="SLUG")
    demo.add_argument("--out", required=True, metavar="FILE")
    args = parser.parse_args(argv)
    if args.command in ("migrate", "setup"):
        asyncio.run(migrate())
    if args.command in ("load-presets", "setup"):
        asyncio.run(load_presets())
    if args.command == "load-demo":
        asyncio.run(load_demo(args.tenant))
    if args.command == "setup" and wants_demo():
        asyncio.run(load_demo())
    if args.command == "audit" and args.audit_command == "verify":
        asyncio.run(audit_verify(args.tenant))
    if args.command == "create-staff":
        asyncio.run(create_staff(args.tenant, args.org, args.role, args.username, args.name))
    if args.command == "demo-certificate":
        certificate, pdf = asyncio.run(demo_certificate(args.tenant))
        Path(args.out).write_bytes(pdf)
        print(f"{certificate['number']} → {args.out}")
        print(certificate["qr_text"])
    if args.command == "rotate-pii-key":
        asyncio.run(rotate_pii_key())
    if args.command == "serve":
        serve()


if __name__ == "__main__":
    main(sys.argv[1:])
