"""Authority-rules engine figures: pure resolutions per second, and the JSON API's latency in-process.

Run after `make setup` (uses DATABASE_URL, default the embedded SQLite file): `make bench`.
Last line: `authority: <n> resolutions/s, api p50 <ms> ms, p95 <ms> ms`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import statistics
import time

os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")

import httpx

from app import create_app
from core import db
from tenants.authority import CaseFacts
from tenants.services import get_tenant, rule_book
from tenants.tables import Tenant
from tenants.vocabulary import CertificateScope, Level, OrgKind, Procedure, Route

API_REQUESTS = 500
logging.getLogger("httpx").setLevel(logging.WARNING)


async def main() -> None:
    engine = Tenant._meta.db
    await db.start(engine)
    tenant = await get_tenant("gansu")
    if tenant is None:
        raise SystemExit("run `make setup` first: tenant gansu is not loaded")
    book = await rule_book(tenant)
    employers = [code for code, node in book.tree.nodes.items() if node.kind is not OrgKind.committee]
    committees = [None, *(code for code, node in book.tree.nodes.items() if node.kind is OrgKind.committee)]
    cases = [
        CaseFacts(*combination)
        for combination in itertools.product(
            Procedure, Route, Level, employers, committees, (None,), CertificateScope
        )
    ]
    started = time.perf_counter()
    for facts in cases:
        book.resolve(facts)
    rate = len(cases) / (time.perf_counter() - started)
    print(f"pure engine: {len(cases)} cases, {rate:,.0f} resolutions/s")

    query = {
        "procedure": "reissue",
        "route": "review",
        "level": "intermediate",
        "employer": "620102-employer-school",
        "obtained": "2012-07-01",
    }
    transport = httpx.ASGITransport(app=create_app())
    timings = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for _ in range(API_REQUESTS):
            started = time.perf_counter()
            response = await client.get("/api/v1/tenants/gansu/authority", params=query)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    await db.stop(engine)
    p50 = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    print(f"api ({engine.engine_type}, {API_REQUESTS} requests): p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    print(f"authority: {rate:,.0f} resolutions/s, api p50 {p50:.2f} ms, p95 {p95:.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
