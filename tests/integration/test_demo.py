"""The demo data (`zhicheng load-demo`) on a database of its own: the real commands in subprocesses against a
fresh SQLite file (so the suite's database, whose rows other tests count, never holds demo data), then the
real `zhicheng serve` over HTTP — the demo accounts sign in, the demo reviewer's queue has a case, the demo
certificates verify as valid and void, and every page carries the demo banner."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from demo.loader import DEMO_PASSWORD, RETURN_REASON, VOID_REMARK
from tests.integration.test_cli_and_serve import ZHICHENG, free_port
from tests.people import sign_in_applicant, sign_in_staff

BANNER = "演示数据：本站点载有演示账号和演示证书，仅供试用"
COUNTED_TABLES = (
    "account",
    "role_grant",
    "case_file",
    "case_event",
    "case_attachment",
    "certificate",
    "seal_version",
)


@dataclass(frozen=True)
class DemoSite:
    base: str
    env: dict[str, str]
    database: Path
    output: str

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ZHICHENG, *args], env={**self.env, **env}, capture_output=True, text=True, timeout=300
        )

    def counts(self) -> dict[str, int]:
        with sqlite3.connect(self.database) as connection:
            return {
                table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in (*COUNTED_TABLES, "audit_event", "demo_load")
            }

    def applicants(self) -> list[tuple[str, str]]:
        """(ID number, name) of the demo applicants, as `load-demo` lists them."""
        return re.findall(r"申请人 身份证号 (\S+) 姓名 (\S+)：", self.output)

    def certificates(self) -> dict[str, str]:
        """state → verification URL, as `load-demo` lists them."""
        return {state: url for state, url in re.findall(r"证书 \S+（(\S+)）：(\S+)", self.output)}


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    folder = tmp_path_factory.mktemp("demo")
    database = folder / "demo.sqlite3"
    port = free_port()
    env = {
        **os.environ,
        "PICCOLO_CONF": "piccolo_conf",
        "DATABASE_URL": f"sqlite:///{database}",
        "PORT": str(port),
    }
    for command in (["migrate"], ["load-presets"]):
        subprocess.run([ZHICHENG, *command], env=env, capture_output=True, text=True, timeout=300, check=True)
    loaded = subprocess.run(
        [ZHICHENG, "load-demo", "--tenant", "gansu"], env=env, capture_output=True, text=True, timeout=600
    )
    assert loaded.returncode == 0, loaded.stderr
    process = subprocess.Popen([ZHICHENG, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"zhicheng serve did not come up:\n{process.stdout.read().decode()}")  # type: ignore[union-attr]
            time.sleep(0.2)
    yield DemoSite(base, env, database, loaded.stdout)
    process.terminate()
    process.wait(timeout=10)


def client(site: DemoSite) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=site.base, timeout=30)


async def test_demo_staff_sign_in_with_the_demo_password_and_the_reviewer_has_a_case(
    demo_site: DemoSite,
) -> None:
    staff = re.findall(r"员工 (demo-gansu-\S+)：", demo_site.output)
    assert (
        "demo-gansu-province-office-reviewer" in staff and len(staff) >= 4
    )  # admin, filer, clerk, reviewer…
    for username in staff:
        async with client(demo_site) as browser:
            response = await sign_in_staff(browser, "gansu", username, DEMO_PASSWORD)
            assert response.status_code == 303, (username, response.text)
            assert (await browser.get("/t/gansu/me")).status_code == 200  # no forced password change
    async with client(demo_site) as reviewer:
        await sign_in_staff(reviewer, "gansu", "demo-gansu-province-office-reviewer", DEMO_PASSWORD)
        queue = await reviewer.get("/t/gansu/queue")
    assert queue.status_code == 200
    waiting = re.findall(r'class="q-row".*?<b>([^<]+)</b>', queue.text)
    assert len(waiting) == 1, waiting  # the case waiting at the reviewer's step, not the clerk's or sealer's


async def test_demo_applicants_sign_in_and_the_holders_see_their_certificates(demo_site: DemoSite) -> None:
    applicants = demo_site.applicants()
    assert len(applicants) >= 3
    seen = 0
    for id_number, name in applicants:
        async with client(demo_site) as browser:
            response = await sign_in_applicant(browser, "gansu", id_number, name, DEMO_PASSWORD)
            assert response.status_code == 303, (name, response.text)
            mine = await browser.get("/t/gansu/my/certificates")
            assert mine.status_code == 200
            seen += "证书编号" in mine.text or "2026620000" in mine.text
            cases = await browser.get("/t/gansu/cases")
            assert cases.status_code == 200
    assert seen == 2  # the holders of the valid and the voided certificate


async def test_a_returned_case_carries_its_reason_for_its_filer(demo_site: DemoSite) -> None:
    with sqlite3.connect(demo_site.database) as connection:
        rows = connection.execute("SELECT return_reason FROM case_file WHERE state = 'returned'").fetchall()
    assert rows == [(RETURN_REASON,)]
    filers = re.findall(r"员工 (demo-gansu-\S+)：\S+录入员", demo_site.output)
    pages = []
    for username in filers:
        async with client(demo_site) as browser:
            await sign_in_staff(browser, "gansu", username, DEMO_PASSWORD)
            pages.append((await browser.get("/t/gansu/cases")).text)
    assert sum(RETURN_REASON in page for page in pages) == 1  # the employer's clerk who filed it


async def test_demo_certificates_verify_valid_and_void(demo_site: DemoSite) -> None:
    urls = demo_site.certificates()
    assert set(urls) == {"有效", "已作废"}
    async with client(demo_site) as browser:
        for state, url in urls.items():
            assert url.startswith(demo_site.base + "/v/")
            token = url.rsplit("/", 1)[1]
            answer = (await browser.get("/api/v1/verify", params={"token": token})).json()
            assert answer["state"] == ("valid" if state == "有效" else "void"), answer
            page = await browser.get(f"/v/{token}")
            assert state in page.text
        assert VOID_REMARK in (await browser.get(f"/v/{urls['已作废'].rsplit('/', 1)[1]}")).text


async def test_every_page_carries_the_demo_banner_while_demo_data_is_loaded(
    demo_site: DemoSite, new_client: Callable[..., httpx.AsyncClient]
) -> None:
    async with client(demo_site) as browser:
        for path in ("/", "/t/gansu/", "/t/ningxia/signin", "/t/guangxi/void-notice"):
            page = await browser.get(path)
            assert page.status_code == 200 and BANNER in page.text, path
        await sign_in_staff(browser, "gansu", "demo-gansu-province-office-reviewer", DEMO_PASSWORD)
        assert BANNER in (await browser.get("/t/gansu/queue")).text
    async with new_client() as plain:  # the suite's own database has no demo data: no banner
        for path in ("/", "/t/gansu/"):
            page = await plain.get(path)
            assert page.status_code == 200 and BANNER not in page.text


def test_loading_the_demo_again_changes_nothing(demo_site: DemoSite) -> None:
    before = demo_site.counts()
    assert before["demo_load"] == 1 and before["case_file"] > 0
    again = demo_site.run("load-demo", "--tenant", "gansu")
    assert again.returncode == 0, again.stderr
    assert "gansu: 演示数据已存在，无变化" in again.stdout
    assert demo_site.applicants() == re.findall(r"申请人 身份证号 (\S+) 姓名 (\S+)：", again.stdout)
    assert demo_site.counts() == before


def test_the_demo_is_refused_in_production(demo_site: DemoSite) -> None:
    before = demo_site.counts()
    refused = demo_site.run("load-demo", "--tenant", "ningxia", ZHICHENG_ENV="production")
    assert refused.returncode != 0
    assert "生产环境不载入演示数据" in refused.stderr
    assert demo_site.counts() == before


def test_demo_certificate_prints_the_url_of_the_servers_host_and_port(demo_site: DemoSite) -> None:
    on_port = demo_site.run(
        "demo-certificate", "--tenant", "ningxia", "--out", os.devnull, HOST="127.0.0.2", PORT="8147"
    )
    assert on_port.returncode == 0, on_port.stderr
    assert on_port.stdout.strip().splitlines()[-1].startswith("HTTP://127.0.0.2:8147/V/")
    public = demo_site.run(
        "demo-certificate",
        "--tenant",
        "ningxia",
        "--out",
        os.devnull,
        ZHICHENG_PUBLIC_URL="https://zc.example.cn",
    )
    assert public.stdout.strip().splitlines()[-1].startswith("HTTPS://ZC.EXAMPLE.CN/V/")


def test_setup_loads_the_demo_only_on_the_embedded_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import wants_demo

    monkeypatch.delenv("ZHICHENG_ENV", raising=False)
    monkeypatch.delenv("DATABASE_URL")
    assert wants_demo()  # `make run`: no DATABASE_URL
    monkeypatch.setenv("ZHICHENG_ENV", "production")
    assert not wants_demo()
    monkeypatch.delenv("ZHICHENG_ENV")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db:5432/zhicheng")  # the Docker image's setup
    assert not wants_demo()
