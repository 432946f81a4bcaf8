"""Helpers for the tests of the web pages, the admin and the tenancy middleware."""

from django.contrib.messages import get_messages
from django.test import Client

from tests.factories import PASSWORD

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def sign_in(client: Client, member, password: str = PASSWORD, *, extra_next: str | None = None, **extra):
    """Post the community's sign-in form as ``member`` (with a ``next`` page, if given); 302 on success."""
    data = {"username": member.handle, "password": password}
    if extra_next is not None:
        data["next"] = extra_next
    return client.post(f"/c/{member.community.slug}/login/", data, **extra)


def signed_in_user_id(client: Client) -> int | None:
    """The primary key of the login the client's session belongs to, or None when signed out."""
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id is not None else None


def flash_messages(response) -> list[str]:
    """The messages a (not followed) response queued for the next page."""
    return [str(message) for message in get_messages(response.wsgi_request)]
