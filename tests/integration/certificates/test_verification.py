"""Proof, not look-up: the QR token's signature, the public verification page and API, voiding, the void
notice, and the holder's own certificates."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import re
import subprocess
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from pypdf import PdfReader

from accounts.roles import Role
from audit.services import SYSTEM
from certificates.services import Holder, Title, issue_certificate
from certificates.tokens import Claims, make_token, read_token
from core.storage import read_bytes
from seals.glyphs import font_program
from seals.layout import MM, default_layout
from seals.qr import make_symbol
from seals.services import current_seal, sample_scan, store_seal
from tenants.tables import Org
from tests.integration.certificates.test_issue import ready
from tests.people import APPLICANT_ID, APPLICANT_NAME, Person, signed_in_staff

TITLE = Title("农业系列", "高级兽医师", "兽医", date(2018, 12, 20), "甘肃省农业系列高级职称评审委员会")


@pytest.fixture(scope="module")
async def issued(transport: httpx.ASGITransport) -> dict:
    tenant, authority = await ready("gansu")
    return await issue_certificate(
        tenant,
        SYSTEM,
        authority_code=authority,
        holder=Holder(APPLICANT_NAME, APPLICANT_ID, "男"),
        title=TITLE,
        issue_date=date(2026, 4, 1),
    )


def path_of(qr_text: str) -> str:
    return urlsplit(qr_text).path


async def test_the_qr_text_is_short_enough_for_a_phone(issued: dict) -> None:
    assert len(issued["qr_text"]) <= 300
    assert make_symbol(issued["qr_text"]).version <= 12


async def test_a_genuine_certificate_verifies(client: httpx.AsyncClient, issued: dict) -> None:
    page = await client.get(path_of(issued["qr_text"]))
    assert page.status_code == 200
    assert '<p class="verdict-label">有效</p>' in page.text
    assert APPLICANT_NAME in page.text and "622826********6421" in page.text and APPLICANT_ID not in page.text
    assert issued["pdf_sha256"] in page.text
    assert 'href="/t/gansu/verify-file/"' in page.text
    token = path_of(issued["qr_text"]).rsplit("/", 1)[1]
    answer = (await client.get("/api/v1/verify", params={"token": token})).json()
    assert answer["state"] == "valid" and answer["number"] == issued["number"]
    assert answer["id_number"] == "622826********6421" and answer["pdf_sha256"] == issued["pdf_sha256"]


async def test_a_tampered_token_fails(client: httpx.AsyncClient, issued: dict) -> None:
    token = path_of(issued["qr_text"]).rsplit("/", 1)[1]
    tampered = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    answer = (await client.get("/api/v1/verify", params={"token": tampered})).json()
    assert answer["state"] == "unverifiable" and "number" not in answer
    page = await client.get(f"/v/{tampered}")
    assert "无法验证" in page.text


async def test_claims_that_differ_from_the_record_fail_even_when_signed(
    client: httpx.AsyncClient, issued: dict
) -> None:
    claims, _, _ = read_token(path_of(issued["qr_text"]).rsplit("/", 1)[1])
    forged = make_token("gansu", Claims(**{**claims.__dict__, "holder_name": "王五"}))
    answer = (await client.get("/api/v1/verify", params={"token": forged})).json()
    assert answer["state"] == "unverifiable" and "不符" in answer["reason"]


async def test_a_token_signed_with_another_tenants_key_fails(client: httpx.AsyncClient, issued: dict) -> None:
    claims, _, _ = read_token(path_of(issued["qr_text"]).rsplit("/", 1)[1])
    other = make_token("ningxia", claims)  # gansu's claims, ningxia's key
    assert (await client.get("/api/v1/verify", params={"token": other})).json()["state"] == "unverifiable"


async def test_public_keys_are_published(client: httpx.AsyncClient) -> None:
    keys = (await client.get("/t/gansu/.well-known/zhicheng-keys.json")).json()
    assert keys["keys"][0]["alg"] == "Ed25519"
    assert len(base64.b64decode(keys["keys"][0]["public_key"])) == 32


async def test_voiding_shows_everywhere_at_once(
    client: httpx.AsyncClient, people: dict[str, Person], issued: dict
) -> None:
    tenant, authority = await ready("gansu")
    other = await issue_certificate(
        tenant,
        SYSTEM,
        authority_code=authority,
        holder=Holder("赵六", "110101199003070011", "男"),
        title=TITLE,
        issue_date=date(2026, 4, 2),
    )
    city_admin = people["org_admin"]  # not an admin of the issuing authority (the province office)
    refused = await city_admin.post(f"/t/gansu/admin/certificates/{other['id']}/void", {"remark": "遗失"})
    assert refused.status_code == 422 and "只有发证机关" in refused.text
    assert (
        await people["clerk"].post(f"/t/gansu/admin/certificates/{other['id']}/void", {"remark": "x"})
    ).status_code == 403
    admin = people["tenant_admin"]
    no_remark = await admin.post(f"/t/gansu/admin/certificates/{other['id']}/void", {"remark": " "})
    assert no_remark.status_code == 422 and "须填写备注" in no_remark.text
    voided = await admin.post(
        f"/t/gansu/admin/certificates/{other['id']}/void", {"remark": "信息有误，重新发证"}
    )
    assert voided.status_code == 200 and "证书已作废" in voided.text
    page = await client.get(path_of(other["qr_text"]))
    assert '<p class="verdict-label">已作废</p>' in page.text and "信息有误，重新发证" in page.text
    token = path_of(other["qr_text"]).rsplit("/", 1)[1]
    answer = (await client.get("/api/v1/verify", params={"token": token})).json()
    assert answer["state"] == "void" and answer["void_remark"] == "信息有误，重新发证"
    year = answer["voided_at"][:4]
    notice = await client.get("/t/gansu/void-notice", params={"year": year})
    assert other["number"] in notice.text and issued["number"] not in notice.text
    exported = await client.get("/t/gansu/void-notice", params={"year": year, "format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert (
        exported.content.startswith("\ufeff".encode())
        and exported.headers["content-type"].count("charset") == 1
    )
    assert other["number"] in exported.text and "信息有误，重新发证" in exported.text


async def test_the_holder_lists_and_downloads_own_certificates(
    people: dict[str, Person], issued: dict
) -> None:
    holder = people["applicant"]
    page = await holder.client.get("/t/gansu/my/certificates")
    assert page.status_code == 200 and "高级兽医师" in page.text and "2026年" in page.text
    pdf = await holder.client.get(f"/t/gansu/my/certificates/{issued['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-disposition"].startswith("inline")
    download = await holder.client.get(
        f"/t/gansu/my/certificates/{issued['id']}/pdf", params={"download": "1"}
    )
    assert download.headers["content-disposition"].startswith("attachment")
    staff = await people["clerk"].client.get(f"/t/gansu/my/certificates/{issued['id']}/pdf")
    assert staff.status_code == 403


async def test_an_annotated_copy_verifies_with_its_purpose_and_expires(
    client: httpx.AsyncClient, people: dict[str, Person], issued: dict
) -> None:
    from certificates.tables import AnnotatedCopy

    holder = people["applicant"]
    until = date.today() + timedelta(days=300)
    response = await holder.post(
        f"/t/gansu/my/certificates/{issued['id']}/annotated",
        {"purpose": "申报2026年正高级职称", "valid_until": until.isoformat()},
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    copy_pdf = response.content
    text = PdfReader(io.BytesIO(copy_pdf)).pages[0].extract_text()
    assert "申报2026年正高级职称" in text and "加注件" in text
    with (
        tempfile.NamedTemporaryFile(suffix=".pdf") as pdf_file,
        tempfile.NamedTemporaryFile(suffix=".png") as png,
    ):
        pdf_file.write(copy_pdf)
        pdf_file.flush()
        codes = await asyncio_run_zbar(pdf_file.name, png.name)
    annotated = next(code for code in codes if code != issued["qr_text"])
    answer = (await client.get("/api/v1/verify", params={"token": annotated.rsplit("/", 1)[1]})).json()
    assert answer["state"] == "valid" and answer["annotation"]["purpose"] == "申报2026年正高级职称"
    assert answer["annotation"]["valid_until"] == until.isoformat() and not answer["annotation"]["expired"]
    page = await client.get(urlsplit(annotated).path)
    assert "加注件 · 事由：申报2026年正高级职称" in page.text
    # Past its date the same copy verifies as expired, not as valid.
    copy_row = await AnnotatedCopy.select().order_by(AnnotatedCopy.id, ascending=False).first()
    assert copy_row is not None
    await AnnotatedCopy.update({AnnotatedCopy.valid_until: date(2020, 1, 1)}).where(
        AnnotatedCopy.id == copy_row["id"]
    )
    forged_claims, _, _ = read_token(annotated.rsplit("/", 1)[1])
    expired_token = make_token("gansu", Claims(**{**forged_claims.__dict__, "valid_until": date(2020, 1, 1)}))
    expired = (await client.get("/api/v1/verify", params={"token": expired_token})).json()
    assert expired["state"] == "expired" and expired["annotation"]["expired"]
    assert "加注件已过期" in (await client.get(f"/v/{expired_token}")).text
    # The original token of the copy no longer matches the record (its date changed): not verifiable.
    assert (await client.get("/api/v1/verify", params={"token": annotated.rsplit("/", 1)[1]})).json()[
        "state"
    ] == "unverifiable"
    assert re.fullmatch(r"[0-9a-f]{64}", copy_row["pdf_sha256"])


async def asyncio_run_zbar(pdf_path: str, png_path: str) -> list[str]:
    def run() -> list[str]:
        # Two resolutions, as a phone tries again closer: zbar now and then misses a small code at one.
        codes: list[str] = []
        for dpi in ("200", "300"):
            stem = png_path[:-4]
            subprocess.run(["pdftoppm", "-r", dpi, "-png", "-singlefile", pdf_path, stem], check=True)
            out = subprocess.run(["zbarimg", "-q", "--raw", png_path], capture_output=True, text=True).stdout
            codes += [line for line in out.splitlines() if line and line not in codes]
        return codes

    return await asyncio.to_thread(run)


async def test_annotation_inputs_are_checked(people: dict[str, Person], issued: dict) -> None:
    holder = people["applicant"]
    empty = await holder.post(
        f"/t/gansu/my/certificates/{issued['id']}/annotated", {"purpose": " ", "valid_until": "2030-01-01"}
    )
    assert empty.status_code == 422 and "请填写事由" in empty.text
    far = await holder.post(
        f"/t/gansu/my/certificates/{issued['id']}/annotated", {"purpose": "求职", "valid_until": "2099-01-01"}
    )
    assert far.status_code == 422 and "一年之内" in far.text
    bad_date = await holder.post(
        f"/t/gansu/my/certificates/{issued['id']}/annotated", {"purpose": "求职", "valid_until": "x"}
    )
    assert bad_date.status_code == 422 and "请选择有效期" in bad_date.text


async def test_an_uploaded_pdf_is_checked_for_its_signature_and_origin(
    new_client: object, people: dict[str, Person], issued: dict
) -> None:
    from tests.people import csrf_from

    pdf = (await people["applicant"].client.get(f"/t/gansu/my/certificates/{issued['id']}/pdf")).content
    async with new_client() as visitor:  # type: ignore[operator]
        csrf = csrf_from((await visitor.get("/t/gansu/verify-file/")).text)
        genuine = await visitor.post(
            "/t/gansu/verify-file/", data={"_csrf": csrf}, files={"file": ("c.pdf", pdf, "application/pdf")}
        )
        assert "签名有效，是签发原件" in genuine.text and issued["number"] in genuine.text
        altered = bytearray(pdf)
        position = altered.index(b"/Producer")
        altered[position + 2] ^= 0x01
        tampered = await visitor.post(
            "/t/gansu/verify-file/",
            data={"_csrf": csrf},
            files={"file": ("c.pdf", bytes(altered), "application/pdf")},
        )
        assert "签名无效" in tampered.text
        not_pdf = await visitor.post(
            "/t/gansu/verify-file/", data={"_csrf": csrf}, files={"file": ("c.pdf", b"GIF89a", "image/gif")}
        )
        assert not_pdf.status_code == 422


async def test_the_void_notice_lists_lost_paper_certificates_replaced_by_reissue(
    client: httpx.AsyncClient,
) -> None:
    tenant, authority = await ready("gansu")
    reissue = await issue_certificate(
        tenant,
        SYSTEM,
        authority_code=authority,
        holder=Holder("孙七", "110101199003070011", "男"),
        title=TITLE,
        issue_date=date(2026, 6, 25),
        replaces_paper_number="甘职改办〔2013〕1216421号",
    )
    unknown = await issue_certificate(
        tenant,
        SYSTEM,
        authority_code=authority,
        holder=Holder("周八", "110101199003070011", "女"),
        title=TITLE,
        issue_date=date(2026, 6, 25),
        replaces_paper_number="-1",
    )
    notice = await client.get("/t/gansu/void-notice", params={"year": "2026"})
    assert "甘职改办〔2013〕1216421号" in notice.text and reissue["number"] in notice.text
    assert "（编号不详）" in notice.text and unknown["number"] in notice.text
    exported = await client.get("/t/gansu/void-notice", params={"year": "2026", "format": "csv"})
    assert "甘职改办〔2013〕1216421号" in exported.text and "纸质证书遗失" in exported.text


async def test_voiding_asks_first_and_shows_a_busy_state(people: dict[str, Person], issued: dict) -> None:
    """作废 cannot be undone (issue 11): htmx asks for confirmation and disables the form while it runs, then
    swaps the list alone; without JavaScript the form still posts the whole page."""
    tenant, authority = await ready("gansu")
    other = await issue_certificate(
        tenant,
        SYSTEM,
        authority_code=authority,
        holder=Holder("钱七", "110101199003070038", "男"),
        title=TITLE,
        issue_date=date(2026, 4, 3),
    )
    admin = people["tenant_admin"]
    page = await admin.get("/t/gansu/admin/certificates/")
    url = f"/t/gansu/admin/certificates/{other['id']}/void"
    match = re.search(rf'<form method="post" action="{url}"[^>]*>', page.text)
    assert match, "no void form"
    form = match.group(0)
    assert f'hx-post="{url}"' in form and 'hx-target="#certificate-admin"' in form
    assert "hx-confirm=" in form and other["number"] in form
    assert 'hx-disabled-elt="find button"' in form and f'hx-indicator="#void-busy-{other["id"]}"' in form
    assert f'id="void-busy-{other["id"]}" class="htmx-indicator' in page.text
    swapped = await admin.post(url, {"remark": "重复发证"}, headers={"HX-Request": "true"})
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith('<div id="certificate-admin">') and "<html" not in swapped.text
    assert "证书已作废" in swapped.text and "已作废（重复发证）" in swapped.text


async def _check_file(visitor: httpx.AsyncClient, pdf: bytes) -> httpx.Response:
    from tests.people import csrf_from

    csrf = csrf_from((await visitor.get("/t/gansu/verify-file/")).text)
    return await visitor.post(
        "/t/gansu/verify-file/", data={"_csrf": csrf}, files={"file": ("c.pdf", pdf, "application/pdf")}
    )


async def test_a_pdf_with_a_hundred_thousand_signature_fields_neither_stalls_the_server_nor_fails(
    new_client: object,
) -> None:
    from tests.hostile_pdfs import many_signature_fields

    hostile = many_signature_fields(100_000)
    async with new_client() as visitor, new_client() as monitor:  # type: ignore[operator]
        check = asyncio.create_task(_check_file(visitor, hostile))
        # Each round is a short pause and a health request: a blocked event loop shows as a long round,
        # whether it blocked the request or the pause.
        rounds = []
        while not check.done():
            started = asyncio.get_running_loop().time()
            await asyncio.sleep(0.05)
            assert (await monitor.get("/healthz")).status_code == 200
            rounds.append(asyncio.get_running_loop().time() - started)
        answer = await check
    assert len(rounds) > 5 and max(rounds) < 1.0, rounds
    assert answer.status_code == 422 and "文件过于复杂，无法在限定时间内检查" in answer.text


async def test_the_file_check_of_a_voided_certificate_says_so(
    new_client: object, people: dict[str, Person]
) -> None:
    from core.storage import read_bytes

    tenant, authority = await ready("gansu")
    certificate = await issue_certificate(
        tenant,
        SYSTEM,
        authority_code=authority,
        holder=Holder("钱七", "110101199003070038", "女"),
        title=TITLE,
        issue_date=date(2026, 4, 3),
    )
    pdf = read_bytes(certificate["pdf_sha256"])
    async with new_client() as visitor:  # type: ignore[operator]
        assert "签名有效，是签发原件" in (await _check_file(visitor, pdf)).text
        voided = await people["tenant_admin"].post(
            f"/t/gansu/admin/certificates/{certificate['id']}/void", {"remark": "证书信息有误"}
        )
        assert voided.status_code == 200
        answer = await _check_file(visitor, pdf)
    assert '<p class="verdict-label">已作废</p>' in answer.text and "签名有效，是签发原件" not in answer.text
    assert "证书信息有误" in answer.text and certificate["number"] in answer.text


async def test_the_public_file_check_is_rate_limited_per_client_address(new_client: object) -> None:
    from certificates.services import FILE_CHECK_LIMIT_PER_MINUTE

    async with new_client() as visitor, new_client() as neighbour:  # type: ignore[operator]
        for _ in range(FILE_CHECK_LIMIT_PER_MINUTE):
            assert (await _check_file(visitor, b"GIF89a")).status_code == 422
        refused = await _check_file(visitor, b"GIF89a")
        assert refused.status_code == 429 and "核验次数过多" in refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 61
        assert (await _check_file(neighbour, b"GIF89a")).status_code == 422


async def test_the_void_notice_csv_defuses_formulas(
    client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    """The public CSV carries what staff and holders typed: a formula must stay text in a spreadsheet."""
    tenant, authority = await ready("gansu")
    holder = '=HYPERLINK("http://x.cn","查看")'
    certificate = await issue_certificate(
        tenant,
        SYSTEM,
        authority_code=authority,
        holder=Holder(holder, "110101199003070011", "男"),
        title=TITLE,
        issue_date=date(2026, 6, 26),
    )
    remark = "@SUM(1+1)*cmd|' /C calc'!A0"
    voided = await people["tenant_admin"].post(
        f"/t/gansu/admin/certificates/{certificate['id']}/void", {"remark": remark}
    )
    assert voided.status_code == 200
    year = str(date.today().year)
    exported = await client.get("/t/gansu/void-notice", params={"year": year, "format": "csv"})
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    (line,) = [line for line in table if line[0] == certificate["number"]]
    assert line[1] == "'" + holder and line[5] == "'" + remark


async def test_an_org_admin_lists_only_the_certificates_of_their_subtree(
    new_client: Callable[[], httpx.AsyncClient], people: dict[str, Person]
) -> None:
    """Two city offices side by side: each office's administrator sees what it issued, not the other's; the
    tenant's administrator sees both."""
    tenant, _ = await ready("gansu")
    numbers = {}
    for code in ("620100-city_office", "620000-lzxq-city_office"):
        org = await Org.select(Org.id).where(Org.tenant == tenant.id, Org.code == code).first()
        assert org is not None
        if await current_seal(tenant, org["id"]) is None:
            await store_seal(
                tenant, SYSTEM, org_code=code, scan=sample_scan(), operator="测试", leader="测试"
            )
        issued = await issue_certificate(
            tenant,
            SYSTEM,
            authority_code=code,
            holder=Holder("钱九", "110101199003070011", "男"),
            title=TITLE,
            issue_date=date(2026, 6, 27),
        )
        numbers[code] = issued["number"]
    lanzhou = await people["org_admin"].get("/t/gansu/admin/certificates/")
    assert numbers["620100-city_office"] in lanzhou.text
    assert numbers["620000-lzxq-city_office"] not in lanzhou.text
    new_area = await signed_in_staff(new_client, "gansu", ("620000-lzxq-city_office", Role.org_admin))
    listed = await new_area.client.get("/t/gansu/admin/certificates/")
    assert (
        numbers["620000-lzxq-city_office"] in listed.text and numbers["620100-city_office"] not in listed.text
    )
    everything = await people["tenant_admin"].get("/t/gansu/admin/certificates/")
    assert all(number in everything.text for number in numbers.values())


