"""App tokens (the Tilde client API): made, listed and revoked by a signed-in member; requests signed with
the token's secret work within the token's scopes, and every refusal has its own code."""

import json
import time

import pytest
import redis
from django.test import Client
from django.urls import reverse

from bank import services
from bank.app_signing import sign_request
from bank.app_tokens import app_token_secret
from bank.models import AppToken
from core.money import MICRO
from tests.bank.helpers import api, assert_error, db_snapshot, session_client
from tests.conftest import token_client
from tests.factories import MemberFactory
from tests.trust.helpers import account, credit
from trust.models import Payment
from trust.services import payments

BOTH = ["read", "pay"]
ROW_FIELDS = {"token", "name", "scopes", "created_at", "last_used_at", "revoked_at"}


class App:
    """A third-party app holding an app token and its secret; it signs its requests with ``bank.app_signing``."""

    def __init__(self, community, token: str, secret: str) -> None:
        self.community = community
        self.token = token
        self.secret = secret
        self.client = Client()

    def headers(self, method: str, path: str, body: bytes = b"", *, timestamp=None, secret=None) -> dict:
        timestamp = int(time.time()) if timestamp is None else timestamp
        return {
            "Authorization": f"App {self.token}",
            "X-Trustbank-Timestamp": str(timestamp),
            "X-Trustbank-Signature": sign_request(secret or self.secret, method, path, timestamp, body),
        }

    def send(self, method: str, path: str, body: bytes, headers: dict):
        return self.client.generic(method, path, body, content_type="application/json", headers=headers)

    def request(self, method: str, suffix: str, body: dict | None = None, *, community=None, **signing):
        """A signed request to ``suffix`` in the app's community (or ``community``); ``signing`` goes to ``headers``."""
        path = api(community or self.community, suffix)
        raw = b"" if body is None else json.dumps(body).encode()
        return self.send(method, path, raw, self.headers(method, path, raw, **signing))

    def get(self, suffix: str, **kwargs):
        return self.request("GET", suffix, **kwargs)

    def post(self, suffix: str, body: dict | None = None, **kwargs):
        return self.request("POST", suffix, body, **kwargs)


