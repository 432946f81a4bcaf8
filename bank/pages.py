"""Pieces the member pages of every app share."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from bank import selectors
from bank.models import Member
from bank.signals import access_requested
from core.errors import ApplicationError

PAGE_SIZE = 20


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
    return redirect_to_login(request.get_full_path(), reverse("bank:login", args=[request.community.slug]))


def member_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Lets in active members of the request's community (``request.member``); anyone else goes to the
    community's sign-in, coming back afterwards."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        member = page_member(request)
        if member is None:
            return sign_in_redirect(request)
        request.member = member
        return view(request, *args, **kwargs)

    return wrapper


def paged(request: HttpRequest, items) -> Page:
    """The ``?page=`` of ``items`` (a queryset, newest first), ``PAGE_SIZE`` to a page."""
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def safe_next(request: HttpRequest) -> str | None:
    """The ``next`` page asked for, if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None
