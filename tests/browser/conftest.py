"""Browser tests: Playwright driving Debian's Chromium against the real app served over HTTPS by its own
process (tests/browser/harness.py). Marked ``browser``; `make test` leaves them out, `make test-browser`
runs them. Without /usr/bin/chromium they are skipped with the install line, except on CI (CI=true), where
they fail.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright, expect

from tests.browser import harness
from tests.browser.harness import START_DAY, AppServer, Pages, PortalServer, Site


@pytest.fixture(scope="session", autouse=True)
def database() -> None:
    """Replaces the suite's in-process database set-up: the browser tests' app has a database of its own."""


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _require_chromium() -> None:
    missing = harness.chromium_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    _require_chromium()
    shutil.rmtree(harness.ARTIFACTS / "failures", ignore_errors=True)  # from an earlier run
    scratch = Path(tempfile.mkdtemp(prefix="zhicheng-browser-"))
    cert, key = harness.self_signed_certificate(scratch)
    app = AppServer(scratch, portal_origins=[])
    portal = PortalServer(app.origin, cert, key, "甘肃省职称信息系统（测试门户）").start()
    stranger = PortalServer(app.origin, cert, key, "未登记的门户（测试）").start()
    app.portal_origins = [portal.origin]
    try:
        app.start(START_DAY)
        yield Site(app, portal, stranger)
    finally:
        app.stop()
        portal.stop()
        stranger.stop()
        (harness.artifact_dir() / "server.log").write_text(app.log_tail(400))
        shutil.rmtree(scratch, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """After a browser test failed: the end of the app's log (the longer tail is in the artefacts)."""
    log = harness.ARTIFACTS / "server.log"
    reports = [*terminalreporter.stats.get("failed", []), *terminalreporter.stats.get("error", [])]
    failed = any(getattr(report, "nodeid", "").startswith("tests/browser/") for report in reports)
    if failed and log.exists():
        terminalreporter.section("the app's log (browser tests), last lines")
        for line in log.read_text(errors="replace").splitlines()[-40:]:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
async def browser(site: Site) -> AsyncIterator[Browser]:
    expect.set_options(timeout=harness.TIMEOUT_MS)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=harness.CHROMIUM, headless=True, args=harness.LAUNCH_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
async def pages(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Pages]:
    opened = Pages(browser)
    yield opened
    report = getattr(request.node, "report_call", None)
    await opened.close(request.node.nodeid if report is not None and report.failed else None)
