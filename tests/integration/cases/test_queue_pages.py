"""The reviewer queue over HTTP (issue 4 item 4): the Lanzhou city office's clerk, reviewer and sealer work
real Gansu reissue cases (甘职改办〔2020〕2号) filed through the case services: the list with its counts and
filters, keyset paging, the detail pane as a partial and as a page, approve / return / refuse inline, stale
versions, the sealer's batch on batch day, tenant and role scoping, and two reviewers clicking at once."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import date, datetime

import httpx
import pytest

from accounts.roles import Role
from cases.services import load_case, my_cases
from cases.tables import Case, CaseEvent
from cases.workflow import Action, State
from certificates.tables import Certificate
from tenants import calendar
from tests.cases_support import decide, ensure_seal, id_number, org, staff, tenant
from tests.people import Person, signed_in_staff
from tests.queue_support import CITY, EMPLOYER, ReissueFactory

HX = {"HX-Request": "true"}
BATCH_DAY = date(2026, 11, 25)  # a Wednesday, no holiday: the reissue batch day (四)
NOT_BATCH_DAY = date(2026, 11, 24)


@pytest.fixture
def on_day(monkeypatch: pytest.MonkeyPatch) -> Callable[[date], None]:
    def set_day(day: date) -> None:
        monkeypatch.setattr(calendar, "today_in_china", lambda: day)

    set_day(NOT_BATCH_DAY)
    return set_day


@pytest.fixture(scope="module")
async def factory() -> ReissueFactory:
    return ReissueFactory(await staff("gansu", (EMPLOYER, Role.clerk)))


@pytest.fixture(scope="module")
async def office(new_client: Callable[[], httpx.AsyncClient]) -> dict[str, Person]:
    """The city office's staff, signed in over HTTP, plus people who must not see its queue."""
    return {
        "clerk": await signed_in_staff(new_client, "gansu", (CITY, Role.clerk), name="城市录入员"),
        "reviewer": await signed_in_staff(new_client, "gansu", (CITY, Role.reviewer), name="城市审核员"),
        "reviewer2": await signed_in_staff(new_client, "gansu", (CITY, Role.reviewer), name="城市审核员乙"),
        "sealer": await signed_in_staff(new_client, "gansu", (CITY, Role.sealer), name="城市用印员"),
        "county_reviewer": await signed_in_staff(new_client, "gansu", ("620102-county_hr", Role.reviewer)),
        "employer_admin": await signed_in_staff(new_client, "gansu", (EMPLOYER, Role.org_admin)),
        "ningxia": await signed_in_staff(new_client, "ningxia", ("640000-province_office", Role.reviewer)),
    }


async def waiting(code: str, role: Role, procedure: str = "reissue") -> int:
    city = await org("gansu", code)
    return await Case.count().where(
        Case.current_org == city["id"],
        Case.current_role == role.value,
        Case.procedure == procedure,
        Case.state.is_in([State.in_review.value, State.approved.value]),
    )


def row_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<li id="row-(\d+)" class="q-row"', html)]


def tab_count(html: str, procedure: str = "reissue") -> str:
    match = re.search(rf'<span class="count" id="count-{procedure}">([^<]+)</span>', html)
    assert match, "no count for the tab"
    return match.group(1)


async def as_clerk_at_reviewer(factory: ReissueFactory, name: str, serial: int = 1) -> int:
    """A submitted case the city clerk has already passed on: it waits for the city reviewer."""
    case_id = await factory.case(name, serial=serial)
    await decide("gansu", await staff("gansu", (CITY, Role.clerk)), case_id, Action.approve)
    return case_id


async def version(case_id: int) -> int:
    return int((await load_case(await tenant("gansu"), case_id)).row["version"])


# --- the list ---------------------------------------------------------------------------------------------


