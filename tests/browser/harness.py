"""What the browser suite runs on: the app as its own HTTPS process on a scratch SQLite database, test portals
on other origins, Debian's Chromium driven by Playwright, and the checks the tests share (no horizontal
scrolling, touch target sizes, axe-core, screenshots).

Nothing here downloads anything: Chromium is the Debian package at /usr/bin/chromium (ZHICHENG_CHROMIUM
overrides the path) and axe-core is vendored in tests/browser/vendor/.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Error, Frame, Page
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from tests import people
from tests.cases_support import id_number

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHROMIUM = os.environ.get("ZHICHENG_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("ZHICHENG_BROWSER_ARTIFACTS") or ROOT / "var" / "browser-artifacts")

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--ignore-certificate-errors",
    "--lang=zh-CN",
    # "localhost" straight to the IPv4 loopback the server listens on (no ::1 attempt first).
    "--host-resolver-rules=MAP localhost 127.0.0.1",
]
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 640},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
COMMON: dict[str, Any] = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai", "ignore_https_errors": True}

PASSWORD = people.PASSWORD  # what tests/browser/seed.py sets (tests/people.ready_account)
TIMEOUT_MS = 15_000  # one action or assertion; generous for a loaded CI machine, bounded
NAVIGATION_MS = 30_000
SERVER_START_S = 60

# The people the seed makes (tests/browser/seed.py); key → (user name, org code, role, display name).
STAFF = {
    "employer": ("bt-employer", "620102-employer-school", "clerk", "城关一中录入员"),
    "employer2": ("bt-employer-b", "620103-employer-school", "clerk", "七里河实验小学录入员"),
    "clerk": ("bt-clerk", "620100-city_office", "clerk", "市职改办录入员"),
    "reviewer": ("bt-reviewer", "620100-city_office", "reviewer", "市职改办审核员"),
    "sealer": ("bt-sealer", "620100-city_office", "sealer", "市职改办用印员"),
    "admin": ("bt-admin", "620000-province_office", "tenant_admin", "省职改办管理员"),
}


# The reissue batch day is the 25th; the server starts on a day that is not one (the flow moves it).
START_DAY = date(2026, 11, 23)
BATCH_DAY = date(2026, 11, 25)

HOLDER_NAME = "王小明"
HOLDER_ID = id_number("620102", "19850130", 41)  # male (odd serial), as the form's 性别 says
# The holder of the background case sealed before the server starts (tests/browser/seed.py): a certificate
# that is there whatever the flow tests did.
SEALED_HOLDER_NAME = "李四"
SEALED_HOLDER_SERIAL = 17
SEALED_HOLDER_ID = id_number(serial=SEALED_HOLDER_SERIAL)


# --- processes and origins ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A throw-away TLS certificate for the host names localhost and 127.0.0.1 (Chromium is told to ignore
    that nobody signed it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "tls-cert.pem", directory / "tls-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def _unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@dataclass
class AppServer:
    """The real app in its own process: `zhicheng setup`, the seed, then serve_app.py over HTTPS."""

    scratch: Path
    portal_origins: list[str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    seeded: dict[str, Any] = field(default_factory=dict)  # what seed.py made (case ids, the certificate)

    @property
    def origin(self) -> str:
        return f"https://localhost:{self.port}"

    @property
    def database(self) -> Path:
        return self.scratch / "app.sqlite3"

    @property
    def today_file(self) -> Path:
        return self.scratch / "today.txt"

    @property
    def log(self) -> Path:
        return self.scratch / "server.log"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("TEST_DATABASE_URL", "ZHICHENG_DEBUG", "ZHICHENG_ENV")
        }
        env.update(
            {
                "PICCOLO_CONF": "piccolo_conf",
                "DATABASE_URL": f"sqlite:///{self.database}",
                "ZHICHENG_FILES_DIR": str(self.scratch / "files"),
                "ZHICHENG_TOKEN_DEV_DIR": str(self.scratch / "token-keys"),
                "ZHICHENG_SIGNING_DEV_DIR": str(self.scratch / "signing"),
                "ZHICHENG_PII_KEYS": "test1:" + base64.b64encode(b"k" * 32).decode(),
                "ZHICHENG_LOOKUP_KEY": base64.b64encode(b"l" * 32).decode(),
                "ZHICHENG_PUBLIC_URL": self.origin,
                "ZHICHENG_TEST_TODAY_FILE": str(self.today_file),
                "PORT": str(self.port),
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def _run(self, *command: str) -> str:
        result = subprocess.run(
            command, cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=180, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def set_day(self, day: date | None) -> None:
        """The day the server's case rules see (None: the real day in China)."""
        self.today_file.write_text(day.isoformat() if day else "")

    def start(self, day: date) -> None:
        bin_dir = Path(sys.executable).parent
        self._run(str(bin_dir / "zhicheng"), "setup")
        config = {
            "frame_ancestors": self.portal_origins,
            "staff": [
                {"username": username, "org": org, "role": role, "name": name}
                for username, org, role, name in STAFF.values()
            ],
            "holder": {"name": HOLDER_NAME, "id_number": HOLDER_ID, "employer": "620102-employer-school"},
            "sealed_holder": {"name": SEALED_HOLDER_NAME, "serial": SEALED_HOLDER_SERIAL},
            "start_day": day.isoformat(),
            "batch_day": BATCH_DAY.isoformat(),
        }
        config_path = self.scratch / "seed.json"
        config_path.write_text(json.dumps(config, ensure_ascii=False))
        output = self._run(sys.executable, "-m", "tests.browser.seed", str(config_path))
        self.seeded = json.loads(output.strip().splitlines()[-1])
        self.set_day(day)
        cert, key = self_signed_certificate(self.scratch)
        with self.log.open("wb") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, str(HERE / "serve_app.py"), str(self.port), str(cert), str(key)],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                with urllib.request.urlopen(
                    f"{self.origin}/healthz", timeout=2, context=_unverified()
                ) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the app did not come up on {self.origin}:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class PortalServer:
    """A government portal on its own origin (https://127.0.0.1:<port>) with one page, portal.html:
    ``/?src=<path>`` frames that path of the app with the two tags a portal pastes (static/portal.js and an
    ``iframe[data-zhicheng]``); ``/pasted`` shows ``self.snippet`` instead, e.g. the snippet copied from the
    tenant administrator's embed page."""

    def __init__(self, app_origin: str, cert: Path, key: Path, title: str) -> None:
        template = (HERE / "portal.html").read_text()
        self.snippet = ""
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the http.server API
                parts = urlsplit(self.path)
                if parts.path == "/pasted":
                    embed = portal.snippet
                elif parts.path == "/":
                    src = parse_qs(parts.query).get("src", ["/t/gansu/?embed=1"])[0]
                    if not src.startswith("/"):
                        self.send_error(400)
                        return
                    embed = (
                        f'<script src="{app_origin}/static/portal.js" defer></script>\n'
                        f'<iframe data-zhicheng src="{app_origin}{src}" title="职称电子证书" '
                        'width="100%" height="640"></iframe>'
                    )
                else:
                    self.send_error(404)
                    return
                body = template.replace("{{title}}", title).replace("{{embed}}", embed).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.origin = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, src: str) -> str:
        """The portal page framing ``src`` (a path of the app, query included)."""
        return f"{self.origin}/?src={quote(src, safe='')}"

    def start(self) -> PortalServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Site:
    """The app and two portals: one in gansu's frame_ancestors, one that nobody allowed."""

    app: AppServer
    portal: PortalServer
    stranger: PortalServer

    @property
    def origin(self) -> str:
        return self.app.origin

    def url(self, path: str) -> str:
        return self.app.origin + path

    def set_day(self, day: date | None) -> None:
        self.app.set_day(day)


