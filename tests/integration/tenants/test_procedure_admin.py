"""The administrator's procedure definitions (issue 4 item 1: procedures as tenant data, editable later by
administrators): the list page, the YAML editor, a save the case services then follow, a broken text refused
with its line, non-administrators refused, the audit trail.

The tests edit Gansu's collection definition and put the stored row back afterwards, so the other tests
(which rely on its closing date, 甘人社通〔2021〕166号 一) see the preset's text whatever the order."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Callable
from datetime import date

import httpx
import pytest

from accounts.roles import Role
from audit.services import events_for
from cases.services import CaseError, start_case
from tenants import calendar
from tenants.services import procedure_source
from tenants.tables import ProcedureConfig
from tenants.vocabulary import Procedure
from tests.cases_support import applicant, id_number, tenant
from tests.people import Person, signed_in_staff

URL = "/t/gansu/admin/procedures"
AFTER_THE_WINDOW = date(2021, 6, 15)


@pytest.fixture
async def admin(new_client: Callable[[], httpx.AsyncClient]) -> Person:
    return await signed_in_staff(new_client, "gansu", ("620000-province_office", Role.tenant_admin))


@pytest.fixture
async def collection_row() -> AsyncIterator[dict]:
    """Gansu's stored collection definition, restored as it was after the test."""
    row = await procedure_source(await tenant("gansu"), Procedure.collection)
    assert row is not None
    yield row
    await ProcedureConfig.update(
        {
            ProcedureConfig.source: row["source"],
            ProcedureConfig.updated_at: row["updated_at"],
            ProcedureConfig.updated_by: row["updated_by"],
        }
    ).where(ProcedureConfig.id == row["id"])


def textarea(page: str) -> str:
    match = re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", page, re.S)
    assert match, "no textarea"
    return html.unescape(match.group(1))


async def test_the_list_shows_each_procedure_as_the_services_read_it(admin: Person) -> None:
    page = await admin.client.get(URL)
    assert page.status_code == 200
    text = html.unescape(page.text)
    # Reissue (甘职改办〔2020〕2号): who files, the steps with the batch day, the attachments.
    assert "遗失纸质证书补办电子证书" in text and "甘职改办〔2020〕2号" in text
    assert "用人单位、档案托管机构的录入员" in text
    assert "职改办用印员核对并补发用印：按办理机构规则确定的机构的用印员" in text
    assert "每月25日集中办理，遇节假日顺延" in text
    assert "1吋彩色照片：JPG/PNG，不超过 512 KB，一寸照片，必传" in text
    # Collection (甘人社通〔2021〕166号): the window, the eligibility rules with their citations, the chain.
    assert "2021年5月31日" in text
    assert "gs-collect-not-collectable" in text and "甘人社通〔2021〕166号 二(五)" in text
    assert "当评审表（认定表）为缺失且资格文件为缺失时不予受理" in text
    assert "从所在单位起沿机构树逐级向上" in text
    assert f'href="{URL}/collection"' in page.text


async def test_the_editor_shows_the_stored_text(admin: Person, collection_row: dict) -> None:
    page = await admin.client.get(f"{URL}/collection")
    assert page.status_code == 200
    assert textarea(page.text) == collection_row["source"]
    assert (await admin.client.get(f"{URL}/digitization")).status_code == 404  # not offered in Gansu
    assert (await admin.client.get(f"{URL}/nonsense")).status_code == 404


async def test_a_saved_closing_date_is_what_the_case_services_follow(
    admin: Person, collection_row: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calendar, "today_in_china", lambda: AFTER_THE_WINDOW)
    gansu = await tenant("gansu")
    person = await applicant("gansu", "周晴", id_number("620100", "19800808", 777), "620102-employer-school")
    with pytest.raises(CaseError, match="已于2021年05月31日截止"):
        await start_case(gansu, person, Procedure.collection)

    source = collection_row["source"]
    assert "closes_on: 2021-05-31\n" in source
    changed = source.replace("closes_on: 2021-05-31\n", "closes_on: 2021-06-30\n")
    # As a browser sends a textarea: CRLF line ends.
    response = await admin.post(f"{URL}/collection", {"source": changed.replace("\n", "\r\n")})
    assert response.status_code == 200
    assert "已保存" in response.text
    assert textarea(response.text) == changed

    row = await procedure_source(gansu, Procedure.collection)
    assert row is not None
    assert row["source"] == changed and row["updated_by"] == f"account:{admin.account_id}"
    # The case services read the new definition at once.
    assert await start_case(gansu, person, Procedure.collection)

    event = (await events_for(gansu, action_prefix="procedure.save"))[0]
    assert event["actor"] == f"account:{admin.account_id}" and event["role"] == "tenant_admin"
    assert event["subject"] == "procedure:collection"
    listing = html.unescape((await admin.client.get(URL)).text)
    assert "2021年6月30日" in listing and f"account:{admin.account_id}" in listing


