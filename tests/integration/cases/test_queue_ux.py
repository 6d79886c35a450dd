"""The reviewer's and sealer's pane over HTTP (issue 11): sealing controls disabled off the batch day with the
reason and the next batch day, confirmations and busy states on the irreversible actions, primary and danger
buttons, and the attachments' previews (rendered in the sandbox, cached by the file's hash, for the same
people as the files)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date

import httpx
import pytest
from PIL import Image

from accounts.roles import Role
from cases.services import load_case
from cases.tables import Attachment
from cases.workflow import Action, State
from core import previews
from core.storage import store_bytes
from tenants import calendar
from tests.cases_support import decide, ensure_seal, staff, tenant
from tests.people import Person, signed_in_staff
from tests.queue_support import CITY, EMPLOYER, ReissueFactory

HX = {"HX-Request": "true"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NEXT_BATCH_DAY = "下一个集中办理日是2026年11月25日"


@pytest.fixture
def on_day(monkeypatch: pytest.MonkeyPatch) -> Callable[[date], None]:
    def set_day(day: date) -> None:
        monkeypatch.setattr(calendar, "today_in_china", lambda: day)

    set_day(date(2026, 11, 24))
    return set_day


@pytest.fixture(scope="module")
async def factory() -> ReissueFactory:
    return ReissueFactory(await staff("gansu", (EMPLOYER, Role.clerk), name="预览录入员"))


@pytest.fixture(scope="module")
async def office(new_client: Callable[[], httpx.AsyncClient]) -> dict[str, Person]:
    return {
        "clerk": await signed_in_staff(new_client, "gansu", (CITY, Role.clerk), name="界面录入员"),
        "sealer": await signed_in_staff(new_client, "gansu", (CITY, Role.sealer), name="界面用印员"),
        "filer": await signed_in_staff(new_client, "gansu", (EMPLOYER, Role.clerk), name="界面填报员"),
        "county": await signed_in_staff(new_client, "gansu", ("620102-county_hr", Role.reviewer)),
        "ningxia": await signed_in_staff(new_client, "ningxia", ("640000-province_office", Role.reviewer)),
    }


async def at_sealer(factory: ReissueFactory, name: str, serial: int) -> int:
    """A reissue the city clerk and reviewer have approved: it waits for the city sealer (batch day 25)."""
    case_id = await factory.case(name, serial=serial)
    for role in (Role.clerk, Role.reviewer):
        await decide("gansu", await staff("gansu", (CITY, role)), case_id, Action.approve)
    return case_id


def tag(html: str, pattern: str) -> str:
    """The first start tag matching ``pattern`` (a regular expression inside ``<…>``)."""
    match = re.search(rf"<{pattern}[^>]*>", html)
    assert match, f"no <{pattern}…> in the page"
    return match.group(0)


def approve_button(html: str) -> str:
    return tag(html, r'button [^>]*id="approve-button"')


# --- the batch day ---------------------------------------------------------------------------------------


async def test_sealing_controls_are_disabled_off_the_batch_day_with_the_next_one(
    factory: ReissueFactory, office: dict[str, Person], on_day: Callable[[date], None]
) -> None:
    await ensure_seal("gansu", CITY)
    case_id = await at_sealer(factory, "批量日", serial=201)
    sealer = office["sealer"]
    listing = "/t/gansu/queue?procedure=reissue&q=%E6%89%B9%E9%87%8F%E6%97%A5"  # q=批量日

    page = await sealer.get(listing)
    assert "今天不能用印：" in page.text and NEXT_BATCH_DAY in page.text
    button = tag(page.text, r'button [^>]*id="batch-button"')
    assert " disabled" in button and 'aria-describedby="batch-closed"' in button
    assert " disabled" in tag(page.text, rf'input type="checkbox" name="case_id" value="{case_id}"')
    assert " disabled" in tag(page.text, r'input type="checkbox" id="batch-all"')

    pane = await sealer.get(f"/t/gansu/queue/{case_id}?procedure=reissue", headers=HX)
    assert 'id="sealing-closed"' in pane.text and NEXT_BATCH_DAY in pane.text
    button = approve_button(pane.text)
    assert " disabled" in button and 'aria-describedby="sealing-closed"' in button
    # Returning or refusing is not tied to the batch day.
    assert " disabled" not in tag(pane.text, r'button [^>]*value="return"')

    # The sealing itself is refused on the server too, with the same reason; nothing changes.
    current = (await load_case(await tenant("gansu"), case_id)).row["version"]
    refused = await sealer.post(
        f"/t/gansu/queue/{case_id}/decision", {"action": "approve", "version": str(current)}, headers=HX
    )
    assert refused.status_code == 422 and NEXT_BATCH_DAY in refused.text
    assert (await load_case(await tenant("gansu"), case_id)).state is State.in_review

    # 2026-10-25 is a Sunday: that month's batch day moves to Monday the 26th.
    on_day(date(2026, 10, 25))
    pane = await sealer.get(f"/t/gansu/queue/{case_id}?procedure=reissue", headers=HX)
    assert "下一个集中办理日是2026年10月26日" in pane.text and " disabled" in approve_button(pane.text)

    on_day(date(2026, 10, 26))
    page = await sealer.get(listing)
    assert "今天不能用印" not in page.text
    assert " disabled" not in tag(page.text, r'button [^>]*id="batch-button"')
    assert " disabled" not in tag(page.text, rf'input type="checkbox" name="case_id" value="{case_id}"')
    pane = await sealer.get(f"/t/gansu/queue/{case_id}?procedure=reissue", headers=HX)
    assert 'id="sealing-closed"' not in pane.text and " disabled" not in approve_button(pane.text)


async def test_steps_without_a_batch_day_are_unaffected(
    factory: ReissueFactory, office: dict[str, Person], on_day: Callable[[date], None]
) -> None:
    case_id = await factory.case("非批量", serial=202)
    pane = await office["clerk"].get(f"/t/gansu/queue/{case_id}?procedure=reissue", headers=HX)
    assert pane.status_code == 200
    assert "今天不能用印" not in pane.text and " disabled" not in approve_button(pane.text)


# --- confirmations, busy state, styles -------------------------------------------------------------------


async def test_irreversible_actions_ask_first_and_show_a_busy_state(
    factory: ReissueFactory, office: dict[str, Person], on_day: Callable[[date], None]
) -> None:
    await ensure_seal("gansu", CITY)
    sealing = await at_sealer(factory, "确认用印", serial=203)
    reviewing = await factory.case("确认审核", serial=204)

    sealer_pane = (await office["sealer"].get(f"/t/gansu/queue/{sealing}?procedure=reissue", headers=HX)).text
    seal = approve_button(sealer_pane)
    assert "hx-confirm=" in seal and "用印" in seal and 'class="button primary"' in seal
    refuse = tag(sealer_pane, r'button [^>]*value="refuse"')
    assert "hx-confirm=" in refuse and 'class="button danger"' in refuse
    form = tag(sealer_pane, r'form id="decision-form"')
    assert 'hx-disabled-elt="#decision-form button"' in form and 'hx-indicator="#decision-busy"' in form
    assert 'method="post"' in form and f'action="/t/gansu/queue/{sealing}/decision"' in form  # without JS
    assert 'id="decision-busy" class="htmx-indicator' in sealer_pane

    clerk_pane = (await office["clerk"].get(f"/t/gansu/queue/{reviewing}?procedure=reissue", headers=HX)).text
    approve = approve_button(clerk_pane)
    assert "hx-confirm" not in approve and "审核通过" in clerk_pane  # passing a case on can be undone
    assert "hx-confirm=" in tag(clerk_pane, r'button [^>]*value="refuse"')
    assert "hx-confirm" not in tag(clerk_pane, r'button [^>]*value="return"')

    listing = (await office["sealer"].get("/t/gansu/queue?procedure=reissue")).text
    batch = tag(listing, r'button [^>]*id="batch-button"')
    assert "hx-confirm=" in batch and 'hx-disabled-elt="this"' in batch
    assert 'hx-indicator="#batch-busy"' in batch
    # The rows' links sit inside the batch form: the confirmation must not be inherited by them.
    assert "hx-confirm" not in tag(listing, r'form id="batch-form"')
    assert 'action="/t/gansu/queue/seal-batch"' in tag(listing, r'form id="batch-form"')


# --- attachment previews ---------------------------------------------------------------------------------


def preview_url(case_id: int, slot: str) -> str:
    return f"/t/gansu/cases/{case_id}/files/{slot}/preview"


async def stored(case_id: int, slot: str) -> dict:
    row = await Attachment.select().where(Attachment.case == case_id, Attachment.slot == slot).first()
    assert row is not None
    return row


async def test_previews_are_pngs_for_those_who_may_see_the_file(
    factory: ReissueFactory, office: dict[str, Person], client: httpx.AsyncClient
) -> None:
    case_id = await factory.case("预览", serial=205)
    pane = await office["clerk"].get(f"/t/gansu/queue/{case_id}?procedure=reissue", headers=HX)
    assert f'src="{preview_url(case_id, "qualification_doc")}"' in pane.text
    assert f'src="{preview_url(case_id, "photo")}"' in pane.text

    for key in ("clerk", "filer"):  # the office on the case's chain, the employer's clerk who filed it
        page = await office[key].get(preview_url(case_id, "qualification_doc"))
        assert page.status_code == 200, page.text
        assert page.headers["content-type"] == "image/png"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert "no-store" in page.headers["cache-control"]
        with Image.open(io.BytesIO(page.content)) as image:
            assert image.format == "PNG" and image.width == previews.PREVIEW_WIDTH  # the A4 page, scaled
            assert image.height > image.width
    photo = await office["clerk"].get(preview_url(case_id, "photo"))
    assert photo.status_code == 200 and photo.content.startswith(PNG_SIGNATURE)  # the JPEG, re-encoded
    assert (await stored(case_id, "photo"))["media_type"] == "image/jpeg"

    assert (await office["county"].get(preview_url(case_id, "photo"))).status_code == 403  # not on the chain
    assert (await office["ningxia"].get(preview_url(case_id, "photo"))).status_code in (303, 403)
    anonymous = await client.get(preview_url(case_id, "photo"))
    assert anonymous.status_code == 303 and "/signin" in anonymous.headers["location"]
    assert (await office["clerk"].get(preview_url(case_id, "nonexistent"))).status_code == 404


async def test_previews_render_in_the_sandbox_and_are_cached_by_content_hash(
    factory: ReissueFactory, office: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = await factory.case("沙箱", serial=206)
    clerk = office["clerk"]
    # A file no parser can read (kept before the upload checks existed, say): no preview, the server lives.
    broken = store_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer <<>>\n%%EOF\n")
    await Attachment.update({Attachment.sha256: broken}).where(
        Attachment.case == case_id, Attachment.slot == "review_form"
    )
    refused = await clerk.get(preview_url(case_id, "review_form"))
    assert refused.status_code == 404 and "无法生成预览" in refused.text
    assert not previews.preview_path(broken).exists()

    # The renderer is the capped child process: under a cap too small for it, no preview comes out.
    digest = (await stored(case_id, "qualification_doc"))["sha256"]
    previews.preview_path(digest).unlink(missing_ok=True)
    monkeypatch.setattr(previews, "PREVIEW_MEMORY", 32 * 1024 * 1024)
    capped = await clerk.get(preview_url(case_id, "qualification_doc"))
    assert capped.status_code == 404 and "无法生成预览" in capped.text
    monkeypatch.undo()

    rendered = await clerk.get(preview_url(case_id, "qualification_doc"))
    assert rendered.status_code == 200
    cached = previews.preview_path(digest)
    assert cached.read_bytes() == rendered.content
    # Once rendered, the file's hash finds the preview: the next request is served from the cache.
    marker = Image.new("RGB", (3, 2), (255, 0, 0))
    buffer = io.BytesIO()
    marker.save(buffer, "PNG")
    cached.write_bytes(buffer.getvalue())
    again = await clerk.get(preview_url(case_id, "qualification_doc"))
    assert again.content == buffer.getvalue()
    cached.unlink()