def make_app(member, scopes=BOTH, name="Budget app") -> App:
    response = token_client(member).post(
        api(member.community, "user/app_tokens"), {"name": name, "scopes": scopes}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    return App(member.community, body["token"], body["secret"])


def app_row(app: App) -> AppToken:
    return AppToken.objects.get(token=app.token)


@pytest.fixture
def member(world):
    """Alpha's member, who may pay alpha's admin up to 100 (the admin extends that credit)."""
    credit(world.a.admin, world.a.member, "100")
    return world.a.member


@pytest.fixture
def owner(member):
    """The member signed in by token, as the member's own app is."""
    return token_client(member)


# Making, listing and revoking


def test_a_member_makes_an_app_token_and_sees_its_secret_only_then(member, owner):
    response = owner.post(
        api("alpha", "user/app_tokens"), {"name": "Budget app", "scopes": ["pay", "read"]}, format="json"
    )

    assert response.status_code == 201, response.content
    made = response.json()
    assert set(made) == {"token", "secret", "name", "scopes", "created_at"}
    assert made["name"] == "Budget app"
    assert made["scopes"] == ["read", "pay"]
    assert made["token"].startswith("app_") and len(made["token"]) == 28
    assert made["secret"] == app_token_secret(made["token"]) and len(made["secret"]) == 64
    # Never shown again, and nowhere in the database.
    listing = owner.get(api("alpha", "user/app_tokens"))
    assert listing.status_code == 200
    assert [row["token"] for row in listing.json()["app_tokens"]] == [made["token"]]
    assert set(listing.json()["app_tokens"][0]) == ROW_FIELDS
    assert made["secret"] not in listing.content.decode()
    assert made["secret"] not in json.dumps(list(AppToken.objects.values()), default=str)
    row = AppToken.objects.get(token=made["token"])
    assert (row.member, row.scopes, row.revoked_at, row.last_used_at) == (member, ["read", "pay"], None, None)


def test_each_token_has_its_own_secret(member):
    one, other = make_app(member), make_app(member)

    assert one.token != other.token and one.secret != other.secret
    assert other.get("user/accounts", secret=one.secret).json()["error"]["code"] == "app_signature_invalid"


def test_the_list_holds_only_my_tokens_newest_first(world, member, owner):
    first = make_app(member, ["read"], name="First")
    second = make_app(member, ["pay"], name="Second")
    make_app(world.a.admin, name="The admin's")

    rows = owner.get(api("alpha", "user/app_tokens")).json()["app_tokens"]

    assert [(row["token"], row["name"], row["scopes"]) for row in rows] == [
        (second.token, "Second", ["pay"]),
        (first.token, "First", ["read"]),
    ]


def test_a_session_manages_app_tokens_too(member):
    client = session_client(member)

    response = client.post(api("alpha", "user/app_tokens"), {"name": "Web", "scopes": ["read"]}, format="json")

    assert response.status_code == 201, response.content
    assert [row["name"] for row in client.get(api("alpha", "user/app_tokens")).json()["app_tokens"]] == ["Web"]


def test_revoking_stops_the_token_at_once_and_again_changes_nothing(member, owner):
    app = make_app(member)
    assert app.get("user/accounts").status_code == 200
    revoke = api("alpha", f"user/app_tokens/{app.token}/revoke")

    response = owner.post(revoke)

    assert response.status_code == 200, response.content
    row = response.json()
    assert set(row) == ROW_FIELDS and row["token"] == app.token
    assert row["revoked_at"] is not None and row["last_used_at"] is not None
    assert_error(app.get("user/accounts"), 401, "app_token_revoked")
    again = owner.post(revoke)
    assert again.status_code == 200
    assert again.json()["revoked_at"] == row["revoked_at"]


@pytest.mark.parametrize("whose", ["another member's", "unknown"])
def test_only_my_own_tokens_can_be_revoked(world, member, whose):
    token = make_app(member).token if whose != "unknown" else "app_nosuchtokenxxxxxxxxxxxx"
    admin = token_client(world.a.admin)
    before = db_snapshot()

    response = admin.post(api("alpha", f"user/app_tokens/{token}/revoke"))

    assert_error(response, 404, "app_token_not_found")
    assert db_snapshot() == before
    assert not AppToken.objects.filter(revoked_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "App", "scopes": []}, "scopes"),
        ({"name": "App", "scopes": "read"}, "scopes"),
        ({"name": "App", "scopes": ["read", "pay", "read"]}, "scopes"),
        ({"name": "App", "scopes": ["admin"]}, "scopes.0"),
        ({"name": "x" * 65, "scopes": ["read"]}, "name"),
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"scopes": ["read"]}, "name"),
        ({"name": "App"}, "scopes"),
    ],
    ids=["no scope", "not a list", "too many", "unknown scope", "long name", "blank name", "no name", "no scopes"],
)
def test_a_bad_token_request_is_refused(member, owner, body, field):
    response = owner.post(api("alpha", "user/app_tokens"), body, format="json")

    assert_error(response, 400, "invalid_input", field=field)
    assert not AppToken.objects.exists()


def test_making_app_tokens_needs_a_signed_in_member(member):
    assert_error(Client().post(api("alpha", "user/app_tokens")), 401, "not_authenticated")


# Signed requests that work


def test_a_signed_get_reads_my_accounts(world, member):
    app = make_app(member, ["read"])

    response = app.get("user/accounts")

    assert response.status_code == 200, response.content
    rows = {row["username"]: row for row in response.json()["accounts"]}
    assert rows["admin"]["limit_in"] == "100.000000"
    assert app_row(app).last_used_at is not None


def test_the_query_string_is_signed_with_the_path(member):
    app = make_app(member, ["read"])
    path = api("alpha", "user/payments") + "?limit=1"

    assert app.send("GET", path, b"", app.headers("GET", path)).status_code == 200
    signed_for_other_query = app.headers("GET", api("alpha", "user/payments") + "?limit=2")
    assert_error(app.send("GET", path, b"", signed_for_other_query), 401, "app_signature_invalid")


