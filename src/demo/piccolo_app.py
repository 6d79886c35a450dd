from piccolo.conf.apps import AppConfig

from demo.tables import DemoLoad
from settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="demo",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "demo"),
    table_classes=[DemoLoad],
    migration_dependencies=["tenants.piccolo_app"],
    commands=[],
)
