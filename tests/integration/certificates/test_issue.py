"""Issuing certificates through the service the workflow uses: numbering, identifiers, national metadata,
the stored PDF, re-rendering byte for byte, and 50 concurrent sealings on PostgreSQL."""

from __future__ import annotations

import asyncio
import io
from datetime import date

import pytest
from pypdf import PdfReader
from stdnum.iso7064 import mod_37_36

from accounts.secrets import decrypt
from audit.services import SYSTEM
from certificates.services import Holder, IssueError, Title, certificate_pdf, issue_certificate, rerender
from certificates.tables import Certificate
from seals.services import current_seal, ensure_default_template, sample_scan, store_seal
from tenants.services import get_tenant
from tenants.tables import Org, Tenant

HOLDER = Holder(name="李四", id_number="110101199003070011", gender="女")
TITLE = Title("卫生系列", "副主任医师", "内科", date(2018, 12, 20), "甘肃省卫生系列高级职称评审委员会")


async def ready(slug: str) -> tuple[Tenant, str]:
    tenant = await get_tenant(slug)
    assert tenant is not None
    await ensure_default_template(tenant)
    root = await Org.select().where(Org.tenant == tenant.id, Org.parent.is_null()).first()
    assert root is not None
    if await current_seal(tenant, root["id"]) is None:
        await store_seal(
            tenant, SYSTEM, org_code=root["code"], scan=sample_scan(), operator="测试", leader="测试"
        )
    return tenant, root["code"]


@pytest.mark.parametrize("slug", ["gansu", "ningxia", "guangxi"])
async def test_issue_records_the_national_metadata(slug: str) -> None:
    tenant, authority = await ready(slug)
    row = await issue_certificate(
        tenant, SYSTEM, authority_code=authority, holder=HOLDER, title=TITLE, issue_date=date(2026, 3, 1)
    )
    stored = await Certificate.select().where(Certificate.id == row["id"]).output(load_json=True).first()
    assert stored is not None
    assert stored["number"].startswith(f"2026{tenant.division_code}")
    identifier = stored["licence_identifier"]
    assert identifier.startswith("1.2.156.3005.2.") and identifier.endswith(
        f".{stored['number']}.001.{identifier[-1]}"
    )
    type_code, issuer, serial, version, check = identifier.removeprefix("1.2.156.3005.2.").split(".")
    assert mod_37_36.is_valid(type_code + issuer + serial + version + check)
    assert stored["issuer_code"] == issuer and stored["licence_type_code"] == type_code
    assert stored["holder_name"] == "李四" and stored["holder_id_type"] == "居民身份证"
    assert decrypt(stored["holder_id_cipher"], context=f"tenant:{slug}") == HOLDER.id_number
    assert stored["fields"]["id_number"] == "110101********0011"
    assert stored["status"] == "valid" and stored["validity"] == "长期"
    assert stored["jurisdiction_code"] == tenant.division_code
    assert stored["qr_text"].startswith("HTTP://127.0.0.1:8000/V/")
    pdf = await certificate_pdf(tenant, row["id"])
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert stored["number"] in text and "副主任医师" in text and HOLDER.id_number not in text


async def test_rerendering_gives_the_same_bytes() -> None:
    tenant, authority = await ready("gansu")
    row = await issue_certificate(
        tenant, SYSTEM, authority_code=authority, holder=HOLDER, title=TITLE, issue_date=date(2026, 3, 2)
    )
    rendered, issued = await rerender(tenant, row["id"]), await certificate_pdf(tenant, row["id"])
    assert issued.startswith(rendered) and len(issued) > len(rendered)  # the signature follows the render


async def test_numbers_follow_one_another_and_refusals_use_none() -> None:
    tenant, authority = await ready("guangxi")
    first = await issue_certificate(
        tenant, SYSTEM, authority_code=authority, holder=HOLDER, title=TITLE, issue_date=date(2027, 1, 5)
    )
    with pytest.raises(IssueError, match="性别"):
        await issue_certificate(
            tenant,
            SYSTEM,
            authority_code=authority,
            holder=Holder("王五", HOLDER.id_number, "?"),
            title=TITLE,
            issue_date=date(2027, 1, 6),
        )
    with pytest.raises(IssueError, match="尚未采集印模"):
        await issue_certificate(
            tenant,
            SYSTEM,
            authority_code="450700-city_office",
            holder=HOLDER,
            title=TITLE,
            issue_date=date(2027, 1, 6),
        )
    second = await issue_certificate(
        tenant, SYSTEM, authority_code=authority, holder=HOLDER, title=TITLE, issue_date=date(2027, 1, 7)
    )
    assert int(second["number"][-6:]) == int(first["number"][-6:]) + 1


@pytest.mark.postgres_only
async def test_fifty_concurrent_sealings_leave_no_duplicate_and_no_gap(transport: object) -> None:
    tenant, authority = await ready("ningxia")
    results = await asyncio.gather(
        *(
            issue_certificate(
                tenant,
                SYSTEM,
                authority_code=authority,
                holder=HOLDER,
                title=TITLE,
                issue_date=date(2031, 6, 1),
            )
            for _ in range(50)
        )
    )
    numbers = sorted(int(row["number"][-6:]) for row in results)
    assert numbers == list(range(1, 51))
    assert len({row["licence_identifier"] for row in results}) == 50


async def test_issued_certificates_carry_a_valid_pades_signature() -> None:
    import shutil
    import subprocess
    import tempfile

    from certificates.signing import verify_certificate_pdf_async

    tenant, authority = await ready("guangxi")
    row = await issue_certificate(
        tenant, SYSTEM, authority_code=authority, holder=HOLDER, title=TITLE, issue_date=date(2026, 5, 1)
    )
    pdf = await certificate_pdf(tenant, row["id"])
    result = await verify_certificate_pdf_async(pdf, slug="guangxi")
    assert result.intact and result.trusted
    if shutil.which("pdfsig"):
        with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
            file.write(pdf)
            file.flush()
            completed = await asyncio.to_thread(
                subprocess.run, ["pdfsig", file.name], capture_output=True, text=True
            )
            report = completed.stdout
        assert "ETSI.CAdES.detached" in report and "Signature is Valid." in report
