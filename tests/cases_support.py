"""Real people, seals and files for the cases tests: accounts made through the accounts services, principals
as the session layer builds them, imprints captured through the seals service, files made by Pillow/pypdf."""

from __future__ import annotations

import io
import itertools
from typing import Any

import numpy as np
from PIL import Image

from accounts.roles import AccountKind, Role
from accounts.services import create_applicant, create_staff
from accounts.sessions import Grant, Principal
from audit.services import SYSTEM
from demo import samples
from seals.services import current_seal, ensure_default_template, sample_scan, store_seal
from tenants.services import get_tenant
from tenants.tables import Org, Tenant

_serial = itertools.count(1)
# The sample files and ID numbers live with the demo data (demo.samples); the cases tests take them from here.
photo, pdf_file, id_number = samples.photo, samples.pdf_file, samples.id_number


async def tenant(slug: str) -> Tenant:
    found = await get_tenant(slug)
    assert found is not None
    return found


async def org(slug: str, code: str) -> dict[str, Any]:
    row = await Org.select().where(Org.tenant == (await tenant(slug)).id, Org.code == code).first()
    assert row is not None, code
    return row


async def staff_account(slug: str, *grants: tuple[str, Role], name: str = "") -> tuple[Principal, str]:
    """A staff member holding ``grants`` (org code, role), as the session layer would present them, and
    their user name."""
    where = await tenant(slug)
    serial = next(_serial)
    name = name or f"工作人员{serial}"
    username = f"case-staff-{serial}"
    rows = [await org(slug, code) for code, _ in grants]
    account_id, _ = await create_staff(
        where,
        SYSTEM,
        name=name,
        username=username,
        grants=[(row["id"], role) for row, (_, role) in zip(rows, grants, strict=True)],
    )
    principal = Principal(
        session_id=0,
        tenant_id=where.id,
        tenant_slug=slug,
        csrf_token="",
        account_id=account_id,
        kind=AccountKind.staff,
        name=name,
        grants=tuple(
            Grant(row["code"], row["name"], role) for row, (_, role) in zip(rows, grants, strict=True)
        ),
    )
    return principal, username


async def staff(slug: str, *grants: tuple[str, Role], name: str = "") -> Principal:
    return (await staff_account(slug, *grants, name=name))[0]


async def applicant(slug: str, name: str, id_number: str, employer: str) -> Principal:
    where = await tenant(slug)
    account_id = await create_applicant(
        where, SYSTEM, name=name, id_number=id_number, org_id=(await org(slug, employer))["id"]
    )
    return Principal(
        session_id=0,
        tenant_id=where.id,
        tenant_slug=slug,
        csrf_token="",
        account_id=account_id,
        kind=AccountKind.applicant,
        name=name,
    )


async def ensure_seal(slug: str, code: str) -> None:
    """The authority's imprint (the sample stamp) and the tenant's default template, so it can issue."""
    where = await tenant(slug)
    await ensure_default_template(where)
    if await current_seal(where, (await org(slug, code))["id"]) is None:
        await store_seal(where, SYSTEM, org_code=code, scan=sample_scan(), operator="经办人", leader="负责人")


def noisy_picture(width: int = 800, height: int = 600) -> bytes:
    pixels = np.random.default_rng(1).integers(0, 255, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


async def build_case(
    slug: str,
    procedure: Any,
    filer: Principal,
    parts: list[dict[str, str]],
    files: dict[str, bytes],
    filer_org: str | None = None,
) -> int:
    """A case filled in part by part and with its files uploaded, through the case services."""
    from cases.services import load_case, save_part, start_case, upload_attachment

    where = await tenant(slug)
    case_id = await start_case(where, filer, procedure, filer_org)
    for index, raw in enumerate(parts):
        case = await load_case(where, case_id)
        cleaned = await save_part(where, filer, case_id, index, raw, case.row["version"])
        assert not cleaned.errors, cleaned.errors
    for slot, content in files.items():
        await upload_attachment(where, filer, case_id, slot, f"{slot}.bin", content)
    return case_id


async def version(slug: str, case_id: int) -> int:
    from cases.services import load_case

    return int((await load_case(await tenant(slug), case_id)).row["version"])


async def submit(slug: str, filer: Principal, case_id: int) -> Any:
    from cases.services import submit_case

    return await submit_case(await tenant(slug), filer, case_id, await version(slug, case_id))


async def decide(slug: str, actor: Principal, case_id: int, action: Any, reason: str | None = None) -> Any:
    from cases.services import act

    return await act(
        await tenant(slug), actor, case_id, action, version=await version(slug, case_id), reason=reason
    )


# A Gansu reissue's title part: a county school teacher's intermediate certificate, number unknown ("-1").
REISSUE_TITLE = {
    "route": "review",
    "level": "intermediate",
    "series": "中小学教师系列",
    "title_name": "一级教师",
    "specialty": "数学",
    "obtained_on": "2012-09-01",
    "committee": "",
    "review_body": "兰州市城关区中小学教师系列中级职称评审委员会",
    "qualification_doc_no": "甘职改办〔2013〕121号",
    "old_certificate_no": "-1",
}
