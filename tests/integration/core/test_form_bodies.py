"""Bodies that do not parse, and values with control characters, are refused in one place (the app's
request class, ``core.web.FormRequest``) for every form: public ones before sign-in and signed-in ones."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import httpx
import pytest

from accounts.roles import Role
from cases.services import load_case
from cases.workflow import Action
from tenants.vocabulary import Procedure
from tests.cases_support import build_case, decide, id_number, staff, submit, tenant
from tests.integration.cases.test_exports import COVERS, SCHOOL, digitization_parts
from tests.people import Person, csrf_from, signed_in_applicant, signed_in_staff

BROKEN_BOUNDARY = b'--XYZ\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\nabc'  # never closed
NOT_UTF8 = b'--XYZ\r\nContent-Disposition: form-data; name="username"\r\n\r\n\xff\xfe\r\n--XYZ--\r\n'
MALFORMED_MESSAGE = "提交的表单内容不完整或格式有误"
CONTROL_MESSAGE = "含有不可见的控制字符"
_serials = itertools.count(801)


async def post_raw(client: httpx.AsyncClient, url: str, csrf: str, body: bytes) -> httpx.Response:
    headers = {"content-type": "multipart/form-data; boundary=XYZ", "x-csrf-token": csrf}
    return await client.post(url, content=body, headers=headers)


@pytest.mark.parametrize("body", [BROKEN_BOUNDARY, NOT_UTF8], ids=["broken boundary", "not UTF-8"])
@pytest.mark.parametrize("url", ["/t/gansu/signin/staff", "/t/gansu/verify-file/"])
async def test_a_malformed_public_form_is_a_400_in_chinese(
    new_client: Callable[..., httpx.AsyncClient], url: str, body: bytes
) -> None:
    async with new_client() as client:
        csrf = csrf_from((await client.get("/t/gansu/signin")).text)
        for csrf_sent in (csrf, ""):  # also before the CSRF check can tell
            response = await post_raw(client, url, csrf_sent, body)
            assert response.status_code == 400
            assert MALFORMED_MESSAGE in response.text


@pytest.mark.parametrize("body", [BROKEN_BOUNDARY, NOT_UTF8], ids=["broken boundary", "not UTF-8"])
async def test_a_malformed_signed_in_upload_is_a_400_in_chinese(
    people: dict[str, Person], body: bytes
) -> None:
    admin = people["tenant_admin"]
    response = await post_raw(admin.client, "/t/gansu/admin/seals/", admin.csrf, body)
    assert response.status_code == 400 and MALFORMED_MESSAGE in response.text


async def test_a_nul_in_the_sign_in_name_is_refused(new_client: Callable[..., httpx.AsyncClient]) -> None:
    async with new_client() as client:
        csrf = csrf_from((await client.get("/t/gansu/signin")).text)
        response = await client.post(
            "/t/gansu/signin/applicant",
            data={"_csrf": csrf, "id_number": "622826198501306421", "name": "张\x00三", "password": "x"},
        )
    assert response.status_code == 422 and CONTROL_MESSAGE in response.text


async def test_tab_and_new_lines_pass(new_client: Callable[..., httpx.AsyncClient]) -> None:
    async with new_client() as client:
        csrf = csrf_from((await client.get("/t/gansu/signin")).text)
        response = await client.post(
            "/t/gansu/signin/staff", data={"_csrf": csrf, "username": "a\tb\r\nc", "password": "x"}
        )
    assert response.status_code == 422 and CONTROL_MESSAGE not in response.text


async def test_control_characters_in_a_case_field_and_a_return_reason_are_refused(
    new_client: Callable[[], httpx.AsyncClient],
) -> None:
    holder_id = id_number("640100", "19661001", next(_serials))
    holder = await signed_in_applicant(new_client, "ningxia", "马晓中", holder_id, SCHOOL)
    person = holder.principal
    parts = digitization_parts()
    case_id = await build_case("ningxia", Procedure.digitization, person, parts, COVERS)
    case = await load_case(await tenant("ningxia"), case_id)
    saved = await holder.post(
        f"/t/ningxia/cases/{case_id}/parts/1",
        {**parts[1], "specialty": "兽\x00医", "version": str(case.row["version"])},
    )
    assert saved.status_code == 422 and CONTROL_MESSAGE in saved.text
    assert (await load_case(await tenant("ningxia"), case_id)).row["data"]["specialty"] == "兽医"

    await submit("ningxia", person, case_id)
    unit_admin = await signed_in_staff(new_client, "ningxia", (SCHOOL, Role.org_admin))
    returned = await unit_admin.post(
        f"/t/ningxia/queue/{case_id}/decision",
        {"action": "return", "reason": "照片\x1b不清晰", "version": str(case.row["version"] + 1)},
    )
    assert returned.status_code == 422 and CONTROL_MESSAGE in returned.text
    # Still waiting for the unit admin: the same decision with a clean reason goes through.
    await decide(
        "ningxia", await staff("ningxia", (SCHOOL, Role.org_admin)), case_id, Action.return_, "照片不清晰"
    )