# --- the tenant's own page: branding, its notices, the title's facts (issue #11) ---------------------------


async def test_the_verification_page_is_the_tenants_and_cites_its_own_notice(
    client: httpx.AsyncClient, issued: dict
) -> None:
    page = (await client.get(path_of(issued["qr_text"]))).text
    assert "/t/gansu/theme.css" in page and 'class="brand" href="/t/gansu/"' in page
    assert "甘人社明电〔2019〕90号" in page and "原人社函" not in page and "钦人社发" not in page
    assert "<dt>取得资格时间</dt><dd>2018年12月20日</dd>" in page
    assert "<dt>评审机构</dt><dd>甘肃省农业系列高级职称评审委员会</dd>" in page
    # The hash and the e-licence identifier are for the curious, folded away after the facts.
    details = page.index("<details")
    assert page.index("<dt>评审机构</dt>") < details < page.index(issued["pdf_sha256"])
    assert details < page.index(issued["licence_identifier"])


@pytest.mark.parametrize(
    ("slug", "cited", "foreign"),
    [("gansu", "甘职改办〔2020〕2号", "钦人社发"), ("guangxi", "钦人社发〔2020〕1号", "甘职改办")],
)
async def test_the_void_notice_cites_the_tenants_own_notice(
    client: httpx.AsyncClient, slug: str, cited: str, foreign: str
) -> None:
    page = (await client.get(f"/t/{slug}/void-notice")).text
    assert cited in page and foreign not in page


async def test_the_printed_certificate_url_is_the_certificates_own(issued: dict) -> None:
    """证书网址 on the paper is the URL its QR code opens, not the bare /v stem, and it stays inside its box
    (wrapped: it is far longer than the box is wide)."""
    runs: list[tuple[str, float, float]] = []
    # pypdf reads the text through the font's ToUnicode map, as pdftotext (not installed everywhere) would.
    PdfReader(io.BytesIO(read_bytes(issued["pdf_sha256"]))).pages[0].extract_text(
        visitor_text=lambda text, cm, tm, font, size: runs.append((text, tm[4], size))
    )
    assert issued["fields"]["url"] == issued["qr_text"]
    url_runs = [
        (text, x, size) for text, x, size in runs if text and text in issued["qr_text"] and len(text) > 8
    ]
    assert "".join(text for text, _, _ in url_runs) == issued["qr_text"]
    box = next(box for box in default_layout().fields if box.key == "url")
    assert len(url_runs) > 1
    for text, x, size in url_runs:
        assert x + font_program().width(text, size) <= (box.x + box.w) * MM + 0.01
