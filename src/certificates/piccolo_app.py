from piccolo.conf.apps import AppConfig

from certificates.tables import CertificateSequence
from settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="certificates",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "certificates"),
    table_classes=[CertificateSequence],
    migration_dependencies=["tenants.piccolo_app"],
    commands=[],
)
