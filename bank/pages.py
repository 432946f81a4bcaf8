"""Pieces the member pages of every app share."""

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def sign_in_redirect(request: HttpRequest) -> HttpResponse:
    """To the community's sign-in, coming back to this page afterwards."""
    return redirect_to_login(request.get_full_path(), reverse("community:login", args=[request.community.slug]))


def safe_next(request: HttpRequest) -> str | None:
    """The ``next`` page asked for, if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return None
