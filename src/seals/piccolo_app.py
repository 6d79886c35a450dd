from piccolo.conf.apps import AppConfig

from seals.tables import SealVersion, TemplateVersion
from settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="seals",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "seals"),
    table_classes=[SealVersion, TemplateVersion],
    migration_dependencies=["tenants.piccolo_app", "accounts.piccolo_app"],
    commands=[],
)
