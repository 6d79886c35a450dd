"""HTTP surface of the reviewer queue (filled in by the queue work)."""

from __future__ import annotations

from litestar import Controller

from tenants.controllers import TENANT_DEPENDENCIES


class QueueController(Controller):
    dependencies = TENANT_DEPENDENCIES
