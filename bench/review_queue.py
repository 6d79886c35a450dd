"""Reviewer-queue speed with a busy tenant: Gansu filled with 200,000 cases, then the queue partial (what htmx
fetches for the list: tabs with capped counts, filters, one page of rows) asked for 200 times by a signed-in
reviewer of the busiest queue (the Lanzhou city office, ~25,000 cases waiting), through the real app over
ASGI. Target: p95 ≤ 50 ms and ≤ 30 KB, on SQLite and on PostgreSQL.

`python bench/review_queue.py [cases]` uses a scratch SQLite file (deleted afterwards); with DATABASE_URL set
it uses that database (migrated, presets loaded, the bench's own cases replaced on each run: use a scratch
database, never the shared `test` one). Last line: `queue: p50 <ms> ms, p95 <ms> ms, <kb> KB`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's `queue` (which asyncio and Piccolo import): take the bench
# folder off the import path before anything imports it.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

_scratch: Path | None = None
if not os.environ.get("DATABASE_URL"):
    _scratch = Path(tempfile.mkdtemp(prefix="zhicheng-bench-queue-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{_scratch / 'queue.sqlite3'}"
    os.environ.setdefault("ZHICHENG_FILES_DIR", str(_scratch / "files"))
elif urlsplit(os.environ["DATABASE_URL"]).path.strip("/") == "test":
    raise SystemExit(
        "bench/review_queue.py fills its database with 200,000 cases: not the shared `test` database"
    )
os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")

import httpx  # noqa: E402
from piccolo.engine.postgres import PostgresEngine  # noqa: E402

from accounts.passwords import hash_password  # noqa: E402
from accounts.roles import Role  # noqa: E402
from accounts.services import create_staff  # noqa: E402
from accounts.tables import Account  # noqa: E402
from app import create_app  # noqa: E402
from audit.services import SYSTEM  # noqa: E402
from cases.tables import Case  # noqa: E402
from cli import migrate  # noqa: E402
from core import db  # noqa: E402
from tenants.calendar import seed_calendar_from_package  # noqa: E402
from tenants.services import get_tenant, list_tenants, load_all_presets  # noqa: E402
from tenants.tables import Org, Tenant  # noqa: E402

CASES = 200_000
REQUESTS = 200
PASSWORD = "Bench-pass-2026"
FILER = "bench-queue-filer"
REVIEWER = "bench-queue-reviewer"
CITY = "620100-city_office"
PROVINCE = "620000-province_office"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红玉文斌晓东海燕春梅志"
LEVELS = ["junior", "intermediate", "intermediate", "associate_senior", "associate_senior", "senior"]
COLUMNS = [
    "tenant",
    "procedure",
    "state",
    "version",
    "filed_by",
    "filer_org",
    "employer",
    "authority",
    "holder_name",
    "holder_id_tail",
    "level",
    "series",
    "data",
    "plan",
    "step",
    "current_org",
    "current_role",
    "queued_at",
    "return_reason",
    "decision_reason",
    "created_at",
    "updated_at",
    "submitted_at",
    "completed_at",
]
STEP_LABELS = {
    "reissue": [
        ("clerk", "职改办录入员审核编辑并提交"),
        ("reviewer", "职改办审核员审核"),
        ("sealer", "职改办用印员核对并补发用印"),
    ],
    "issuance": [("reviewer", "发证机关审核"), ("sealer", "发证机关用印生成电子证书")],
}
logging.getLogger("httpx").setLevel(logging.WARNING)


def _plan(procedure: str, office: str, chain: list[str]) -> list[dict[str, Any]]:
    def step(org: str, role: str, label: str, **extra: Any) -> dict[str, Any]:
        return {
            "org": org,
            "role": role,
            "label": label,
            "edit": extra.get("edit", False),
            "recheck_to": extra.get("recheck_to"),
            "batch_day": extra.get("batch_day"),
            "recheck": False,
        }

    if procedure == "collection":
        return [
            step(org, "org_admin" if index == 0 else "reviewer", "逐级审核")
            for index, org in enumerate(chain)
        ]
    steps = STEP_LABELS[procedure]
    result = []
    for role, label in steps:
        extra: dict[str, Any] = {}
        if procedure == "reissue":
            extra = {"edit": role == "clerk", "batch_day": 25 if role == "sealer" else None}
            if role == "reviewer" and office != PROVINCE:
                extra["recheck_to"] = PROVINCE
        result.append(step(office, role, label, **extra))
    return result


def make_rows(
    tenant: Tenant, orgs: dict[str, dict[str, Any]], filer: int, count: int
) -> list[tuple[Any, ...]]:
    """``count`` cases with a realistic spread: most waiting at the offices (a quarter of those, ~25,000 of
    200,000, at the Lanzhou city office's reviewers), the rest returned, completed, refused or in draft."""
    rng = random.Random(2026)
    ids = {code: row["id"] for code, row in orgs.items()}
    parent = {code: row["parent_code"] for code, row in orgs.items()}
    employers = [code for code, row in orgs.items() if row["kind"] == "employer"]
    offices = [code for code, row in orgs.items() if row["kind"] in ("city_office", "county_hr")]
    series = list(tenant.series)

    def chain(code: str) -> list[str]:
        path = [code]
        while parent.get(path[-1]):
            path.append(parent[path[-1]])
        return path

    now = datetime.now(UTC)
    rows = []
    for _ in range(count):
        procedure = rng.choices(["reissue", "collection", "issuance"], weights=[5, 3, 2])[0]
        employer = rng.choice(employers)
        roll = rng.random()
        if roll < 0.125:
            office, role = CITY, "reviewer"  # the busiest queue
        elif roll < 0.16:
            office, role = CITY, rng.choice(["clerk", "sealer"])
        elif roll < 0.55:
            office, role = rng.choice(offices), rng.choice(["clerk", "reviewer", "reviewer", "sealer"])
        elif roll < 0.62:
            office, role = PROVINCE, "reviewer"
        else:
            office, role = rng.choice(offices), ""
        path = chain(employer)
        plan = _plan(procedure, office, path if procedure == "collection" else [])
        waiting = bool(role)
        if procedure == "collection":
            # The chain's steps: the office and role the case waits at, found on the employer's own chain.
            if waiting and office in path and office != path[0]:
                step = path.index(office)
                role = plan[step]["role"]
            elif waiting:
                office, step, role = path[-1], len(path) - 1, plan[-1]["role"]
            else:
                step = 0
        else:
            roles = [item["role"] for item in plan]
            if waiting and role not in roles:
                role = roles[0]
            step = roles.index(role) if waiting else 0
        submitted = now - timedelta(days=rng.uniform(1, 720), seconds=rng.uniform(0, 86400))
        queued = submitted + timedelta(hours=rng.uniform(0, 48) * (step + 1))
        if waiting:
            state = (
                "approved"
                if role in ("sealer", "reviewer") and rng.random() < 0.03 and step == len(plan) - 1
                else "in_review"
            )
        else:
            state = rng.choices(["completed", "returned", "refused", "draft"], weights=[60, 25, 5, 10])[0]
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        level = rng.choice(LEVELS)
        chosen_series = rng.choice(series)
        data = {
            "holder_name": name,
            "gender": rng.choice("男女"),
            "level": level,
            "series": chosen_series,
            "title_name": "高级工程师" if level in ("associate_senior", "senior") else "工程师",
            "specialty": "电气工程",
            "obtained_on": "2012-09-01",
        }
        rows.append(
            (
                tenant.id,
                procedure,
                state,
                1 + step * 2,
                filer,
                ids[employer],
                ids[employer],
                ids[office] if procedure != "collection" else None,
                name,
                f"{rng.randrange(10000):04d}",
                level,
                chosen_series,
                json.dumps(data, ensure_ascii=False),
                json.dumps(plan, ensure_ascii=False),
                step,
                ids[office] if waiting else None,
                role if waiting else None,
                queued if waiting else None,
                "材料不全，请补充审批表" if state == "returned" else None,
                "不符合补办条件" if state == "refused" else None,
                submitted - timedelta(days=1),
                queued,
                None if state == "draft" else submitted,
                queued if state == "completed" else None,
            )
        )
    return rows


def _sqlite_text(value: Any) -> Any:
    # Piccolo's SQLite adapter writes aware datetimes as str(UTC value); the rows must compare the same way.
    if isinstance(value, datetime):
        return str(value.astimezone(UTC))
    return value


async def bulk_insert(rows: list[tuple[Any, ...]]) -> None:
    engine = Tenant._meta.db
    names = ", ".join(f'"{column}"' for column in COLUMNS)
    if isinstance(engine, PostgresEngine):
        import asyncpg

        connection = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            await connection.copy_records_to_table("case_file", records=rows, columns=COLUMNS)
            await connection.execute("VACUUM ANALYZE case_file")
        finally:
            await connection.close()
        return
    import sqlite3

    path = os.environ["DATABASE_URL"].removeprefix("sqlite:///")
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.executemany(
                f'INSERT INTO "case_file" ({names}) VALUES ({", ".join("?" for _ in COLUMNS)})',
                ([_sqlite_text(value) for value in row] for row in rows),
            )
    finally:
        connection.close()


async def staff_account(tenant: Tenant, username: str, code: str, role: Role) -> int:
    row = (
        await Account.select(Account.id)
        .where(Account.tenant == tenant.id, Account.username == username)
        .first()
    )
    if row is None:
        org = await Org.select(Org.id).where(Org.tenant == tenant.id, Org.code == code).first()
        account_id, _ = await create_staff(
            tenant, SYSTEM, name="压测人员", username=username, grants=[(org["id"], role)]
        )
    else:
        account_id = row["id"]
    await Account.update(
        {Account.password_hash: hash_password(PASSWORD), Account.must_change_password: False}
    ).where(Account.id == account_id)
    return account_id


async def fill(count: int) -> Tenant:
    await migrate()
    await load_all_presets()
    for tenant in await list_tenants():
        await seed_calendar_from_package(tenant)
    tenant = await get_tenant("gansu")
    assert tenant is not None
    filer = await staff_account(tenant, FILER, "620102-employer-school", Role.clerk)
    await staff_account(tenant, REVIEWER, CITY, Role.reviewer)
    existing = await Case.count().where(Case.filed_by == filer)
    if existing != count:
        await Case.delete().where(Case.filed_by == filer)
        orgs = {
            row["code"]: row
            for row in await Org.select(
                Org.id, Org.code, Org.kind, Org.parent.code.as_alias("parent_code")
            ).where(Org.tenant == tenant.id)
        }
        started = time.perf_counter()
        rows = make_rows(tenant, orgs, filer, count)
        await bulk_insert(rows)
        print(f"filled {count:,} cases in {time.perf_counter() - started:.1f} s")
    else:
        print(f"reusing {count:,} bench cases")
    return tenant


async def timed(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], count: int
) -> tuple[list[float], int]:
    timings, size = [], 0
    for _ in range(count):
        started = time.perf_counter()
        response = await client.get(url, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:500]
        size = len(response.content)
    return timings, size


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else CASES
    engine = Tenant._meta.db
    await db.start(engine)
    try:
        tenant = await fill(count)
        city = await Org.select(Org.id).where(Org.tenant == tenant.id, Org.code == CITY).first()
        waiting = await Case.count().where(Case.current_org == city["id"], Case.current_role == "reviewer")
        print(
            f"{engine.engine_type}: {count:,} cases, {waiting:,} waiting for the Lanzhou city office's "
            "reviewers"
        )
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            page = await client.get("/t/gansu/signin")
            csrf = re.search(r'name="_csrf" value="([^"]+)"', page.text)
            assert csrf, "no sign-in form"
            signed = await client.post(
                "/t/gansu/signin/staff",
                data={"_csrf": csrf.group(1), "username": REVIEWER, "password": PASSWORD, "next": ""},
            )
            assert signed.status_code == 303, signed.text[:500]
            hx = {"HX-Request": "true"}
            await timed(client, "/t/gansu/queue", hx, 10)  # warm-up: templates, procedure definitions
            full, full_size = await timed(client, "/t/gansu/queue", {}, 20)
            print(f"full page: p50 {statistics.median(full):.1f} ms, {full_size / 1024:.1f} KB")
            narrowed, _ = await timed(
                client, "/t/gansu/queue?procedure=reissue&q=%E7%8E%8B&level=senior", hx, 50
            )
            print(
                f"filtered (王…, 正高级): p50 {statistics.median(narrowed):.1f} ms, "
                f"p95 {p95(narrowed):.1f} ms"
            )
            tail, _ = await timed(client, "/t/gansu/queue?procedure=reissue&q=6421", hx, 50)
            print(f"last four digits: p50 {statistics.median(tail):.1f} ms, p95 {p95(tail):.1f} ms")
            listed = await client.get("/t/gansu/queue", headers=hx)
            next_page = re.search(r'<a href="([^"]+)" hx-get="[^"]+" rel="next">', listed.text)
            assert next_page, "no next page"
            deep, _ = await timed(client, next_page.group(1).replace("&amp;", "&"), hx, 50)
            print(f"second page: p50 {statistics.median(deep):.1f} ms, p95 {p95(deep):.1f} ms")
            first_case = re.search(r'<li id="row-(\d+)"', listed.text)
            assert first_case
            pane, pane_size = await timed(client, f"/t/gansu/queue/{first_case.group(1)}", hx, 50)
            print(
                f"case pane: p50 {statistics.median(pane):.1f} ms, p95 {p95(pane):.1f} ms, "
                f"{pane_size / 1024:.1f} KB"
            )
            timings, size = await timed(client, "/t/gansu/queue", hx, REQUESTS)
    finally:
        await db.stop(engine)
        if _scratch is not None:
            shutil.rmtree(_scratch, ignore_errors=True)
    print(f"queue: p50 {statistics.median(timings):.1f} ms, p95 {p95(timings):.1f} ms, {size / 1024:.1f} KB")


if __name__ == "__main__":
    asyncio.run(main())