def test_a_signed_post_pays(world, member):
    app = make_app(member, ["pay"])

    response = app.post("user/payment", {"username": "admin", "amount": "5"})

    assert response.status_code == 201, response.content
    payment = response.json()
    assert (payment["state"], payment["payer"], payment["payee"], payment["amount"]) == (
        "finalized",
        "member",
        "admin",
        "5.000000",
    )
    rows = token_client(member).get(api("alpha", "user/accounts")).json()["accounts"]
    assert {row["username"]: row["balance"] for row in rows}["admin"] == "-5.000000"


def test_the_pay_scope_covers_previews_requests_and_accepting_one(world, member):
    app = make_app(member, ["pay"])
    asked = payments.payment_request(payee=account(world.a.admin), payer=account(member), amount=MICRO)

    assert app.post("user/payment/preview", {"username": "admin", "amount": "1"}).status_code == 200
    assert app.post("user/local_payment", {"username": "admin", "amount": "1"}).status_code == 201
    assert app.post("user/receive_payment", {"username": "admin", "amount": "1"}).status_code == 201
    response = app.post(f"user/payments/{asked.pk}/accept")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "finalized"


# Refusals, each with its own code


def test_a_wrong_secret_is_refused(member):
    app = make_app(member)
    other_secret = app_token_secret("app_someothertokenxxxxxxxxxx")

    assert_error(app.get("user/accounts", secret=other_secret), 401, "app_signature_invalid")
    assert app_row(app).last_used_at is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "App"},
        {"Authorization": "App app_one app_two"},
        {"Authorization": "App app_nosuchtokenxxxxxxxxxxxx"},
        {"Authorization": "App app_caf\u00e9"},
        {"Authorization": "App app_\x00xxxxxxxxxxxxxxxxxxxxxxx"},
        {"X-Trustbank-Timestamp": ""},
        {"X-Trustbank-Timestamp": "soon"},
        {"X-Trustbank-Timestamp": "-5"},
        {"X-Trustbank-Timestamp": "1e9"},
    ],
    ids=["no token", "two tokens", "unknown token", "not ascii", "NUL", "no timestamp", "word", "negative", "exponent"],
)
def test_a_malformed_header_or_unknown_token_is_refused(member, headers):
    app = make_app(member)
    path = api("alpha", "user/accounts")
    signed = {**app.headers("GET", path), **headers}

    assert_error(app.send("GET", path, b"", signed), 401, "app_token_invalid")


@pytest.mark.parametrize(
    "signature", [None, "", "0" * 64, "not hex", "\u00e9" * 64], ids=["none", "empty", "zeros", "word", "not ascii"]
)
def test_a_missing_or_garbled_signature_is_refused(member, signature):
    app = make_app(member)
    path = api("alpha", "user/accounts")
    headers = app.headers("GET", path)
    headers["X-Trustbank-Signature"] = signature
    if signature is None:
        del headers["X-Trustbank-Signature"]

    assert_error(app.send("GET", path, b"", headers), 401, "app_signature_invalid")


def test_an_uppercase_copy_of_a_signature_is_not_a_second_signature(member):
    app = make_app(member)
    path = api("alpha", "user/accounts")
    headers = app.headers("GET", path)
    assert app.send("GET", path, b"", headers).status_code == 200

    upper = {**headers, "X-Trustbank-Signature": headers["X-Trustbank-Signature"].upper()}

    assert_error(app.send("GET", path, b"", upper), 401, "app_signature_invalid")


@pytest.mark.parametrize(
    "offset", [-61, 61, -(10**6), 10**6], ids=["too old", "too far ahead", "long ago", "far future"]
)
def test_a_timestamp_outside_the_window_is_refused(member, settings, offset):
    settings.APP_TOKEN_WINDOW_SECONDS = 60
    app = make_app(member)

    assert_error(app.get("user/accounts", timestamp=int(time.time()) + offset), 401, "app_timestamp_expired")


