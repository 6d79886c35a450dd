"""Phones and accessibility in the markup of the main pages (issue 7 items 2 and 3), checked over HTTP with
the standard library's HTML parser: a label for every control, the right keyboard for ID numbers and dates,
the right picker (and camera) for uploads, error messages tied to their fields, wide tables in their own
scroll box, the viewport meta, nothing fetched from elsewhere, touch-sized targets and readable colours.
What only a browser can measure (no sideways scrolling at 360 px, axe-core) is in tests/browser/."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from accounts.roles import Role
from core.web import STATIC_DIR
from tenants.services import list_tenants
from tests.cases_support import id_number
from tests.people import Person, SignedIn, signed_in_applicant, signed_in_staff

IGNORED_INPUTS = frozenset({"hidden", "submit", "button", "reset", "image"})


@dataclass
class Control:
    tag: str
    attrs: dict[str, str]
    in_label: bool

    @property
    def name(self) -> str:
        return self.attrs.get("name") or self.attrs.get("id") or self.tag


@dataclass
class Page:
    """What the checks need of one page."""

    url: str
    controls: list[Control] = field(default_factory=list)
    label_for: set[str] = field(default_factory=set)
    ids: list[str] = field(default_factory=list)
    viewport: str | None = None
    lang: str | None = None
    resources: list[str] = field(default_factory=list)  # src/href of scripts, styles, images, iframes
    tables_outside_scroll: int = 0
    images_without_alt: int = 0
    skip_link: bool = False


class Auditor(HTMLParser):
    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page(url)
        self.stack: list[tuple[str, dict[str, str]]] = []

    def _inside(self, test: Callable[[str, dict[str, str]], bool]) -> bool:
        return any(test(tag, attrs) for tag, attrs in self.stack)

    def handle_starttag(self, tag: str, raw: list[tuple[str, str | None]]) -> None:
        attrs = {name: value or "" for name, value in raw}
        page = self.page
        if "id" in attrs:
            page.ids.append(attrs["id"])
        if tag == "html":
            page.lang = attrs.get("lang")
        elif tag == "meta" and attrs.get("name") == "viewport":
            page.viewport = attrs.get("content", "")
        elif tag == "label" and "for" in attrs:
            page.label_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea"):
            if tag != "input" or attrs.get("type", "text") not in IGNORED_INPUTS:
                page.controls.append(Control(tag, attrs, self._inside(lambda t, a: t == "label")))
        elif tag == "script" and "src" in attrs:
            page.resources.append(attrs["src"])
        elif tag == "link" and attrs.get("rel") == "stylesheet":
            page.resources.append(attrs.get("href", ""))
        elif tag in ("img", "iframe"):
            page.resources.append(attrs.get("src", ""))
            if tag == "img" and "alt" not in attrs:
                page.images_without_alt += 1
        elif tag == "table":
            scrolls = self._inside(lambda t, a: "table-scroll" in a.get("class", "").split())
            if not scrolls:
                page.tables_outside_scroll += 1
        elif tag == "a" and "skip-link" in attrs.get("class", "") and attrs.get("href") == "#main":
            page.skip_link = True
        if tag not in ("input", "meta", "link", "img", "br", "hr", "source", "col", "area", "base", "wbr"):
            self.stack.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return


def audit(url: str, text: str) -> Page:
    auditor = Auditor(url)
    auditor.feed(text)
    auditor.close()
    return auditor.page


def problems_of(page: Page) -> list[str]:
    """Everything every page must get right."""
    found = []
    if page.lang != "zh-CN":
        found.append("<html lang> is not zh-CN")
    if not page.viewport or "width=device-width" not in page.viewport or "user-scalable=no" in page.viewport:
        found.append(f"viewport meta missing or blocks zooming: {page.viewport!r}")
    if not page.skip_link:
        found.append("no skip link to #main")
    duplicates = {value for value in page.ids if page.ids.count(value) > 1}
    if duplicates:
        found.append(f"duplicate ids {sorted(duplicates)}")
    ids = set(page.ids)
    for control in page.controls:
        attrs = control.attrs
        labelled = (
            control.in_label
            or attrs.get("id", "\0") in page.label_for
            or attrs.get("aria-label", "").strip()
            or attrs.get("aria-labelledby", "").strip()
        )
        if not labelled:
            found.append(f"<{control.tag} {control.name}> has no label")
        for reference in ("aria-describedby", "aria-labelledby"):
            for target in attrs.get(reference, "").split():
                if target not in ids:
                    found.append(f"<{control.tag} {control.name}> {reference} names a missing id {target}")
        if attrs.get("aria-invalid") == "true" and not attrs.get("aria-describedby"):
            found.append(f"<{control.tag} {control.name}> is invalid but its message is not tied to it")
        if control.tag == "input" and attrs.get("type") == "file" and not attrs.get("accept"):
            found.append(f"file input {control.name} accepts anything")
        if attrs.get("name") == "id_number":
            # An ID number may end with X: the ordinary keyboard in capitals, never a numeric one.
            if attrs.get("inputmode") != "text" or attrs.get("autocapitalize") != "characters":
                found.append(f"ID number input {control.name} lacks inputmode=text autocapitalize=characters")
            if attrs.get("autocomplete") not in ("off", "username"):
                found.append(
                    f"ID number input {control.name} may be autofilled: {attrs.get('autocomplete')!r}"
                )
            if attrs.get("type", "text") != "text":
                found.append(f"ID number input {control.name} is not a text input")
    for resource in page.resources:
        local = resource.startswith("/") and not resource.startswith("//")
        if not local and not resource.startswith("data:image/"):
            found.append(f"external or relative resource {resource!r}")
    if page.tables_outside_scroll:
        found.append(f"{page.tables_outside_scroll} table(s) outside a .table-scroll box")
    if page.images_without_alt:
        found.append(f"{page.images_without_alt} image(s) without alt")
    return found


async def check(person: httpx.AsyncClient | Person, url: str, status: int = 200) -> Page:
    response = await person.get(url)
    assert response.status_code == status, (url, response.status_code, response.text[:500])
    page = audit(url, response.text)
    assert not problems_of(page), (url, problems_of(page))
    return page


def control(page: Page, name: str) -> Control:
    found = [item for item in page.controls if item.attrs.get("name") == name or item.attrs.get("id") == name]
    assert found, f"{page.url}: no control {name}"
    return found[0]


@pytest.fixture(scope="module")
async def ningxia_filer(new_client: Callable[..., httpx.AsyncClient]) -> SignedIn:
    return await signed_in_applicant(
        new_client, "ningxia", "手机测试", id_number("640100", "19660808", 81), "640402-employer-school"
    )


@pytest.fixture(scope="module")
async def gansu_clerk(new_client: Callable[..., httpx.AsyncClient]) -> SignedIn:
    return await signed_in_staff(new_client, "gansu", ("620102-employer-school", Role.clerk))


# --- the checks on every page -------------------------------------------------------------------------


def test_the_auditor_finds_what_is_missing() -> None:
    """The checks themselves: a page with each mistake is caught."""
    bad = audit(
        "/bad",
        '<html lang="en"><head><script src="https://cdn.example.com/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.com/a.css"></head><body>'
        '<input name="q"><input type="hidden" name="ok"><select id="s"></select>'
        '<input name="id_number" inputmode="numeric" aria-invalid="true">'
        '<input type="file" name="f" aria-describedby="nowhere"><table></table><img src="/a.png">'
        "</body></html>",
    )
    problems = problems_of(bad)
    for expected in (
        "<html lang> is not zh-CN",
        "viewport meta missing",
        "no skip link",
        "<input q> has no label",
        "<select s> has no label",
        "lacks inputmode=text",
        "is invalid but its message is not tied to it",
        "file input f accepts anything",
        "names a missing id nowhere",
        "external or relative resource 'https://cdn.example.com/x.js'",
        "external or relative resource '//fonts.example.com/a.css'",
        "1 table(s) outside",
        "1 image(s) without alt",
    ):
        assert any(expected in problem for problem in problems), (expected, problems)
    assert not any("<input ok>" in problem for problem in problems)
    good = audit(
        "/good",
        '<html lang="zh-CN"><head><meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        '<body><a class="skip-link" href="#main">跳到正文</a><label for="q">q</label><input id="q" name="q">'
        '<label><input type="checkbox" name="c"> c</label><input aria-label="x" name="x">'
        '<div class="table-scroll"><table></table></div></body></html>',
    )
    assert problems_of(good) == []


async def test_public_pages(new_client: Callable[..., httpx.AsyncClient]) -> None:
    async with new_client() as client:
        await check(client, "/")
        for tenant in await list_tenants():
            await check(client, f"/t/{tenant.slug}/")
            signin = await check(client, f"/t/{tenant.slug}/signin")
            id_field = control(signin, "id_number")
            assert id_field.attrs["autocomplete"] == "username"  # the account name, paired with the password
            assert control(signin, "password").attrs["type"] == "password"
        await check(client, "/v/AAAA")
        await check(client, "/t/gansu/verify-file/")
        void = await check(client, "/t/gansu/void-notice")
        assert control(void, "year").attrs["inputmode"] == "numeric"
        await check(client, "/nope", status=404)


async def test_applicant_pages(ningxia_filer: SignedIn) -> None:
    for path in ("/me", "/password", "/cases", "/cases/new?procedure=digitization", "/my/certificates"):
        await check(ningxia_filer, f"/t/ningxia{path}")
    response = await ningxia_filer.post("/t/ningxia/cases", {"procedure": "digitization"})
    base = response.headers["location"].removesuffix("/parts/0")
    first = await check(ningxia_filer, f"{base}/parts/0")
    assert "readonly" in control(first, "f-id_number").attrs  # the applicant's own, from the account
    second = await check(ningxia_filer, f"{base}/parts/1")
    assert control(second, "obtained_on").attrs["type"] == "date"
    for name in ("certificate_no", "qualification_doc_no", "title_name"):
        assert control(second, name).attrs.get("inputmode") == "text", name
    attachments = await check(ningxia_filer, f"{base}/attachments")
    files = {
        item.attrs["id"]: item.attrs for item in attachments.controls if item.attrs.get("type") == "file"
    }
    # Photos of the certificate's covers: pictures only, and the rear camera straight away.
    for slot in ("cover_1", "cover_2"):
        assert files[f"file-{slot}"]["accept"] == "image/jpeg,image/png", slot
        assert files[f"file-{slot}"].get("capture") == "environment", slot
    for key, attrs in files.items():
        if key not in ("file-cover_1", "file-cover_2"):
            assert attrs["accept"] == "application/pdf" and "capture" not in attrs, key
    await check(ningxia_filer, base)


async def test_an_employer_clerk_filing_with_a_portrait(gansu_clerk: SignedIn) -> None:
    start = await check(gansu_clerk, "/t/gansu/cases/new?procedure=reissue")
    assert start.controls == [] or all(item.tag == "select" for item in start.controls)
    response = await gansu_clerk.post(
        "/t/gansu/cases", {"procedure": "reissue", "filer_org": "620102-employer-school"}
    )
    assert response.status_code == 303, response.text
    base = response.headers["location"].removesuffix("/parts/0")
    first = await check(gansu_clerk, f"{base}/parts/0")
    # Someone else's ID number: the ordinary keyboard in capitals, nothing remembered by the browser.
    id_field = control(first, "id_number")
    assert id_field.attrs["autocomplete"] == "off" and id_field.attrs["autocapitalize"] == "characters"
    assert id_field.attrs["inputmode"] == "text" and id_field.attrs["maxlength"] == "18"
    attachments = await check(gansu_clerk, f"{base}/attachments")
    photo = control(attachments, "file-photo").attrs
    # A portrait is usually an existing photo: gallery or camera, the phone asks — no forced camera.
    assert photo["accept"] == "image/jpeg,image/png" and "capture" not in photo
    for item in attachments.controls:
        if item.attrs.get("id") != "file-photo":
            assert item.attrs["accept"] == "application/pdf" and "capture" not in item.attrs


async def test_errors_are_tied_to_their_fields_and_summarised(ningxia_filer: SignedIn) -> None:
    response = await ningxia_filer.post("/t/ningxia/cases", {"procedure": "digitization"})
    url = response.headers["location"]
    page = await ningxia_filer.get(url)
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    for headers in ({}, {"HX-Request": "true"}):
        refused = await ningxia_filer.post(
            url, {"version": version.group(1), "gender": "外星", "employer": ""}, headers=headers
        )
        assert refused.status_code == 422
        if not headers:
            audited = audit(url, refused.text)
            assert not problems_of(audited)
        gender = re.search(r'<select id="f-gender" name="gender"([^>]*)>', refused.text)
        assert gender and 'aria-invalid="true"' in gender.group(1)
        assert 'aria-describedby="gender-error"' in gender.group(1)
        assert '<div class="form-error error-summary" id="part-errors" tabindex="-1">' in refused.text
        assert '<a href="#f-gender">性别：' in refused.text
        version = re.search(r'name="version" value="(\d+)"', refused.text) or version
        # htmx replaces the form: the page's status region (outside it) is updated out of band.
        oob = '<div id="part-status" hx-swap-oob="innerHTML">请按提示修改后再保存。有 '
        assert (oob in refused.text) == bool(headers)
        if not headers:
            assert (
                '<div id="part-status" class="visually-hidden" role="status" aria-live="polite"'
                in refused.text
            )


async def test_staff_and_admin_pages(people: dict[str, Person]) -> None:
    admin = people["tenant_admin"]
    for path in (
        "/me",
        "/admin/accounts",
        "/admin/rules",
        "/admin/rules?procedure=reissue&route=review&level=intermediate&employer=620102-employer-school",
        "/admin/procedures",
        "/admin/procedures/reissue",
        "/admin/calendar",
        "/admin/embed",
        "/admin/seals/",
        "/admin/template/",
        "/admin/certificates/",
        "/admin/unit-admin",
        "/exports",
    ):
        await check(admin, f"/t/gansu{path}")
    # A tester query with a bad date: the error is tied to its field.
    await check(admin, "/t/gansu/admin/rules?procedure=reissue&obtained=2010", status=422)
    accounts = await check(admin, "/t/gansu/admin/accounts")
    assert control(accounts, "applicant-id").attrs["autocapitalize"] == "characters"
    queue = await check(people["reviewer"], "/t/gansu/queue")
    assert control(queue, "f-from").attrs["type"] == "date"
    for person in ("clerk", "sealer", "org_admin"):
        await check(people[person], "/t/gansu/queue")


async def test_htmx_replaced_parts_have_a_status_region(people: dict[str, Person]) -> None:
    """Each page whose parts htmx replaces keeps a live region outside them and updates it out of band."""
    admin = people["tenant_admin"]
    query = (
        "/t/gansu/admin/rules?procedure=reissue&route=review&level=intermediate"
        "&employer=620102-employer-school&obtained=2010-01-01"
    )
    page = await admin.get(query)
    assert '<div id="tester-status" class="visually-hidden" role="status" aria-live="polite"' in page.text
    block = await admin.get(query, headers={"HX-Request": "true"})
    assert re.search(r'<div id="tester-status" hx-swap-oob="innerHTML">办理机构：[^<]+</div>', block.text)
    queue = await people["reviewer"].get("/t/gansu/queue")
    for region in ("queue-list-status", "queue-pane-status"):
        assert f'<div id="{region}" class="visually-hidden" role="status" aria-live="polite"' in queue.text
    listing = await people["reviewer"].get("/t/gansu/queue?procedure=reissue", headers={"HX-Request": "true"})
    assert '<div id="queue-list-status" hx-swap-oob="innerHTML">' in listing.text
    calendar = await admin.get("/t/gansu/admin/calendar")
    assert (
        '<div id="calendar-status" class="visually-hidden" role="status" aria-live="polite"' in calendar.text
    )


# --- the stylesheet -----------------------------------------------------------------------------------


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def css_variables(css: str) -> dict[str, str]:
    root = re.search(r":root \{(.*?)\}", css, re.S)
    assert root
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", root.group(1)))


def test_contrast_helper() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert contrast("#f59e0b", "#ffffff") < 3  # the old amber focus ring, too pale on white


async def test_tenant_theme_colours_are_readable_on_white() -> None:
    """The theme colour is the link, heading and button colour (white text on it): 4.5:1 both ways."""
    for tenant in await list_tenants():
        assert contrast(tenant.theme_color, "#ffffff") >= 4.5, (tenant.slug, tenant.theme_color)


def test_stylesheet_colours_and_targets() -> None:
    css = (STATIC_DIR / "app.css").read_text()
    colours = css_variables(css)
    for text in ("ink", "muted", "bad", "ok", "theme"):
        for background in ("paper", "wash"):
            assert contrast(colours[text], colours[background]) >= 4.5, (text, background)
    for background in ("#e6f4ea", "#fdecea", "#fff4d6"):  # the notice, error and highlight fills
        for text in ("ink", "muted", "bad", "ok"):
            assert contrast(colours[text], background) >= 4.5, (text, background)
    # A visible focus ring everywhere, 3:1 against the page (WCAG 1.4.11), white on the coloured header.
    assert re.search(r":focus-visible \{ outline: 3px solid var\(--focus\)", css)
    for background in ("paper", "wash"):
        assert contrast(colours["focus"], colours[background]) >= 3
    assert ".site-header :focus-visible { outline-color: #fff; }" in css
    # Touch targets: every control and the standalone links are at least 44 px high.
    for selector in (".button", ".tab", ".link-button", ".links a", ".q-check", ".action-link", "summary"):
        rule = re.search(rf"(?m)^{re.escape(selector)}[ ,{{][^}}]*\}}", css)
        assert rule and "min-height: 44px" in rule.group(0), selector
    assert re.search(r"input:not\(\[type=\"checkbox\"\]\)[^{]*\{[^}]*min-height: 44px; font-size: 1rem", css)
    # No width fixed wider than a 360 px phone outside a wide-screen media query or a table's scroll box.
    outside_media = re.sub(r"@media \(min-width:[^{]*\{(?:[^{}]*\{[^}]*\})*\s*\}", "", css)
    for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", outside_media):
        for value, unit in re.findall(r"(?<![-\w])(?:min-)?width:\s*([\d.]+)(px|rem)", body):
            pixels = float(value) * (16 if unit == "rem" else 1)
            if pixels > 328 and ".table-scroll" not in selector:  # 360 px less the page's padding
                pytest.fail(f"{selector.strip()} is {value}{unit} wide")


def test_no_remote_urls_in_our_static_files() -> None:
    """Nothing is fetched from elsewhere at run time (a portal loads portal.js from us, not the reverse)."""
    for path in Path(STATIC_DIR).glob("*.*"):
        if path.suffix in (".css", ".js"):
            text = path.read_text()
            assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), path.name
            assert not re.search(r"import\s+.*https?://|fetch\(\s*['\"]https?://", text), path.name