class Pages:
    """Browser contexts for one test: each ``new(kind)`` is a fresh browser profile (own cookies), a phone
    (360×640, device scale 2, touch) or a desktop (1280×800). Console messages are kept per page; on a
    failure every open page is saved as a screenshot in ARTIFACTS/failures/."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.console: dict[Page, list[str]] = {}

    async def new(self, kind: str = "phone", **overrides: Any) -> Page:
        """``overrides``: context options replacing the kind's, e.g. another ``viewport``."""
        options = {**COMMON, **(PHONE if kind == "phone" else DESKTOP), **overrides}
        context = await self.browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_MS)
        self.contexts.append(context)
        page = await context.new_page()
        self.watch(page)
        return page

    def watch(self, page: Page) -> None:
        messages: list[str] = []
        self.console[page] = messages

        def keep(message: ConsoleMessage) -> None:
            messages.append(f"{message.type}: {message.text}")

        def crashed(error: Error) -> None:
            messages.append(f"pageerror: {error}")

        page.on("console", keep)
        page.on("pageerror", crashed)

    def assert_no_script_errors(self) -> None:
        """No page of the test threw an uncaught exception or had something refused by our CSP (an inline
        script or style, a resource from elsewhere): the pages work under the production policy."""
        problems = [
            f"{page.url}: {message}"
            for page, messages in self.console.items()
            for message in messages
            if message.startswith("pageerror:") or "Content Security Policy" in message
        ]
        assert not problems, "\n".join(problems)

    async def close(self, failed_test: str | None) -> None:
        for index, context in enumerate(self.contexts):
            for number, page in enumerate(context.pages):
                if failed_test and self.console.get(page):
                    print(f"console of {page.url}:", *self.console[page], sep="\n  ")
                if failed_test and not page.is_closed():
                    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", failed_test)[-80:]
                    try:
                        await page.screenshot(
                            path=str(artifact_dir() / "failures" / f"{name}-{index}-{number}.png"),
                            full_page=True,
                            scale="css",
                        )
                    except Exception as error:  # a crashed page must not hide the test's own failure
                        print(f"no failure screenshot of {page.url}: {error}")
            await context.close()