async def test_a_broken_definition_is_refused_with_its_line_and_kept(
    admin: Person, collection_row: dict
) -> None:
    source = collection_row["source"]
    lines = source.split("\n")
    line = lines.index("  - name: gender") + 1
    broken = source.replace(
        "  - name: gender\n    label: 性别\n    type: choice\n",
        "  - name: gender\n    label: 性别\n    type: colour\n",
    )
    assert broken != source
    response = await admin.post(f"{URL}/collection", {"source": broken})
    assert response.status_code == 422
    assert f"第{line}行" in response.text and "colour" in response.text
    assert textarea(response.text) == broken  # the text is kept for correcting
    assert response.text.index('id="source-error"') < response.text.index("<textarea")
    # Through htmx, the same handler answers with just the editor panel.
    partial = await admin.client.post(
        f"{URL}/collection",
        data={"source": broken},
        headers={"HX-Request": "true", "X-CSRF-Token": admin.csrf},
    )
    assert partial.status_code == 422 and "<html" not in partial.text
    assert partial.text.lstrip().startswith('<div id="procedure-editor">') and f"第{line}行" in partial.text

    syntax = await admin.post(f"{URL}/collection", {"source": "title: [unclosed\ncite: x\n"})
    assert syntax.status_code == 422 and "YAML 语法错误" in syntax.text and "第" in syntax.text
    empty = await admin.post(f"{URL}/collection", {"source": ""})
    assert empty.status_code == 422
    # Nothing was stored.
    row = await procedure_source(await tenant("gansu"), Procedure.collection)
    assert row is not None and row["source"] == source


async def test_only_the_tenant_admin_may_see_or_change_definitions(
    new_client: Callable[[], httpx.AsyncClient], collection_row: dict
) -> None:
    for grant in [("620000-province_office", Role.reviewer), ("620100-city_office", Role.org_admin)]:
        person = await signed_in_staff(new_client, "gansu", grant)
        assert (await person.client.get(URL)).status_code == 403
        assert (await person.client.get(f"{URL}/collection")).status_code == 403
        refused = await person.post(f"{URL}/collection", {"source": "title: x\n"})
        assert refused.status_code == 403
    other_tenant = await signed_in_staff(new_client, "ningxia", ("640000-province_office", Role.tenant_admin))
    assert (await other_tenant.client.get(URL)).status_code in (303, 401, 403)
    row = await procedure_source(await tenant("gansu"), Procedure.collection)
    assert row is not None and row["source"] == collection_row["source"]


async def test_a_pattern_with_lookaround_is_refused_when_saved(admin: Person) -> None:
    """RE2 runs the patterns (no backtracking): a lookahead cannot be run and is refused with its line."""
    row = await procedure_source(await tenant("gansu"), Procedure.reissue)
    assert row is not None
    source = row["source"]
    lines = source.split("\n")
    line = lines.index("  - name: old_certificate_no") + 1
    old = "    pattern: ^(-1|[0-9A-Za-z][0-9A-Za-z-]{0,31})$\n"
    assert old in source
    broken = source.replace(old, "    pattern: ^(?!0)[0-9A-Za-z]+$\n", 1)
    response = await admin.post(f"{URL}/reissue", {"source": broken})
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert f"第{line}行" in page and "old_certificate_no 的 pattern 不能使用" in page and "前后断言" in page
    stored = await procedure_source(await tenant("gansu"), Procedure.reissue)
    assert stored is not None and stored["source"] == source
