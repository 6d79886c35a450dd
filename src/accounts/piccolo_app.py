from piccolo.conf.apps import AppConfig

from accounts.tables import Account, RoleGrant, SignInAttempt, UnitAdminApplication, WebSession
from settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "accounts"),
    table_classes=[Account, RoleGrant, WebSession, SignInAttempt, UnitAdminApplication],
    migration_dependencies=["tenants.piccolo_app"],
    commands=[],
)