async def test_list_shows_waiting_cases_with_counts_and_filters(
    factory: ReissueFactory, office: dict[str, Person]
) -> None:
    first = await factory.case("筛选甲", serial=11)
    second = await factory.case("筛选乙", serial=12, level="associate_senior")
    third = await factory.case("筛选丙", serial=13, series="卫生系列")
    clerk = office["clerk"]

    page = await clerk.client.get("/t/gansu/queue")
    assert page.status_code == 200
    assert "<html" in page.text and 'id="queue-pane"' in page.text
    assert tab_count(page.text) == str(await waiting(CITY, Role.clerk))
    assert "遗失纸质证书补办电子证书" in page.text  # the tab's title is the procedure's, from the preset
    shown = row_ids(page.text)
    assert {first, second, third} <= set(shown)
    assert f"****{id_number(serial=11)[-4:]}" in page.text  # only the last four digits of the ID number
    assert id_number(serial=11) not in page.text
    assert "职改办录入员审核编辑并提交" in page.text  # the step label

    async def listed(**params: str) -> list[int]:
        response = await clerk.client.get(
            "/t/gansu/queue", params={"procedure": "reissue", **params}, headers=HX
        )
        assert response.status_code == 200, response.text
        assert "<html" not in response.text  # htmx gets the list alone
        return [case_id for case_id in row_ids(response.text) if case_id in (first, second, third)]

    assert await listed(q="筛选") == [first, second, third]  # a name's beginning, in queue order
    assert await listed(q="筛选乙") == [second]  # the whole name
    assert await listed(q=id_number(serial=13)[-4:]) == [third]  # the last four ID digits
    assert await listed(q="筛选", level="associate_senior") == [second]
    assert await listed(q="筛选", series="卫生系列") == [third]
    today = datetime.now(calendar.CHINA).date()
    assert await listed(q="筛选", **{"from": today.isoformat()}) == [first, second, third]
    assert await listed(q="筛选", to=date(2020, 1, 1).isoformat()) == []

    wrong = await clerk.client.get("/t/gansu/queue", params={"from": "昨天", "level": "grand"})
    assert wrong.status_code == 422
    assert "提交日期（起）应为日期" in wrong.text and "请从列表中选择级别" in wrong.text
    assert 'value="昨天"' in wrong.text  # the input comes back as typed


async def test_keyset_paging_walks_every_case_once(
    factory: ReissueFactory, office: dict[str, Person]
) -> None:
    created = [await factory.case(f"翻页{index:02d}", serial=100 + index) for index in range(62)]
    clerk = office["clerk"]
    seen: list[int] = []
    url: str | None = "/t/gansu/queue?procedure=reissue&q=%E7%BF%BB%E9%A1%B5"  # q=翻页
    pages = 0
    while url:
        response = await clerk.client.get(url, headers=HX)
        assert response.status_code == 200
        seen += row_ids(response.text)
        match = re.search(r'<a href="([^"]+)" hx-get="[^"]+" rel="next">下一页</a>', response.text)
        url = match.group(1).replace("&amp;", "&") if match else None
        pages += 1
    assert pages == 3
    assert seen == created  # oldest first, each once


# --- the pane ---------------------------------------------------------------------------------------------