# --- checks shared by the tests ---------------------------------------------------------------------------

AXE_FILE = HERE / "vendor" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # axe-core 4.14.1
BLOCKING_IMPACTS = ("serious", "critical")


async def axe_violations(target: Page | Frame) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.x A/AA rules and axe's
    best practices). axe is evaluated through the DevTools protocol, which the page's CSP does not govern."""
    if not await target.evaluate("() => typeof window.axe === 'object'"):
        await target.evaluate("() => {" + AXE_FILE.read_text() + "\n}")
    results = await target.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary}))
            }));
        }"""
    )
    return [violation for violation in results if violation["impact"] in BLOCKING_IMPACTS]


def describe_violations(where: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"axe-core: {len(violations)} serious/critical violation(s) on {where}:"]
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:5]:
            summary = re.sub(r"\s+", " ", node["summary"] or "")[:300]
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


async def assert_no_horizontal_scroll(page: Page | Frame, width: int | None = None) -> None:
    """The page fits its viewport's width: nothing to scroll sideways. Names the widest elements if not."""
    measure = await page.evaluate(
        """() => {
            const width = window.innerWidth;
            const wide = [];
            for (const element of document.querySelectorAll("body *")) {
                const box = element.getBoundingClientRect();
                if (box.right > width + 0.5 && box.width > 0) {
                    const name = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
                        + (element.className && typeof element.className === "string"
                           ? "." + element.className.trim().split(/\\s+/).join(".") : "");
                    wide.push(name + " right=" + Math.round(box.right));
                }
            }
            return {scroll: document.scrollingElement.scrollWidth, inner: width, wide: wide.slice(0, 8)};
        }"""
    )
    limit = min(measure["inner"], width) if width else measure["inner"]
    assert measure["scroll"] <= limit, (
        f"{page.url}: scrolls sideways: scrollWidth {measure['scroll']} > {limit}; "
        f"too wide: {measure['wide']}"
    )


async def small_touch_targets(page: Page, minimum: float = 44) -> list[str]:
    """Buttons, button-like links and form controls in the page's main content smaller than ``minimum``
    CSS pixels high (WCAG 2.5.5; links inside running text are exempt)."""
    return await page.evaluate(
        """(minimum) => {
            const small = [];
            const selector = "main button, main .button, main input:not([type=hidden]), main select, "
                + "main textarea";
            for (const element of document.querySelectorAll(selector)) {
                const box = element.getBoundingClientRect();
                if (box.width === 0 || box.height === 0) continue;
                if (element.type === "checkbox" || element.type === "radio") {
                    const label = element.closest("label");
                    const target = label ? label.getBoundingClientRect() : box;
                    if (target.height >= minimum) continue;
                } else if (box.height >= minimum) continue;
                const name = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
                    + (element.name ? "[name=" + element.name + "]" : "");
                small.push(name + " " + Math.round(box.width) + "x" + Math.round(box.height));
            }
            return small;
        }""",
        minimum,
    )


