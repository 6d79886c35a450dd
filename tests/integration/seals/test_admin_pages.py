"""The administrators' seal and template pages."""

from __future__ import annotations

import io

from PIL import Image

from seals.services import sample_scan
from seals.tables import SealVersion, TemplateVersion
from tests.people import Person


def blank_scan() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1400, 1400), (250, 248, 242)).save(buffer, "JPEG", dpi=(600, 600))
    return buffer.getvalue()


async def test_a_good_scan_becomes_a_versioned_transparent_stamp(people: dict[str, Person]) -> None:
    admin = people["tenant_admin"]
    form = {"org": "620200-city_office", "operator": "王经办", "leader": "李分管", "name": ""}
    first = await admin.client.post(
        "/t/gansu/admin/seals/",
        data={"_csrf": admin.csrf, **form},
        files={"scan": ("印模.jpg", sample_scan(), "image/jpeg")},
    )
    assert first.status_code == 200, first.text
    assert "已采集印模，版本 1" in first.text
    second = await admin.client.post(
        "/t/gansu/admin/seals/",
        data={"_csrf": admin.csrf, **form},
        files={"scan": ("x", sample_scan(), "image/jpeg")},
    )
    assert "版本 2" in second.text
    row = await SealVersion.select().order_by(SealVersion.id, ascending=False).first()
    assert row is not None and row["operator"] == "王经办" and row["leader"] == "李分管"
    assert 38 <= row["width_mm"] <= 46
    stamp = await admin.client.get(f"/t/gansu/admin/seals/{row['id']}/stamp.png")
    assert stamp.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(stamp.content))
    assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0
    scan = await admin.client.get(f"/t/gansu/admin/seals/{row['id']}/scan")
    assert scan.content == sample_scan()
    assert scan.headers["content-disposition"].startswith('attachment; filename="seal-')
    assert "sandbox" in scan.headers["content-security-policy"]


async def test_a_blank_scan_is_refused_next_to_the_field_and_the_form_kept(people: dict[str, Person]) -> None:
    admin = people["tenant_admin"]
    response = await admin.client.post(
        "/t/gansu/admin/seals/",
        data={"_csrf": admin.csrf, "org": "620102-county_hr", "operator": "王经办", "leader": "李分管"},
        files={"scan": ("blank.jpg", blank_scan(), "image/jpeg")},
    )
    assert response.status_code == 422
    assert 'id="scan-error">未检测到红色印章' in response.text
    assert 'value="王经办"' in response.text and 'value="620102-county_hr" selected' in response.text


async def test_operator_and_leader_are_required(people: dict[str, Person]) -> None:
    admin = people["tenant_admin"]
    response = await admin.client.post(
        "/t/gansu/admin/seals/",
        data={"_csrf": admin.csrf, "org": "620102-county_hr", "operator": "", "leader": "李分管"},
        files={"scan": ("s.jpg", sample_scan(), "image/jpeg")},
    )
    assert response.status_code == 422 and 'id="operator-error"' in response.text


async def test_the_layout_editor_previews_and_saves_versions(people: dict[str, Person]) -> None:
    admin = people["tenant_admin"]
    page = await admin.client.get("/t/gansu/admin/template/")
    assert page.status_code == 200
    assert 'src="data:image/png;base64,' in page.text
    moved = await admin.client.post(
        "/t/gansu/admin/template/preview",
        data={"_csrf": admin.csrf, "name.size": "16"},
        headers={"HX-Request": "true"},
    )
    assert moved.status_code == 200 and moved.text.lstrip().startswith('<div id="editor"')
    assert 'name="name.size" value="16.0"' in moved.text
    too_small = await admin.client.post(
        "/t/gansu/admin/template/preview",
        data={"_csrf": admin.csrf, "qr.w": "20", "qr.h": "20"},
        headers={"HX-Request": "true"},
    )
    assert too_small.status_code == 422 and "至少 30 mm" in too_small.text
    not_a_number = await admin.client.post(
        "/t/gansu/admin/template/preview",
        data={"_csrf": admin.csrf, "seal.x": "abc"},
        headers={"HX-Request": "true"},
    )
    assert not_a_number.status_code == 422 and "不是数字" in not_a_number.text
    before = await TemplateVersion.count()
    saved = await admin.client.post("/t/gansu/admin/template/", data={"_csrf": admin.csrf, "name.size": "16"})
    assert saved.status_code == 200 and "已保存为模板版本" in saved.text
    assert await TemplateVersion.count() == before + 1


async def test_only_tenant_admins_reach_seals(people: dict[str, Person]) -> None:
    assert (await people["org_admin"].client.get("/t/gansu/admin/seals/")).status_code == 403


async def test_an_uploaded_background_is_read_in_the_sandbox_and_refused_with_a_script(
    people: dict[str, Person],
) -> None:
    from core.storage import read_bytes
    from seals.services import current_template
    from tenants.services import get_tenant
    from tests.hostile_pdfs import pdf_of

    admin = people["tenant_admin"]
    scripted = pdf_of(b"", page_extra=b"/AA << /O << /S /JavaScript /JS (app.alert(1)) >> >>")
    before = await TemplateVersion.count()
    refused = await admin.client.post(
        "/t/gansu/admin/template/",
        data={"_csrf": admin.csrf},
        files={"background": ("底图.pdf", scripted, "application/pdf")},
    )
    assert refused.status_code == 422 and "PDF 含有脚本或自动动作" in refused.text
    assert await TemplateVersion.count() == before
    current = await current_template(await get_tenant("gansu"))
    assert current is not None
    again = await admin.client.post(
        "/t/gansu/admin/template/",
        data={"_csrf": admin.csrf},
        files={"background": ("底图.pdf", read_bytes(current["background_sha256"]), "application/pdf")},
    )
    assert again.status_code == 200 and "已保存为模板版本" in again.text