@pytest.mark.parametrize("offset", [-50, 50], ids=["a little behind", "a little ahead"])
def test_a_timestamp_inside_the_window_is_accepted(member, settings, offset):
    settings.APP_TOKEN_WINDOW_SECONDS = 60
    app = make_app(member)

    assert app.get("user/accounts", timestamp=int(time.time()) + offset).status_code == 200


def test_a_replayed_request_is_refused(member):
    app = make_app(member)
    path = api("alpha", "user/accounts")
    headers = app.headers("GET", path)

    assert app.send("GET", path, b"", headers).status_code == 200
    assert_error(app.send("GET", path, b"", headers), 401, "app_request_replayed")
    # The same request a second later has a signature of its own.
    assert app.get("user/accounts", timestamp=int(headers["X-Trustbank-Timestamp"]) + 1).status_code == 200


def test_a_replayed_payment_pays_once(member):
    app = make_app(member, ["pay"])
    path = api("alpha", "user/payment")
    body = json.dumps({"username": "admin", "amount": "5"}).encode()
    headers = app.headers("POST", path, body)

    assert app.send("POST", path, body, headers).status_code == 201
    assert_error(app.send("POST", path, body, headers), 401, "app_request_replayed")
    assert Payment.objects.count() == 1


def test_a_tampered_body_is_refused(member):
    app = make_app(member, ["pay"])
    path = api("alpha", "user/payment")
    signed_body = json.dumps({"username": "admin", "amount": "5"}).encode()
    sent_body = json.dumps({"username": "admin", "amount": "50"}).encode()
    before = db_snapshot()

    response = app.send("POST", path, sent_body, app.headers("POST", path, signed_body))

    assert_error(response, 401, "app_signature_invalid")
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("signed_method", "signed_suffix"),
    [("GET", "user/payments"), ("GET", "user/accounts/"), ("POST", "user/accounts")],
    ids=["other path", "trailing slash", "other method"],
)
def test_a_tampered_path_or_method_is_refused(member, signed_method, signed_suffix):
    app = make_app(member)
    headers = app.headers(signed_method, api("alpha", signed_suffix))

    assert_error(app.send("GET", api("alpha", "user/accounts"), b"", headers), 401, "app_signature_invalid")


def test_a_revoked_token_is_refused_right_after_revoking(member, owner):
    app = make_app(member, ["pay"])
    assert app.post("user/payment", {"username": "admin", "amount": "1"}).status_code == 201

    assert owner.post(api("alpha", f"user/app_tokens/{app.token}/revoke")).status_code == 200

    assert_error(app.post("user/payment", {"username": "admin", "amount": "1"}), 401, "app_token_revoked")
    assert Payment.objects.count() == 1


def test_the_admin_revokes_a_members_app_token(client, world, member):
    app = make_app(member)
    beta_app = make_app(world.b.member)
    client.force_login(world.a.admin.user)
    changelist = reverse("admin:bank_apptoken_changelist")

    html = client.get(changelist).content.decode()
    assert app.token in html and beta_app.token not in html  # only alpha's tokens
    assert app.secret not in html
    client.post(changelist, {"action": "revoke", "_selected_action": [app_row(app).pk, app_row(beta_app).pk]})

    assert_error(app.get("user/accounts"), 401, "app_token_revoked")
    assert app_row(beta_app).revoked_at is None  # beta's token was out of reach
    assert beta_app.get("user/accounts").status_code == 200


@pytest.mark.parametrize("how", ["membership", "login"])
def test_a_deactivated_member_s_token_stops_at_once(member, how):
    app = make_app(member)
    assert app.get("user/accounts").status_code == 200

    if how == "membership":
        services.member_deactivate(member=member, by=None)
    else:
        member.user.is_active = False
        member.user.save()

    assert_error(app.get("user/accounts"), 401, "app_token_revoked")


# Scopes


def test_a_read_token_cannot_pay(member):
    app = make_app(member, ["read"])
    before = db_snapshot()

    assert_error(app.post("user/payment", {"username": "admin", "amount": "5"}), 403, "app_scope_denied")
    assert db_snapshot() == before