def artifact_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """A PNG of the page as test artefact (ARTIFACTS/<name>.png), at CSS pixel size to stay small."""
    path = artifact_dir() / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page, scale="css", animations="disabled")
    return path


def chromium_missing() -> str | None:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return None
    return f"Chromium not found at {CHROMIUM}: apt-get install chromium (Debian)"


# --- signing in through the real forms -------------------------------------------------------------------


SIGNED_IN = re.compile(r"/t/gansu/me(\?|$)")  # where signing in lands (with ?embed=1 when framed so)


async def sign_in_staff(target: Page | Frame, origin: str, key: str, *, go: bool = True) -> None:
    """Through the sign-in page's staff form (``go=False``: the page is already open, e.g. in a frame)."""
    if go:
        await target.goto(f"{origin}/t/gansu/signin")
    form = target.locator("form[action$='/signin/staff']")
    await form.get_by_label("用户名").fill(STAFF[key][0])
    await form.get_by_label("密码").fill(PASSWORD)
    await form.get_by_role("button", name="登录").click()
    await target.wait_for_url(SIGNED_IN)


async def sign_in_holder(
    target: Page | Frame,
    origin: str,
    *,
    go: bool = True,
    name: str = HOLDER_NAME,
    id_number: str = HOLDER_ID,
) -> None:
    """Through the applicant form: ID number, name and password."""
    if go:
        await target.goto(f"{origin}/t/gansu/signin")
    form = target.locator("form[action$='/signin/applicant']")
    await form.get_by_label("身份证号").fill(id_number)
    await form.get_by_label("姓名").fill(name)
    await form.get_by_label("密码").fill(PASSWORD)
    await form.get_by_role("button", name="登录").click()
    await target.wait_for_url(SIGNED_IN)


async def queue_page(pages: Pages, site: Site, who: str, **options: Any) -> Page:
    """A desktop signed in as ``who`` on the reissue tab of the review queue."""
    page = await pages.new("desktop", **options)
    await sign_in_staff(page, site.origin, who)
    await page.goto(site.url("/t/gansu/queue?procedure=reissue"))
    await page.get_by_role("heading", name="待办案件").wait_for()
    return page


# --- inside a portal's iframe ------------------------------------------------------------------------------

FRAME_METRICS = """() => {
    let bottom = 0;
    for (const element of document.body.querySelectorAll("*")) {
        const box = element.getBoundingClientRect();
        if (box.height > 0 && box.width > 0) bottom = Math.max(bottom, box.bottom + window.scrollY);
    }
    return {
        inner: window.innerHeight,
        scroll: document.scrollingElement.scrollHeight,
        content: Math.ceil(bottom),
    };
}"""
FRAME_FITS = (
    "() => { const m = (" + FRAME_METRICS + ")(); "
    "return m.scroll <= m.inner + 1 && m.inner <= Math.max(200, m.content + 48); }"
)


async def assert_frame_fits(page: Page, frame: Frame) -> int:
    """The portal's iframe is as tall as the page in it (portal.js sizes it from embed.js's messages):
    nothing to scroll inside the frame, no stretch of empty space under the content. Returns the height."""
    try:
        await frame.wait_for_function(FRAME_FITS, timeout=TIMEOUT_MS)
    except PlaywrightTimeoutError:
        metrics = await frame.evaluate(FRAME_METRICS)
        messages = await page.evaluate("() => window.zhichengMessages")
        raise AssertionError(
            f"the iframe does not follow its content at {frame.url}: {metrics}; messages: {messages[-5:]}"
        ) from None
    return int(await frame.evaluate("() => window.innerHeight"))


async def resize_messages(page: Page, origin: str) -> list[dict[str, Any]]:
    """What the framed page posted to the portal: {type: "zhicheng:resize", height} from ``origin``."""
    messages = await page.evaluate("() => window.zhichengMessages")
    return [
        message["data"]
        for message in messages
        if message["origin"] == origin
        and isinstance(message["data"], dict)
        and message["data"].get("type") == "zhicheng:resize"
    ]


async def portal_frame(page: Page) -> Frame:
    """The frame of the portal page's iframe[data-zhicheng]."""
    element = await page.wait_for_selector("iframe[data-zhicheng]", state="attached")
    assert element is not None
    frame = await element.content_frame()
    assert frame is not None, "the iframe has no frame"
    return frame
