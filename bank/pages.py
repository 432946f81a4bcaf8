"""Pieces the member pages of every app share."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from bank import selectors
from bank.models import Member
from bank.signals import access_requested
from core.errors import ApplicationError


def page_member(request: HttpRequest) -> Member | None:
    """The signed-in member of the page's community, or None (the page then sends to the sign-in).

    A member whom an app refuses (``access_requested``: a revoked identity) is signed out here, with the
    reason shown on the sign-in page, as the API refuses its tokens: a session opened before the
    refusal does not outlive it.
    """
    member = selectors.membership_for_user(user=request.user, community=request.community)
    if member is None:
        return None
    try:
        access_requested.send(sender=Member, member=member)
    except ApplicationError as refusal:
        logout(request)
        messages.error(request, refusal.message)
        return None
    return member


def sign_in_redirect(request: HttpRequest) -> HttpResponse:
    """To the community's sign-in, coming back to this page afterwards."""
    return redirect_to_login(request.get_full_path(), reverse("community:login", args=[request.community.slug]))


def safe_next(request: HttpRequest) -> str | None:
    """The ``next`` page asked for, if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None
