"""Every route × every kind of user (anonymous, each role, another tenant's admin) → allowed or denied.

A route without an access rule fails here, and so does any route whose guard lets the wrong people in.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from accounts.web import Access
from tests.people import Person, csrf_from, make_people

# A value for each path parameter; ids that do not exist make allowed POSTs fail harmlessly (422/404).
PATH_VALUES = {
    "slug": "gansu",
    "account_id": "999999",
    "application_id": "999999",
    "seal_id": "999999",
    "certificate_id": "999999",
    "token": "AAAA",
    "path": "app.css",
    "file_path": "app.css",
    "case_id": "999999",
    "part": "0",
    "slot": "photo",
    "procedure": "reissue",
}

ALLOWED: dict[Access, set[str]] = {
    Access.public: {
        "anonymous",
        "applicant",
        "clerk",
        "reviewer",
        "sealer",
        "org_admin",
        "tenant_admin",
        "county_admin",
        "other_tenant_admin",
    },
    Access.signed_in: {
        "applicant",
        "clerk",
        "reviewer",
        "sealer",
        "org_admin",
        "tenant_admin",
        "county_admin",
    },
    Access.applicant: {"applicant"},
    Access.staff: {"clerk", "reviewer", "sealer", "org_admin", "tenant_admin", "county_admin"},
    Access.org_admin: {"org_admin", "tenant_admin", "county_admin"},
    Access.tenant_admin: {"tenant_admin"},
}
PRINCIPALS = sorted(ALLOWED[Access.public])


def routes(app: Litestar) -> list[tuple[str, str, HTTPRouteHandler]]:
    found = []
    for route in app.routes:
        for method, (handler, _) in getattr(route, "route_handler_map", {}).items():
            if method in ("HEAD", "OPTIONS"):
                continue
            path = re.sub(r"\{(\w+):\w+\}", lambda match: PATH_VALUES[match.group(1)], route.path)
            found.append((method, path, handler))
    # Signing out ends the session the other requests use, so it goes last.
    return sorted(found, key=lambda item: (item[2].name == "accounts:signout", item[1], item[0]))


@pytest.fixture(scope="module")
async def matrix_people(new_client: Callable[[], httpx.AsyncClient]) -> dict[str, Person]:
    people = await make_people(new_client, prefix="m", applicant_id="11010519491231002X")
    people["anonymous"] = Person("anonymous", "gansu", 0, new_client(), "")
    return people


def test_every_route_declares_an_access_rule(transport: httpx.ASGITransport) -> None:
    app = transport.app
    assert isinstance(app, Litestar)
    missing = [f"{method} {path}" for method, path, handler in routes(app) if "access" not in handler.opt]
    assert not missing
    for _, _, handler in routes(app):
        Access(handler.opt["access"])


async def test_access_matrix(transport: httpx.ASGITransport, matrix_people: dict[str, Person]) -> None:
    app = transport.app
    assert isinstance(app, Litestar)
    wrong: list[str] = []
    checked = 0
    for method, path, handler in routes(app):
        rule = Access(handler.opt["access"])
        for key in PRINCIPALS:
            person = matrix_people[key]
            if method == "GET":
                response = await person.client.get(path)
            else:
                # Visitors without a session of this tenant take the CSRF token a sign-in page gives them, so
                # that what is checked here is the access rule (CSRF refusals have tests of their own).
                token = person.csrf if person.slug == "gansu" and person.csrf else ""
                if not token:
                    token = csrf_from((await person.client.get("/t/gansu/signin")).text)
                response = await person.client.post(path, data={"_csrf": token})
            allowed = key in ALLOWED[rule]
            denied = response.status_code in (401, 403) or (
                response.status_code == 303 and "/signin" in response.headers.get("location", "")
            )
            checked += 1
            if allowed == denied:
                expectation = "should pass" if allowed else "should be denied"
                wrong.append(f"{method} {path} as {key}: {response.status_code} ({expectation})")
    assert not wrong, "\n".join(wrong)
    assert checked > 100
