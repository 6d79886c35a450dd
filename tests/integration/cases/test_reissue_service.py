"""Gansu reissue (甘职改办〔2020〕2号) through the case services: filing, the office's clerk → reviewer →
sealer chain, the recheck escalation, the batch day, separation of duties and the certificate it ends in."""

from __future__ import annotations

from datetime import date

import pytest

from accounts.roles import Role
from cases.services import (
    CaseError,
    Conflict,
    FormInvalid,
    act,
    load_case,
    save_part,
    start_case,
    submit_case,
    upload_attachment,
)
from cases.workflow import Action, State
from certificates.tables import Certificate
from tenants import calendar
from tenants.vocabulary import Procedure
from tests.cases_support import REISSUE_TITLE, ensure_seal, pdf_file, photo, staff, tenant

BATCH_DAY = date(2026, 11, 25)  # a Wednesday, and no holiday
NOT_BATCH_DAY = date(2026, 11, 24)

HOLDER = {"holder_name": "李四", "id_number": "622826198501306421", "gender": "男"}
TITLE = REISSUE_TITLE


@pytest.fixture
def on_day(monkeypatch: pytest.MonkeyPatch):
    def set_day(day: date) -> None:
        monkeypatch.setattr(calendar, "today_in_china", lambda: day)

    return set_day


async def filed_case(filer, slug: str = "gansu", title: dict[str, str] | None = None) -> int:
    where = await tenant(slug)
    case_id = await start_case(where, filer, Procedure.reissue)
    case = await load_case(where, case_id)
    cleaned = await save_part(where, filer, case_id, 0, HOLDER, case.row["version"])
    assert not cleaned.errors
    case = await load_case(where, case_id)
    cleaned = await save_part(where, filer, case_id, 1, title or TITLE, case.row["version"])
    assert not cleaned.errors, cleaned.errors
    await upload_attachment(where, filer, case_id, "photo", "photo.jpg", photo())
    await upload_attachment(where, filer, case_id, "qualification_doc", "doc.pdf", pdf_file())
    await upload_attachment(where, filer, case_id, "review_form", "form.pdf", pdf_file())
    return case_id


async def version_of(case_id: int) -> int:
    return (await load_case(await tenant("gansu"), case_id)).row["version"]


async def test_reissue_climbs_the_city_office_and_ends_in_a_certificate(on_day) -> None:
    on_day(NOT_BATCH_DAY)
    gansu = await tenant("gansu")
    employer_clerk = await staff("gansu", ("620102-employer-school", Role.clerk))
    clerk = await staff("gansu", ("620100-city_office", Role.clerk))
    reviewer = await staff("gansu", ("620100-city_office", Role.reviewer))
    sealer = await staff("gansu", ("620100-city_office", Role.sealer))
    await ensure_seal("gansu", "620100-city_office")

    case_id = await filed_case(employer_clerk)
    first = await submit_case(gansu, employer_clerk, case_id, await version_of(case_id))
    # 三(二)1: a county employer's intermediate certificate is reissued by the city office.
    assert (first.org, first.role) == ("620100-city_office", Role.clerk)

    await act(gansu, clerk, case_id, Action.approve, version=await version_of(case_id))
    await act(gansu, reviewer, case_id, Action.approve, version=await version_of(case_id))
    with pytest.raises(CaseError, match="下一个集中办理日是2026年11月25日"):
        await act(gansu, sealer, case_id, Action.approve, version=await version_of(case_id))
    on_day(BATCH_DAY)
    outcome = await act(gansu, sealer, case_id, Action.approve, version=await version_of(case_id))
    assert outcome.state is State.completed and outcome.certificate_id
    certificate = await Certificate.select().where(Certificate.id == outcome.certificate_id).first()
    assert certificate["replaces_paper_number"] == "-1"
    assert certificate["holder_name"] == "李四"


async def test_stale_version_loses(on_day) -> None:
    on_day(NOT_BATCH_DAY)
    gansu = await tenant("gansu")
    employer_clerk = await staff("gansu", ("620102-employer-school", Role.clerk))
    clerk = await staff("gansu", ("620100-city_office", Role.clerk))
    case_id = await filed_case(employer_clerk)
    version = await version_of(case_id)
    await submit_case(gansu, employer_clerk, case_id, version)
    with pytest.raises(Conflict):
        await act(gansu, clerk, case_id, Action.approve, version=version)


async def test_missing_attachment_and_refusals(on_day) -> None:
    on_day(NOT_BATCH_DAY)
    gansu = await tenant("gansu")
    employer_clerk = await staff("gansu", ("620102-employer-school", Role.clerk))
    case_id = await start_case(gansu, employer_clerk, Procedure.reissue)
    with pytest.raises(FormInvalid) as invalid:
        await submit_case(gansu, employer_clerk, case_id, await version_of(case_id))
    assert invalid.value.errors["holder_name"] == "请填写姓名"
    case = await load_case(gansu, case_id)
    await save_part(gansu, employer_clerk, case_id, 0, HOLDER, case.row["version"])
    await save_part(gansu, employer_clerk, case_id, 1, TITLE, await version_of(case_id))
    with pytest.raises(FormInvalid) as invalid:
        await submit_case(gansu, employer_clerk, case_id, await version_of(case_id))
    assert invalid.value.errors == {
        "photo": "请上传1吋彩色照片",
        "qualification_doc": "请上传原职称资格文件复印件（加盖单位公章，600dpi 扫描）",
        "review_form": "请上传审批表（认定表）复印件（加盖单位公章，600dpi 扫描）",
    }

    national = await filed_case(employer_clerk, title={**TITLE, "route": "exam", "certificate": "national"})
    with pytest.raises(CaseError, match="请按省人力资源考试中心的相关要求补办"):
        await submit_case(gansu, employer_clerk, national, await version_of(national))
    recent = await filed_case(employer_clerk, title={**TITLE, "obtained_on": "2019-03-01"})
    with pytest.raises(CaseError, match="只有2018年底前取得的纸质证书可以补办"):
        await submit_case(gansu, employer_clerk, recent, await version_of(recent))
