"""Small helpers the API tests share: URLs, error assertions, database snapshots and clients."""

from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from bank.models import AuthToken, Community, Invite, Member
from tests.factories import PASSWORD

API_ROUTE = "c/<slug:community_slug>/api/"
# Passes every configured password validator and differs from tests.factories.PASSWORD.
NEW_PASSWORD = "a-fresh-passphrase-for-2031"
WEAK_PASSWORD = "123"


def api(community, suffix: str) -> str:
    """The URL of a community API endpoint; ``community`` is a Community or a slug."""
    slug = community if isinstance(community, str) else community.slug
    return f"/c/{slug}/api/{suffix}"


def assert_error(response, status: int, code: str, *, field: str | None = None) -> dict:
    """Assert the API's one error shape and return its ``error`` object.

    ``{"error": {"code", "message"}}`` exactly; validation errors (``invalid_input``) also carry
    ``fields``. With ``field``, the message and ``fields`` must name that field.
    """
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    expected_keys = {"code", "message", "fields"} if code == "invalid_input" else {"code", "message"}
    assert set(error) == expected_keys, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    if code == "invalid_input":
        assert isinstance(error["fields"], dict) and error["fields"], error
        assert all(isinstance(m, str) for messages in error["fields"].values() for m in messages), error
    if field is not None:
        assert field in error["fields"], error
        assert error["message"].startswith(f"{field}: "), error
    return error


def db_snapshot() -> dict:
    """Everything the API can change: communities, logins, memberships, invites and tokens."""
    return {
        "communities": list(Community.objects.order_by("pk").values()),
        "users": list(get_user_model().objects.order_by("pk").values()),
        "members": list(Member.objects.order_by("pk").values()),
        "invites": list(Invite.objects.order_by("pk").values()),
        "tokens": list(AuthToken.objects.order_by("pk").values()),
    }


def session_client(member) -> APIClient:
    """An API client signed in by session (as the web pages sign in) as ``member``'s login."""
    client = APIClient()
    client.force_login(member.user)
    return client


def login(community, username: str, password: str = PASSWORD, *, client: APIClient | None = None, **extra):
    """POST auth/login; ``extra`` goes to the request (e.g. ``REMOTE_ADDR``)."""
    client = client or APIClient()
    body = {"username": username, "password": password}
    return client.post(api(community, "auth/login"), body, format="json", **extra)


def _routes(resolver: URLResolver, prefix: str = ""):
    """(full route, view) for every URL pattern under ``resolver``, however deeply included."""
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.callback


def api_endpoints() -> dict[tuple[str, str], type]:
    """{(method, path): view class} for every community API endpoint, as the URLconf serves them."""
    endpoints = {}
    for route, callback in _routes(get_resolver()):
        view = getattr(callback, "view_class", None)
        if not route.startswith(API_ROUTE) or view is None:
            continue
        for method in view.http_method_names:
            if method not in ("options", "head") and hasattr(view, method):
                endpoints[(method, route.removeprefix(API_ROUTE))] = view
    return endpoints