async def test_pane_partial_and_full_page(factory: ReissueFactory, office: dict[str, Person]) -> None:
    case_id = await factory.case("窗格", serial=21)
    clerk = office["clerk"]
    partial = await clerk.client.get(f"/t/gansu/queue/{case_id}?procedure=reissue", headers=HX)
    assert partial.status_code == 200
    assert "<html" not in partial.text and 'id="queue-list"' not in partial.text
    assert f'data-case-id="{case_id}"' in partial.text
    # The clerk acts on the case now and must 核对 the holder's identity: the full ID number (issue 11).
    assert id_number(serial=21) in partial.text and "622826********" not in partial.text
    assert f"/t/gansu/cases/{case_id}/files/photo" in partial.text
    assert f"/t/gansu/cases/{case_id}/parts/0" in partial.text  # the clerk's step may edit (六(四))
    assert 'aria-current="step"' in partial.text and "职改办录入员审核编辑并提交" in partial.text
    assert "提交" in partial.text  # the history
    assert 'name="version"' in partial.text

    page = await clerk.client.get(f"/t/gansu/queue/{case_id}?procedure=reissue&q=%E7%AA%97%E6%A0%BC")  # 窗格
    assert page.status_code == 200
    assert "<html" in page.text and 'id="queue-list"' in page.text
    assert f'<li id="row-{case_id}" class="q-row" aria-current="true">' in page.text
    assert f'data-case-id="{case_id}"' in page.text

    restore = await clerk.client.get(
        f"/t/gansu/queue/{case_id}", headers={**HX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.text  # htmx restoring history gets the whole page


async def test_other_tenants_and_other_orgs_cannot_see_the_city_queue(
    factory: ReissueFactory, office: dict[str, Person]
) -> None:
    case_id = await factory.case("保密", serial=31)
    current = await version(case_id)
    for key in ("county_reviewer", "employer_admin", "reviewer"):
        person = office[key]
        listing = await person.client.get("/t/gansu/queue")
        assert listing.status_code == 200
        assert case_id not in row_ids(listing.text)
        opened = await person.client.get(f"/t/gansu/queue/{case_id}", headers=HX)
        assert opened.status_code == 404
        acted = await person.post(
            f"/t/gansu/queue/{case_id}/decision", {"action": "approve", "version": str(current)}
        )
        assert acted.status_code == 404
    ningxia = office["ningxia"]
    assert (await ningxia.client.get("/t/ningxia/queue")).status_code == 200
    foreign = await ningxia.client.get(f"/t/gansu/queue/{case_id}")
    assert foreign.status_code == 303 and "/t/gansu/signin" in foreign.headers["location"]
    foreign_post = await ningxia.post(f"/t/gansu/queue/{case_id}/decision", {"action": "approve"})
    assert foreign_post.status_code == 403
    mine_elsewhere = await ningxia.client.get(f"/t/ningxia/queue/{case_id}")
    assert mine_elsewhere.status_code == 404  # a Gansu case id means nothing in Ningxia
    assert await version(case_id) == current


# --- deciding ---------------------------------------------------------------------------------------------


async def test_approve_moves_the_case_on_and_opens_the_next(
    factory: ReissueFactory, office: dict[str, Person]
) -> None:
    first = await factory.case("通过甲", serial=41)
    second = await factory.case("通过乙", serial=42)
    clerk = office["clerk"]
    before = await waiting(CITY, Role.clerk)
    response = await clerk.post(
        f"/t/gansu/queue/{first}/decision",
        {"action": "approve", "version": str(await version(first)), "procedure": "reissue", "q": "通过"},
        headers=HX,
    )
    assert response.status_code == 200, response.text
    assert f'<li id="row-{first}" hx-swap-oob="delete"></li>' in response.text  # the row leaves
    assert f'data-case-id="{second}"' in response.text  # the next one opens
    assert 'id="queue-tabs" class="queue-tabs" aria-label="事项与状态" hx-swap-oob="true"' in response.text
    assert tab_count(response.text) == str(before - 1)  # counts updated
    assert "通过甲：已转兰州市职称改革办公室职改办审核员审核" in response.text
    assert (
        response.headers["HX-Push-Url"] == f"/t/gansu/queue/{second}?procedure=reissue&q=%E9%80%9A%E8%BF%87"
    )
    case = await load_case(await tenant("gansu"), first)
    assert case.current_step is not None and case.current_step.role is Role.reviewer

    # Without JavaScript: a redirect to the next case, whose page says what happened.
    plain = await clerk.post(
        f"/t/gansu/queue/{second}/decision",
        {"action": "approve", "version": str(await version(second)), "procedure": "reissue", "q": "通过"},
    )
    assert plain.status_code == 303
    assert plain.headers["location"].startswith("/t/gansu/queue")
    landed = await clerk.client.get(plain.headers["location"])
    assert "通过乙：已转兰州市职称改革办公室职改办审核员审核" in landed.text
    again = await clerk.client.get(plain.headers["location"])
    assert "通过乙：已转" not in again.text  # said once


async def test_return_needs_a_reason_and_reaches_the_filer(
    factory: ReissueFactory, office: dict[str, Person]
) -> None:
    case_id = await as_clerk_at_reviewer(factory, "退回", serial=51)
    reviewer = office["reviewer"]
    current = await version(case_id)
    missing = await reviewer.post(
        f"/t/gansu/queue/{case_id}/decision",
        {"action": "return", "version": str(current), "reason": "  "},
        headers=HX,
    )
    assert missing.status_code == 422
    assert "请填写理由" in missing.text and 'aria-invalid="true"' in missing.text
    assert await version(case_id) == current

    too_long = "复印件不清晰" * 100
    kept = await reviewer.post(
        f"/t/gansu/queue/{case_id}/decision",
        {"action": "return", "version": str(current), "reason": too_long},
    )
    assert kept.status_code == 422 and "<html" in kept.text
    assert too_long in kept.text  # what was typed survives the error

    done = await reviewer.post(
        f"/t/gansu/queue/{case_id}/decision",
        {"action": "return", "version": str(current), "reason": "审批表复印件不清晰，请重新扫描"},
        headers=HX,
    )
    assert done.status_code == 200
    assert f'<li id="row-{case_id}" hx-swap-oob="delete"></li>' in done.text
    gansu = await tenant("gansu")
    filed = {row["id"]: row for row in await my_cases(gansu, factory.filer)}
    assert State(filed[case_id]["state"]).label == "已退回"
    assert filed[case_id]["return_reason"] == "审批表复印件不清晰，请重新扫描"


async def test_stale_version_is_told_and_nothing_changes(
    factory: ReissueFactory, office: dict[str, Person]
) -> None:
    case_id = await as_clerk_at_reviewer(factory, "冲突", serial=61)
    stale = await version(case_id) - 1
    reviewer = office["reviewer"]
    response = await reviewer.post(
        f"/t/gansu/queue/{case_id}/decision",
        {"action": "refuse", "version": str(stale), "reason": "我写的理由"},
        headers=HX,
    )
    assert response.status_code == 409
    assert "该案件刚刚已被他人处理或修改" in response.text
    assert "我写的理由" in response.text  # nothing lost
    assert f'name="version" value="{stale + 1}"' in response.text  # the pane shows the latest state
    assert (await load_case(await tenant("gansu"), case_id)).state is State.in_review


# --- the sealer's batch -----------------------------------------------------------------------------------


async def test_batch_seal_only_on_batch_day(
    factory: ReissueFactory, office: dict[str, Person], on_day: Callable[[date], None]
) -> None:
    await ensure_seal("gansu", CITY)
    reviewer = await staff("gansu", (CITY, Role.reviewer))
    cases = []
    for index in range(3):
        case_id = await as_clerk_at_reviewer(factory, f"用印{index}", serial=71 + index)
        await decide("gansu", reviewer, case_id, Action.approve)
        cases.append(case_id)
    sealer = office["sealer"]
    page = await sealer.client.get("/t/gansu/queue?procedure=reissue&q=%E7%94%A8%E5%8D%B0")  # q=用印
    assert "批量用印" in page.text
    for case_id in cases:
        assert f'name="case_id" value="{case_id}"' in page.text

    items = {"case_id": [str(c) for c in cases[:2]]}
    for case_id in cases[:2]:
        items[f"version_{case_id}"] = [str(await version(case_id))]
    refused = await sealer.post("/t/gansu/queue/seal-batch", items, headers=HX)  # type: ignore[arg-type]
    assert refused.status_code == 200
    results = refused.text.split('<section id="queue-list"')[0]  # the batch's result, before the list
    assert results.count("下一个集中办理日是2026年11月25日") == 2
    gansu = await tenant("gansu")
    assert [(await load_case(gansu, c)).state for c in cases] == [State.in_review] * 3

    on_day(BATCH_DAY)
    sealed = await sealer.post("/t/gansu/queue/seal-batch", items, headers=HX)  # type: ignore[arg-type]
    assert sealed.status_code == 200
    assert sealed.text.count("已用印，电子证书已生成") == 2
    assert 'id="queue-list"' in sealed.text and 'hx-swap-oob="true"' in sealed.text
    for case_id in cases[:2]:
        case = await load_case(await tenant("gansu"), case_id)
        assert case.state is State.completed
        assert await Certificate.exists().where(Certificate.id == case.row["certificate"])
    assert (await load_case(await tenant("gansu"), cases[2])).state is State.in_review

    nothing = await sealer.post("/t/gansu/queue/seal-batch", {})
    assert nothing.status_code == 422 and "请先勾选要用印的案件" in nothing.text


# --- two reviewers at once --------------------------------------------------------------------------------


@pytest.mark.postgres_only
async def test_two_reviewers_approving_at_once_exactly_one_wins(
    factory: ReissueFactory, office: dict[str, Person]
) -> None:
    """Issue 4 item 3: two people acting on one case at once — exactly one wins, the other is told, nothing
    is lost. Three rounds, so that the requests interleave at different points."""
    for round_ in range(3):
        case_id = await as_clerk_at_reviewer(factory, f"并发{round_}", serial=81 + round_)
        current = await version(case_id)
        data = {"action": "approve", "version": str(current), "procedure": "reissue"}
        first, second = await asyncio.gather(
            office["reviewer"].post(f"/t/gansu/queue/{case_id}/decision", data, headers=HX),
            office["reviewer2"].post(f"/t/gansu/queue/{case_id}/decision", data, headers=HX),
        )
        assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
        loser = first if first.status_code == 409 else second
        assert "该案件刚刚已被他人处理或修改" in loser.text
        case = await load_case(await tenant("gansu"), case_id)
        assert case.row["step"] == 2 and case.row["version"] == current + 1  # one step on, once
        approvals = await CaseEvent.count().where(
            CaseEvent.case == case_id,
            CaseEvent.action == Action.approve.value,
            CaseEvent.role == Role.reviewer.value,
        )
        assert approvals == 1
