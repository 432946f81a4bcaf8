from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from bank import selectors
from bank.auth import admin_authenticate
from core.api import client_address
from core.errors import Throttled, Unauthorized


class CommunityAdminAuthenticationForm(AdminAuthenticationForm):
    """Admin sign-in through ``bank.auth.admin_authenticate``: throttled, one message for every refusal."""

    retry_after: int | None = None

    def clean(self) -> dict:
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data  # the fields' own errors say what is missing
        try:
            self.user_cache = admin_authenticate(
                request=self.request, username=username, password=password, client_address=client_address(self.request)
            )
        except Throttled as exc:
            self.retry_after = exc.retry_after
            raise ValidationError(exc.message, code=exc.code) from None
        except Unauthorized as exc:
            raise ValidationError(exc.message, code=exc.code) from None
        return self.cleaned_data


class TrustbankAdminSite(admin.AdminSite):
    """Instance superusers see everything; community admins see only their own communities."""

    site_header = "Trustbank administration"
    site_title = "Trustbank admin"
    index_title = "Communities"
    login_form = CommunityAdminAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return selectors.user_may_use_admin(user=request.user)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        response = super().login(request, extra_context)
        form = getattr(response, "context_data", {}).get("form")
        if getattr(form, "retry_after", None):
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response
