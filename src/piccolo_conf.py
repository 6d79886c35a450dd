"""Piccolo's configuration module (found through ``PICCOLO_CONF=piccolo_conf``): the engine from
``DATABASE_URL`` and the domain apps whose tables and migrations Piccolo manages."""

from piccolo.conf.apps import AppRegistry

from core.db import engine_for_url
from settings import get_settings

DB = engine_for_url(get_settings().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "tenants.piccolo_app",
        "accounts.piccolo_app",
        "audit.piccolo_app",
        "certificates.piccolo_app",
        "seals.piccolo_app",
        "cases.piccolo_app",
        "demo.piccolo_app",
    ]
)
