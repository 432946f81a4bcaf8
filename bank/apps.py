from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps

from bank.navigation import MemberPage


class BankConfig(AppConfig):
    name = "bank"
    verbose_name = "Communities"
    member_pages = (MemberPage("Home", "bank:home"),)

    def ready(self) -> None:
        from bank import schema  # noqa: F401  (registers the OpenAPI authentication extension)


class TrustbankAdminConfig(admin_apps.AdminConfig):
    """Django admin whose site lets community admins in, scoped to their own communities."""

    default = False
    default_site = "bank.admin_site.TrustbankAdminSite"
