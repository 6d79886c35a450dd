from piccolo.conf.apps import AppConfig

from certificates.tables import AnnotatedCopy, Certificate, CertificateSequence
from settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="certificates",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "certificates"),
    table_classes=[CertificateSequence, Certificate, AnnotatedCopy],
    migration_dependencies=["tenants.piccolo_app", "accounts.piccolo_app", "seals.piccolo_app"],
    commands=[],
)
