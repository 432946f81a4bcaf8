"""Member web pages: sign-in, registration with an invite, the dashboard of memberships; the API docs page."""

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST
from drf_spectacular.views import SpectacularSwaggerSplitView

from bank import auth, selectors, services
from bank.forms import ChooseCommunityForm, LoginForm, RegisterForm
from bank.pages import page_member, safe_next, sign_in_redirect
from core.api import client_address
from core.errors import ApplicationError
from core.exception_handler import status_error


def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("bank:dashboard")
    form = ChooseCommunityForm(request.GET or None)
    if form.is_valid():
        login_url = reverse("bank:login", args=[form.cleaned_data["community"]])
        target = safe_next(request)
        return redirect(f"{login_url}?{urlencode({'next': target})}" if target else login_url)
    return render(request, "bank/landing.html", {"form": form, "next": safe_next(request)})


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    memberships = selectors.memberships_for_user(user=request.user)
    return render(request, "bank/dashboard.html", {"memberships": memberships})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("bank:landing")


def community_home(request: HttpRequest) -> HttpResponse:
    member = page_member(request)
    if member is None:
        return sign_in_redirect(request)
    return render(request, "bank/community_home.html", {"member": member})


def community_login(request: HttpRequest) -> HttpResponse:
    community = request.community
    form = LoginForm(request.POST or None)
    if form.is_valid():
        try:
            member = auth.member_authenticate(
                community=community,
                handle=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                client_address=client_address(request),
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            login(request, member.user)
            return redirect(safe_next(request) or reverse("bank:home", args=[community.slug]))
    context = {"form": form, "next": safe_next(request)}
    return render(request, "bank/login.html", context, status=400 if form.errors else 200)


def community_register(request: HttpRequest) -> HttpResponse:
    community = request.community
    existing_login = request.user.is_authenticated
    form = RegisterForm(
        request.POST or None, initial={"invite": request.GET.get("invite", "")}, existing_login=existing_login
    )
    if form.is_valid():
        try:
            member = services.invite_redeem(
                community=community,
                code=form.cleaned_data["invite"],
                handle=form.cleaned_data["username"],
                password=form.cleaned_data.get("password"),
                user=request.user if existing_login else None,
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            if not existing_login:
                login(request, member.user)
            messages.success(request, f"Welcome to {community.name}, {member.handle}.")
            return redirect("bank:home", community_slug=community.slug)
    context = {"form": form, "existing_login": existing_login}
    return render(request, "bank/register.html", context, status=400 if form.errors else 200)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return status_error(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return status_error(request, 500)


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI under the CSP: its start-up script is a file of its own (the split view), the page has no
    inline style (templates/drf_spectacular/swagger_ui.html), and only here may images be data: URLs, as
    Swagger UI's stylesheet draws its icons."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response.csp_sources = {"img-src": "data:"}
        return response