def test_a_pay_token_cannot_read(member):
    app = make_app(member, ["pay"])

    assert_error(app.get("user/accounts"), 403, "app_scope_denied")


@pytest.mark.parametrize(
    ("suffix", "body"),
    [
        ("user/set_trustline", {"username": "admin", "amount": "1000"}),
        ("user/add_account", {"username": "gone"}),
        ("user/remove_account", {"username": "admin"}),
        ("user/trust_index", {"value": "0.5"}),
        ("user/payments/{paid}/refund", None),
        ("user/payments/{paid}/dispute", None),
        ("auth/change_password", {"old_password": "x", "new_password": "y"}),
        ("auth/logout", None),
        ("admin/create_invite", None),
        ("user/app_tokens", {"name": "Another", "scopes": BOTH}),
        ("user/app_tokens/{token}/revoke", None),
    ],
)
def test_a_token_with_every_scope_cannot_change_anything_else(world, member, suffix, body):
    member.role = "admin"  # admin/* is refused to an admin's app token too
    member.save()
    app = make_app(member, BOTH)
    paid = payments.payment_send(payer=account(member), payee=account(world.a.admin), amount=MICRO)
    before = db_snapshot()

    response = app.post(suffix.format(paid=paid.pk, token=app.token), body)

    assert_error(response, 403, "app_scope_denied")
    assert db_snapshot() == before


@pytest.mark.parametrize("suffix", ["user/app_tokens", "admin/list_users"])
def test_a_token_with_every_scope_cannot_read_app_tokens_or_admin_pages(member, suffix):
    member.role = "admin"
    member.save()
    app = make_app(member, BOTH)

    assert_error(app.get(suffix), 403, "app_scope_denied")


# Tenancy


def test_a_token_works_only_in_its_members_community(world, member):
    """Even for a login that is a member of both: the token speaks for its membership in alpha only."""
    MemberFactory(user=member.user, community=world.b.community, handle="traveller")
    app = make_app(member)

    assert_error(app.get("user/accounts", community=world.b.community), 403, "not_a_member")
    assert_error(app.post("user/payment", {"username": "admin", "amount": "1"}, community="beta"), 403, "not_a_member")
    assert Payment.objects.count() == 0


# The real cache


@pytest.mark.redis
def test_seen_signatures_live_in_redis(member, redis_cache, settings):
    """Another process sees the signatures this one let in, and this one refuses what another let in."""
    other_process = redis.Redis.from_url(settings.TEST_REDIS_URL)
    try:
        app = make_app(member)
        path = api("alpha", "user/accounts")
        headers = app.headers("GET", path)
        assert app.send("GET", path, b"", headers).status_code == 200

        [key] = other_process.scan_iter(f"{redis_cache}:*app-token-seen:{app.token}:*")
        assert headers["X-Trustbank-Signature"] in key.decode()
        assert settings.APP_TOKEN_WINDOW_SECONDS < other_process.ttl(key) <= 2 * settings.APP_TOKEN_WINDOW_SECONDS
        assert_error(app.send("GET", path, b"", headers), 401, "app_request_replayed")

        # A request that another process has let in already (its key written there) is refused here.
        fresh = app.headers("GET", path, timestamp=int(time.time()) + 1)
        other_process.set(key.decode().replace(headers["X-Trustbank-Signature"], fresh["X-Trustbank-Signature"]), 1)
        assert_error(app.send("GET", path, b"", fresh), 401, "app_request_replayed")
    finally:
        keys = list(other_process.scan_iter(f"{redis_cache}:*"))
        if keys:
            other_process.delete(*keys)
        other_process.close()


def test_the_schema_says_a_fresh_tokens_times_may_be_null(db):
    """A token never used nor revoked answers null for both times: the schema must allow it, or generated
    clients fail to parse the row."""
    schema = Client().get("/api/schema/", {"format": "json"}).json()
    fields = schema["components"]["schemas"]["AppTokenOutput"]["properties"]

    assert fields["last_used_at"].get("nullable") and fields["revoked_at"].get("nullable")
    assert not fields["created_at"].get("nullable")
