from piccolo.conf.apps import AppConfig

from settings import PROJECT_ROOT
from tenants.tables import AuthorityRule, CalendarYear, HolidayDay, Org, ProcedureConfig, Tenant

APP_CONFIG = AppConfig(
    app_name="tenants",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "tenants"),
    table_classes=[Tenant, Org, AuthorityRule, CalendarYear, HolidayDay, ProcedureConfig],
    migration_dependencies=[],
    commands=[],
)
