from piccolo.conf.apps import AppConfig

from settings import PROJECT_ROOT
from tenants.tables import AuthorityRule, Org, Tenant

APP_CONFIG = AppConfig(
    app_name="tenants",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "tenants"),
    table_classes=[Tenant, Org, AuthorityRule],
    migration_dependencies=[],
    commands=[],
)
