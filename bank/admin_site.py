from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from bank import selectors


def may_use_admin(user) -> bool:
    return user.is_active and (user.is_superuser or selectors.communities_administered_by(user=user).exists())


class CommunityAdminAuthenticationForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user) -> None:
        if not may_use_admin(user):
            raise ValidationError(
                "This login is not an admin of any community. Sign in with a community admin's login.",
                code="invalid_login",
            )


class TrustbankAdminSite(admin.AdminSite):
    """Instance superusers see everything; community admins see only their own communities."""

    site_header = "Trustbank administration"
    site_title = "Trustbank admin"
    index_title = "Communities"
    login_form = CommunityAdminAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return may_use_admin(request.user)
