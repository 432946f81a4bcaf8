"""user/accounts, add_account, set_trustline, remove_account and trust_index through the API."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from bank.models import Community
from tests.bank.helpers import ApiUser, api, api_endpoints, assert_error, db_snapshot, endpoint_path
from tests.factories import CommunityFactory, MemberFactory
from tests.trust.helpers import account, credit, mutual_credit
from trust.services import payments

ZERO = "0.000000"


@pytest.fixture
def community(db) -> Community:
    return CommunityFactory(slug="river", minimum_trust_index=Decimal("0.1"))


@pytest.fixture
def alice(community):
    return MemberFactory(community=community, handle="alice")


@pytest.fixture
def bob(community):
    return MemberFactory(community=community, handle="bob")


def row(community: Community, username: str, balance: str = ZERO, limit_out: str = ZERO, limit_in: str = ZERO) -> dict:
    return {
        "username": username,
        "server": community.address_domain,
        "balance": balance,
        "limit_out": limit_out,
        "limit_in": limit_in,
        "sync": "ok",
    }


def commons_row(community: Community, balance: str = ZERO) -> dict:
    return row(community, "commons", balance, "100.000000", "100.000000")


# user/accounts


def test_a_new_member_has_only_the_commons_line(community, alice):
    response = ApiUser(alice).get("user/accounts")

    assert response.status_code == 200
    assert response.json() == {"accounts": [commons_row(community)]}


def test_accounts_show_every_line_from_my_side(community, alice, bob):
    credit(bob, alice, "30")
    credit(alice, bob, "20")
    you, them = ApiUser(alice), ApiUser(bob)

    assert you.post("user/payment", {"username": "bob", "amount": "5"}).status_code == 201

    # Alice paid with the credit Bob extends her: she owes him 5, and the commons 0.5 of tax.
    assert you.accounts() == {
        "commons": commons_row(community, "-0.500000"),
        "bob": row(community, "bob", "-5.000000", limit_out="20.000000", limit_in="30.000000"),
    }
    assert them.accounts() == {
        "commons": commons_row(community),
        "alice": row(community, "alice", "5.000000", limit_out="30.000000", limit_in="20.000000"),
    }


# user/add_account


def test_add_account_opens_a_line_both_sides_see(community, alice, bob):
    response = ApiUser(alice).post("user/add_account", {"username": "bob"})

    assert response.status_code == 201
    assert response.json() == row(community, "bob")
    assert ApiUser(bob).accounts()["alice"] == row(community, "alice")


@pytest.mark.parametrize("server", ["", "RIVER.localhost", "river.localhost"])
def test_add_account_takes_this_communitys_own_server_and_any_case(community, alice, bob, server, settings):
    settings.INSTANCE_DOMAIN = "localhost"

    response = ApiUser(alice).post("user/add_account", {"username": "BOB", "server": server})

    assert response.status_code == 201, response.content
    assert response.json()["username"] == "bob"


@pytest.mark.parametrize("first", ["alice", "bob"])
def test_adding_an_existing_line_again_is_a_conflict(alice, bob, first):
    mutual_credit(alice, bob, "10")
    adder, other = (alice, "bob") if first == "alice" else (bob, "alice")
    client = ApiUser(adder)
    before = db_snapshot()

    assert_error(client.post("user/add_account", {"username": other}), 409, "trustline_exists")
    assert db_snapshot() == before


def test_the_commons_line_is_there_from_joining(alice):
    client = ApiUser(alice)
    before = db_snapshot()

    assert_error(client.post("user/add_account", {"username": "commons"}), 409, "trustline_exists")
    assert db_snapshot() == before


@pytest.mark.parametrize("username", ["nobody", "gone"], ids=["unknown", "deactivated"])
def test_add_account_of_no_active_member_is_not_found(community, alice, username):
    MemberFactory(community=community, handle="gone", is_active=False)
    client = ApiUser(alice)
    before = db_snapshot()

    error = assert_error(client.post("user/add_account", {"username": username}), 404, "payee_not_found")

    assert repr(username) in error["message"]
    assert db_snapshot() == before


def test_no_line_with_yourself(alice):
    client = ApiUser(alice)
    before = db_snapshot()

    error = assert_error(client.post("user/add_account", {"username": "alice"}), 400, "invalid_input", field="username")

    assert list(error["fields"]) == ["username"]
    assert db_snapshot() == before


# user/set_trustline


def test_set_trustline_sets_the_credit_i_extend(community, alice, bob):
    you = ApiUser(alice)
    you.post("user/add_account", {"username": "bob"})

    response = you.post("user/set_trustline", {"username": "bob", "amount": "25.5"})

    assert response.status_code == 200
    assert response.json() == row(community, "bob", limit_out="25.500000")
    assert ApiUser(bob).accounts()["alice"] == row(community, "alice", limit_in="25.500000")
    assert you.post("user/set_trustline", {"username": "bob", "amount": "0"}).json()["limit_out"] == ZERO


def test_a_new_limit_routes_at_once(alice, bob):
    """The routing graph follows limits set through the API from the very next payment."""
    them, you = ApiUser(bob), ApiUser(alice)
    you.post("user/add_account", {"username": "bob"})
    assert_error(
        them.post("user/payment", {"username": "alice", "amount": "1"}), 409, "insufficient_capacity", max_sendable=ZERO
    )

    you.post("user/set_trustline", {"username": "bob", "amount": "1"})

    assert them.post("user/payment", {"username": "alice", "amount": "1"}).status_code == 201


def test_lowering_a_limit_below_the_debt_only_stops_new_credit(community, alice, bob):
    credit(alice, bob, "50")
    you, them = ApiUser(alice), ApiUser(bob)
    assert them.post("user/payment", {"username": "alice", "amount": "40"}).status_code == 201

    response = you.post("user/set_trustline", {"username": "bob", "amount": "10"})

    assert response.status_code == 200
    assert response.json() == row(community, "bob", "40.000000", limit_out="10.000000")
    # Bob owes 40 against a limit of 10: he can borrow nothing more ...
    before = db_snapshot()
    error = assert_error(
        them.post("user/payment", {"username": "alice", "amount": "1"}), 409, "insufficient_capacity", max_sendable=ZERO
    )
    assert error["message"] == "The trust paths to alice cannot carry 1.00 TRUST; at most 0.00 TRUST can be sent."
    assert db_snapshot() == before
    # ... while Alice can still pay him, which pays his debt down ...
    assert you.post("user/payment", {"username": "bob", "amount": "35"}).status_code == 201
    assert you.accounts()["bob"]["balance"] == "5.000000"
    # ... until he is back under the limit and may borrow up to it again.
    assert_error(
        them.post("user/payment", {"username": "alice", "amount": "5.000001"}),
        409,
        "insufficient_capacity",
        max_sendable="5.000000",
    )
    assert them.post("user/payment", {"username": "alice", "amount": "5"}).status_code == 201
    assert you.accounts()["bob"]["balance"] == "10.000000"


@pytest.mark.parametrize("username", ["bob", "nobody"])
def test_set_trustline_without_a_line_is_not_found(alice, bob, username):
    client = ApiUser(alice)
    before = db_snapshot()

    assert_error(client.post("user/set_trustline", {"username": username, "amount": "5"}), 404, "trustline_not_found")
    assert db_snapshot() == before


# user/remove_account


def test_remove_account_closes_a_settled_line_and_it_can_be_opened_again(community, alice, bob):
    mutual_credit(alice, bob, "10")
    you, them = ApiUser(alice), ApiUser(bob)

    response = you.post("user/remove_account", {"username": "bob"})

    assert response.status_code == 204
    assert response.content == b""
    assert "bob" not in you.accounts()
    assert "alice" not in them.accounts()
    assert_error(you.post("user/payment", {"username": "bob", "amount": "1"}), 409, "no_trust_path")
    assert_error(you.post("user/remove_account", {"username": "bob"}), 404, "trustline_not_found")
    # Reopened, it starts over: no credit either way until someone extends some.
    assert them.post("user/add_account", {"username": "alice"}).json() == row(community, "alice")


def test_a_line_can_be_removed_once_its_balance_is_settled(alice, bob):
    mutual_credit(alice, bob, "10")
    you, them = ApiUser(alice), ApiUser(bob)
    you.post("user/payment", {"username": "bob", "amount": "3"})
    before = db_snapshot()

    for client, other in ((you, "bob"), (them, "alice")):
        assert_error(client.post("user/remove_account", {"username": other}), 409, "balance_not_zero")
    assert db_snapshot() == before

    them.post("user/payment", {"username": "alice", "amount": "3"})
    assert them.post("user/remove_account", {"username": "alice"}).status_code == 204


@pytest.mark.parametrize("asker", ["alice", "bob"])
def test_a_pending_request_between_them_keeps_the_line(alice, bob, asker):
    mutual_credit(alice, bob, "10")
    payee, payer = (alice, bob) if asker == "alice" else (bob, alice)
    request = payments.payment_request(payee=account(payee), payer=account(payer), amount=1_000_000)
    client = ApiUser(alice)
    before = db_snapshot()

    assert_error(client.post("user/remove_account", {"username": "bob"}), 409, "payment_pending")
    assert db_snapshot() == before

    assert ApiUser(payee).post(f"user/payments/{request.pk}/cancel").status_code == 200
    assert client.post("user/remove_account", {"username": "bob"}).status_code == 204


def test_the_commons_line_cannot_be_removed(community, alice):
    client = ApiUser(alice)
    before = db_snapshot()

    assert_error(client.post("user/remove_account", {"username": "commons"}), 409, "commons_trustline")
    assert db_snapshot() == before
    assert client.accounts()["commons"] == commons_row(community)


@pytest.mark.parametrize("username", ["bob", "nobody"])
def test_remove_account_without_a_line_is_not_found(alice, bob, username):
    client = ApiUser(alice)
    before = db_snapshot()

    assert_error(client.post("user/remove_account", {"username": username}), 404, "trustline_not_found")
    assert db_snapshot() == before


# user/trust_index


def test_trust_index_starts_at_the_community_minimum(alice):
    response = ApiUser(alice).get("user/trust_index")

    assert response.status_code == 200
    assert response.json() == {"value": "0.100000", "minimum": "0.100000"}


@pytest.mark.parametrize(("value", "shown"), [("0.25", "0.250000"), ("0.1", "0.100000"), ("1", "1.000000")])
def test_trust_index_can_be_set_between_the_minimum_and_one(alice, value, shown):
    client = ApiUser(alice)

    response = client.post("user/trust_index", {"value": value})

    assert response.status_code == 200
    assert response.json() == {"value": shown, "minimum": "0.100000"}
    assert client.get("user/trust_index").json() == {"value": shown, "minimum": "0.100000"}


@pytest.mark.parametrize(
    "value", ["0.099999", "0", "1.000001", "2", "-0.5", "0.1234567", "1e-1", "half", "", 0.5, None, ["0.5"]]
)
def test_trust_index_refusals_name_the_value_and_change_nothing(alice, value):
    client = ApiUser(alice)
    before = db_snapshot()

    error = assert_error(client.post("user/trust_index", {"value": value}), 400, "invalid_input", field="value")

    assert list(error["fields"]) == ["value"]
    assert db_snapshot() == before


def test_a_raised_community_minimum_overrides_a_lower_own_index(community, alice):
    client = ApiUser(alice)
    client.post("user/trust_index", {"value": "0.2"})

    Community.objects.filter(pk=community.pk).update(minimum_trust_index=Decimal("0.3"))

    assert client.get("user/trust_index").json() == {"value": "0.300000", "minimum": "0.300000"}


# Every endpoint that names a counterpart


COUNTERPART_ENDPOINTS = [
    ("user/payment", {"amount": "1"}, "server_not_found"),
    ("user/local_payment", {"amount": "1"}, "payee_not_found"),
    ("user/payment/preview", {"amount": "1"}, "server_not_found"),
    ("user/receive_payment", {"amount": "1"}, "server_not_found"),
]


@pytest.mark.parametrize(("path", "body", "code"), COUNTERPART_ENDPOINTS, ids=[e[0] for e in COUNTERPART_ENDPOINTS])
def test_another_server_is_not_found_and_says_so(alice, bob, path, body, code):
    mutual_credit(alice, bob, "10")
    client = ApiUser(alice)
    before = db_snapshot()

    response = client.post(path, {"username": "bob", "server": "elsewhere.example", **body})

    error = assert_error(response, 404, code)
    if path == "user/local_payment":  # a direct payment to another instance needs a trustline with the account
        assert "You have no trustline with bob@elsewhere.example" in error["message"]
    else:  # a routed one is looked for on its instance
        assert "No instance answers for elsewhere.example" in error["message"]
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("path", "body", "code", "says"),
    [
        ("user/add_account", {}, "server_not_found", "No instance answers for elsewhere.example"),
        ("user/set_trustline", {"amount": "5"}, "trustline_not_found", "no trustline with bob@elsewhere.example"),
        ("user/remove_account", {}, "trustline_not_found", "no trustline with bob@elsewhere.example"),
    ],
)
def test_a_trustline_with_an_unknown_server_is_refused_and_says_why(alice, bob, path, body, code, says):
    """(Trustlines with accounts of other instances that answer: tests/federation/test_trustlines.py.)"""
    mutual_credit(alice, bob, "10")
    client = ApiUser(alice)
    before = db_snapshot()

    response = client.post(path, {"username": "bob", "server": "elsewhere.example", **body})

    error = assert_error(response, 404, code)
    assert says in error["message"] and db_snapshot() == before


USER_ENDPOINTS = sorted((method, path) for method, path in api_endpoints() if path.startswith("user/"))


@pytest.mark.parametrize(("method", "path"), USER_ENDPOINTS, ids=[f"{m.upper()} {p}" for m, p in USER_ENDPOINTS])
def test_every_user_endpoint_needs_a_signed_in_member(community, method, path):
    response = getattr(APIClient(), method)(
        api(community, endpoint_path(path, payment_id=1, token="app_x")), format="json"
    )

    assert_error(response, 401, "not_authenticated")
