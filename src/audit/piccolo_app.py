from piccolo.conf.apps import AppConfig

from audit.tables import AuditEvent
from settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "audit"),
    table_classes=[AuditEvent],
    migration_dependencies=["tenants.piccolo_app"],
    commands=[],
)
