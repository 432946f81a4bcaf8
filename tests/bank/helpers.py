"""Small helpers the API tests share: URLs, error assertions, database snapshots, clients, money states."""

import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from bank.app_tokens import app_token_create
from bank.models import AuthToken, Community, Invite, Member
from ledger import selectors as ledger_selectors
from ledger.models import Conflict, Entry, Head, Ticket
from ledger.services import motions
from tests.factories import PASSWORD
from tests.trust.helpers import account, mutual_credit
from trust.models import Account, Payment, PaymentLeg, Trustline
from trust.money import MICRO
from trust.services import payments

API_ROUTE = "c/<slug:community_slug>/api/"
# Passes every configured password validator and differs from tests.factories.PASSWORD.
NEW_PASSWORD = "a-fresh-passphrase-for-2031"
WEAK_PASSWORD = "123"


def api(community, suffix: str) -> str:
    """The URL of a community API endpoint; ``community`` is a Community or a slug."""
    slug = community if isinstance(community, str) else community.slug
    return f"/c/{slug}/api/{suffix}"


def assert_error(response, status: int, code: str, *, field: str | None = None, **extra) -> dict:
    """Assert the API's one error shape and return its ``error`` object.

    ``{"error": {"code", "message"}}`` exactly; validation errors (``invalid_input``) also carry
    ``fields``. With ``field``, the message and ``fields`` must name that field. ``extra`` are the
    further members the error must carry, with their values (``max_sendable="5.000000"``).
    """
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    expected_keys = {"code", "message", "fields"} if code == "invalid_input" else {"code", "message"}
    assert set(error) == expected_keys | set(extra), error
    assert {key: error[key] for key in extra} == extra, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    if code == "invalid_input":
        assert isinstance(error["fields"], dict) and error["fields"], error
        assert all(isinstance(m, str) for messages in error["fields"].values() for m in messages), error
    if field is not None:
        assert field in error["fields"], error
        assert error["message"].startswith(f"{field}: "), error
    return error


SNAPSHOT_MODELS = {
    "communities": Community,
    "users": get_user_model(),
    "members": Member,
    "invites": Invite,
    "tokens": AuthToken,
    "accounts": Account,
    "trustlines": Trustline,
    "payments": Payment,
    "legs": PaymentLeg,
    "ledger heads": Head,
    "ledger entries": Entry,
    "tickets": Ticket,
    "conflicts": Conflict,
}


def db_snapshot() -> dict:
    """Everything the API can change: communities, logins, memberships, invites, tokens, the money and the books."""
    return {name: list(model.objects.order_by("pk").values()) for name, model in SNAPSHOT_MODELS.items()}


def session_client(member) -> APIClient:
    """An API client signed in by session (as the web pages sign in) as ``member``'s login."""
    client = APIClient()
    client.force_login(member.user)
    return client


class ApiUser:
    """A member signed in to the API by token (as ``tests.conftest.token_client``), calling endpoints by path."""

    def __init__(self, member) -> None:
        self.member = member
        self.client = APIClient()
        response = login(member.community, member.handle, client=self.client)
        assert response.status_code == 200, response.content
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")

    def get(self, path: str, params: dict | None = None):
        return self.client.get(api(self.member.community, path), params)

    def post(self, path: str, body: dict | None = None):
        return self.client.post(api(self.member.community, path), body, format="json")

    def accounts(self) -> dict[str, dict]:
        """user/accounts as ``{username: row}``."""
        response = self.get("user/accounts")
        assert response.status_code == 200, response.content
        rows = response.json()["accounts"]
        assert len({row["username"] for row in rows}) == len(rows), rows
        return {row["username"]: row for row in rows}


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


def endpoint_path(route: str, **kwargs) -> str:
    """A URL route with its parameters filled in: ``user/payments/<int:payment_id>`` -> ``user/payments/7``."""
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(kwargs[match.group(1)]), route)


@dataclass(frozen=True)
class Prepared:
    """A body value that only exists once the endpoint's ``prepare`` has run: its answer's ``name``."""

    name: str


def filled(body: dict, values: dict) -> dict:
    """``body`` with each Prepared value replaced by the prepared one."""
    return {key: values[value.name] if isinstance(value, Prepared) else value for key, value in body.items()}


# Money and ledger states the endpoints' tables start from, on one side of the world (its admin and
# member). Each returns the URL parameters of the endpoint it prepares and the values its body takes.


def linked(side) -> dict:
    """The admin and the member extend 100 of credit to each other."""
    mutual_credit(side.admin, side.member, "100")
    return {}


def _paid(payer, payee) -> Payment:
    return payments.payment_send(payer=account(payer), payee=account(payee), amount=MICRO)


def admin_paid(side) -> dict:
    """The admin has paid the member 1."""
    linked(side)
    return {"payment_id": _paid(side.admin, side.member).pk}


def admin_was_paid(side) -> dict:
    """The member has paid the admin 1; the admin has not answered."""
    linked(side)
    return {"payment_id": _paid(side.member, side.admin).pk}


def admin_accepted(side) -> dict:
    """The member has paid the admin 1 and the admin has accepted it."""
    payment_id = admin_was_paid(side)["payment_id"]
    payment = Payment.objects.get(pk=payment_id)
    payments.payment_change_status(payment=payment, account=account(side.admin), action="accept")
    return {"payment_id": payment_id}


def admin_is_asked(side) -> dict:
    """The member has asked the admin for 1 (a pending payment request)."""
    linked(side)
    request = payments.payment_request(payee=account(side.member), payer=account(side.admin), amount=MICRO)
    return {"payment_id": request.pk}


# The payment each status action of the admin's can be taken on.
PAYMENT_STATES = {
    "dispute": admin_paid,
    "cancel": admin_is_asked,
    "decline": admin_was_paid,
    "accept": admin_is_asked,
    "refund": admin_accepted,
}


def app_token_made(side) -> dict:
    """The admin has an app token (for user/app_tokens/<token>/revoke)."""
    app_token, _ = app_token_create(member=side.admin, name="App", scopes=["read"])
    return {"token": app_token.token}


def receipt_held(side) -> dict:
    """The admin has paid the member 1: its newest signed receipt, and the line of that receipt's public record."""
    admin_paid(side)
    [receipt] = ledger_selectors.receipts_page(account=account(side.admin), before=None, limit=1)
    signed = {key: receipt[key] for key in ("text", "member_signature", "server_signature")}
    return {"receipt": signed, "line": receipt["receipt_id"] + 1}  # line n is receipt n - 1


def ticket_requested(side) -> dict:
    """The member has moved an audit: a ticket the admin may second."""
    return {"number": motions.audit_request(member=side.member).number}


def conflict_found(side) -> dict:
    """A contest found two receipts that differ: a conflict to resolve (it may be acknowledged)."""
    code = "receipts_disagree"
    conflict = Conflict.objects.create(
        community=side.community, code=code, description="Two receipts with the same receipt id differ.",
        options=motions.conflict_options(code),
    )
    return {"conflict_id": conflict.pk}
