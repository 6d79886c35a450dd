"""The real commands `make run` uses: `zhicheng setup` (migrate + presets) and `zhicheng serve`, with the
app's own lifespan starting the database, against the suite's database."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.people import sign_in_staff

ZHICHENG = str(Path(sys.executable).parent / "zhicheng")


def command_env() -> dict[str, str]:
    return {**os.environ, "PICCOLO_CONF": "piccolo_conf", "DATABASE_URL": os.environ["DATABASE_URL"]}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_setup_is_idempotent(database: None) -> None:
    result = subprocess.run(
        [ZHICHENG, "setup"], env=command_env(), capture_output=True, text=True, timeout=120, check=True
    )
    for slug in ("gansu", "ningxia", "guangxi"):
        assert f"{slug}: 无变化" in result.stdout


@pytest.fixture(scope="module")
def server(database: None) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [ZHICHENG, "serve"],
        env={**command_env(), "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"zhicheng serve did not come up:\n{output}")
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=10)


def test_served_tenant_home(server: str) -> None:
    with urllib.request.urlopen(f"{server}/t/gansu/", timeout=5) as response:
        body = response.read().decode()
    assert "甘肃" in body


def test_served_healthz(server: str) -> None:
    with urllib.request.urlopen(f"{server}/healthz", timeout=5) as response:
        assert b'"status":"ok"' in response.read()


def create_first_admin() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            ZHICHENG,
            "create-staff",
            "--tenant",
            "guangxi",
            "--org",
            "450000-province_office",
            "--role",
            "tenant_admin",
            "--username",
            "first-admin",
            "--name",
            "首位管理员",
        ],
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_create_staff_prints_a_one_time_password_that_signs_in(
    new_client: Callable[..., httpx.AsyncClient],
) -> None:
    result = await asyncio.to_thread(create_first_admin)
    assert result.returncode == 0, result.stderr
    password = result.stdout.split("one-time password: ")[1].split()[0]
    async with new_client() as client:
        response = await sign_in_staff(client, "guangxi", "first-admin", password)
        assert response.status_code == 303
        assert (await client.get("/t/guangxi/me")).headers["location"] == "/t/guangxi/password"
    again = await asyncio.to_thread(create_first_admin)
    assert again.returncode != 0 and "已被使用" in again.stderr


def run_demo_certificate(out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ZHICHENG, "demo-certificate", "--tenant", "ningxia", "--out", str(out)],
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_demo_certificate_issues_through_the_service_path(tmp_path: Path) -> None:
    from pypdf import PdfReader

    out = tmp_path / "demo.pdf"
    result = await asyncio.to_thread(run_demo_certificate, out)
    assert result.returncode == 0, result.stderr
    number, url = result.stdout.split("→")[0].strip(), result.stdout.strip().splitlines()[-1]
    assert url.startswith("HTTP://") and "/V/" in url  # upper case: QR alphanumeric mode
    text = PdfReader(out).pages[0].extract_text()
    assert number in text and "宁夏回族自治区职称证书" in text
