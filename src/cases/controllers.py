"""HTTP surface of filing a case: the applicant's and the employer's pages (filled in by the filing work)."""

from __future__ import annotations

from litestar import Controller

from tenants.controllers import TENANT_DEPENDENCIES


class FilingController(Controller):
    dependencies = TENANT_DEPENDENCIES
