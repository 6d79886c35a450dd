from piccolo.conf.apps import AppConfig

from cases.tables import Attachment, Case, CaseEvent
from settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="cases",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "cases"),
    table_classes=[Case, CaseEvent, Attachment],
    migration_dependencies=["tenants.piccolo_app", "accounts.piccolo_app", "certificates.piccolo_app"],
    commands=[],
)
