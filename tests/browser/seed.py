"""Test data for the browser suite, written through the services into the server's scratch database before
the server starts (run by tests/browser/conftest.py in the server's environment, after `zhicheng setup`):

- the people the tests sign in as: Gansu staff with their grants, a known password and no forced change
  (as tests/people.ready_account does), the applicant whose certificate the flow reissues, and the holder
  of the background case sealed here;
- the Lanzhou city office's seal (the sample imprint through the real capture) and the default template;
- Gansu's allowed portal origins (the Tenant row's ``frame_ancestors``; the app caches them, hence before
  the server starts);
- background cases filed by another employer through the case services: a few waiting at the city office's
  clerk (so the queue has rows to move through), two waiting at its sealer (the batch-day and confirmation
  tests) and one sealed on a batch day, whose certificate the accessibility and embedding tests verify.

Usage: python -m tests.browser.seed CONFIG.json  — prints what it made as JSON on stdout.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any


async def seed(config: dict[str, Any]) -> dict[str, Any]:
    from accounts.roles import Role
    from accounts.services import create_applicant, create_staff
    from audit.services import SYSTEM
    from cases.workflow import Action
    from certificates.tables import Certificate
    from cli import database
    from tenants import calendar
    from tenants.tables import Tenant
    from tests.cases_support import decide, ensure_seal, id_number, org, staff, tenant
    from tests.people import ready_account
    from tests.queue_support import CITY, ReissueFactory

    # The case rules' clock, in this process only: the day the server starts on, then the batch day to seal.
    calendar.today_in_china = lambda: date.fromisoformat(config["start_day"])
    async with database():
        gansu = await tenant("gansu")
        await Tenant.update({Tenant.frame_ancestors: config["frame_ancestors"]}).where(Tenant.id == gansu.id)
        for person in config["staff"]:
            account_id, _ = await create_staff(
                gansu,
                SYSTEM,
                name=person["name"],
                username=person["username"],
                grants=[((await org("gansu", person["org"]))["id"], Role(person["role"]))],
            )
            await ready_account(account_id)
        holder = config["holder"]
        account_id = await create_applicant(
            gansu,
            SYSTEM,
            name=holder["name"],
            id_number=holder["id_number"],
            org_id=(await org("gansu", holder["employer"]))["id"],
        )
        await ready_account(account_id)
        await ensure_seal("gansu", CITY)

        # Background work, filed by another school's clerk and handled by other city office staff.
        filer = await staff("gansu", ("620102-employer-hospital", Role.clerk), name="后台录入员")
        factory = ReissueFactory(filer)
        waiting = [
            await factory.case(name, serial=serial)
            for serial, name in ((11, "赵一"), (13, "钱二"), (15, "孙三"))
        ]
        actors = {
            role: await staff("gansu", (CITY, role), name=f"后台{role.label}")
            for role in (Role.clerk, Role.reviewer, Role.sealer)
        }
        # Two more passed by the city clerk and reviewer: they wait for the sealer (batch day, confirmation).
        at_sealer = [await factory.case(name, serial=serial) for serial, name in ((19, "周五"), (21, "吴六"))]
        for case_id in at_sealer:
            for role in (Role.clerk, Role.reviewer):
                await decide("gansu", actors[role], case_id, Action.approve)
        calendar.today_in_china = lambda: date.fromisoformat(config["batch_day"])
        sealed_holder = config["sealed_holder"]
        sealed = await factory.case(sealed_holder["name"], serial=sealed_holder["serial"])
        for actor in actors.values():
            await decide("gansu", actor, sealed, Action.approve)
        row = (
            await Certificate.select(Certificate.qr_text, Certificate.number)
            .where(Certificate.tenant == gansu.id)
            .first()
        )
        assert row is not None, "the background case did not issue a certificate"
        # Its holder signs in to find it in 我的电子证书.
        account_id = await create_applicant(
            gansu,
            SYSTEM,
            name=sealed_holder["name"],
            id_number=id_number(serial=sealed_holder["serial"]),
            org_id=(await org("gansu", "620102-employer-hospital"))["id"],
        )
        await ready_account(account_id)
    return {"waiting": waiting, "at_sealer": at_sealer, "sealed": sealed, "certificate": row}


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(seed(config)), ensure_ascii=False))


if __name__ == "__main__":
    main()
