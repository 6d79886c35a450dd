"""HTTP surface of the exports and the procedure definitions admin page (filled in by the exports work)."""

from __future__ import annotations

from litestar import Controller

from tenants.controllers import TENANT_DEPENDENCIES


class ExportController(Controller):
    dependencies = TENANT_DEPENDENCIES
