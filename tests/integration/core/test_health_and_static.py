"""Health check and the vendored static files."""

from __future__ import annotations

import hashlib
import re

import httpx

from core.web import HTMX_FILE, STATIC_DIR
from tests.conftest import IS_POSTGRES

HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"  # static/vendor/README.md


async def test_healthz_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "postgres" if IS_POSTGRES else "sqlite"}


async def test_htmx_is_vendored_2_0_x_with_long_cache(client: httpx.AsyncClient) -> None:
    assert re.fullmatch(r"vendor/htmx-2\.0\.\d+\.min\.js", HTMX_FILE)
    page = (await client.get("/")).text
    assert f'<script src="/static/{HTMX_FILE}" defer></script>' in page
    response = await client.get(f"/static/{HTMX_FILE}")
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == HTMX_SHA256
    assert b'version:"2.0.' in response.content
    cache = response.headers["cache-control"]
    assert "max-age=31536000" in cache and "immutable" in cache
    assert (STATIC_DIR / "vendor" / "htmx-LICENSE.txt").is_file()


async def test_own_css_url_carries_its_content_hash(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    match = re.search(r'href="(/static/app\.css\?v=([0-9a-f]{12}))"', page)
    assert match is not None
    response = await client.get(match.group(1))
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest().startswith(match.group(2))
    assert "immutable" in response.headers["cache-control"]
