"""Payments through the API: routed, local and requested payments, previews, lists, receipts, status actions
and every routing refusal. Alice pays Dave through Bob and Carol: Bob trusts Alice, Carol Bob, Dave Carol."""

import hashlib
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from bank.models import Community
from tests.bank.helpers import ApiUser, assert_error, db_snapshot
from tests.factories import CommunityFactory, MemberFactory
from tests.trust.helpers import account, credit
from tests.trust.invariants import assert_invariants
from trust.models import Payment, Trustline
from trust.routing import search
from trust.services import accounts

ZERO = "0.000000"


@pytest.fixture
def community(db) -> Community:
    return CommunityFactory(slug="river", minimum_trust_index=Decimal("0.1"))


@pytest.fixture
def people(community) -> SimpleNamespace:
    """Alice, Bob, Carol and Dave signed in, with the chain of credit Alice -> Bob -> Carol -> Dave (100 each)."""
    members = {
        handle: MemberFactory(community=community, handle=handle) for handle in ("alice", "bob", "carol", "dave")
    }
    credit(members["bob"], members["alice"], "100")
    credit(members["carol"], members["bob"], "100")
    credit(members["dave"], members["carol"], "100")
    return SimpleNamespace(**{handle: ApiUser(member) for handle, member in members.items()})


def pay(client: ApiUser, username: str, amount: str, path: str = "user/payment", **fields) -> dict:
    response = client.post(path, {"username": username, "amount": amount, **fields})
    assert response.status_code == 201, response.content
    return response.json()


def balance(client: ApiUser, username: str) -> str:
    return client.accounts()[username]["balance"]


def subset(payment: dict, *keys: str) -> dict:
    return {key: payment[key] for key in keys}


# user/payment


def test_a_payment_travels_through_two_intermediaries(community, people):
    payment = pay(people.alice, "dave", "12.5", memo="rent", tag="home")

    assert subset(payment, "state", "kind", "payer", "payee", "amount", "tax", "fees", "memo", "tag", "paths") == {
        "state": "finalized",
        "kind": "payment",
        "payer": "alice",
        "payee": "dave",
        "amount": "12.500000",
        "tax": "1.250000",  # 12.5 x the community's minimum trust index, 0.1
        "fees": ZERO,
        "memo": "rent",
        "tag": "home",
        "paths": [["alice", "bob", "carol", "dave"]],
    }
    assert subset(payment, "payer_status", "payee_status") == {"payer_status": "Accept", "payee_status": "NotSet"}
    assert isinstance(payment["id"], int)
    # Both ends, and every hop between, moved by the amount; the tax went to the commons.
    assert balance(people.alice, "bob") == "-12.500000"
    assert balance(people.alice, "commons") == "-1.250000"
    assert balance(people.bob, "alice") == "12.500000"
    assert balance(people.bob, "carol") == "-12.500000"
    assert balance(people.carol, "dave") == "-12.500000"
    assert balance(people.dave, "carol") == "12.500000"
    assert balance(people.dave, "commons") == ZERO
    assert_invariants(community)


def test_a_payment_is_the_business_of_its_payer_and_payee_only(people):
    payment = pay(people.alice, "dave", "1")

    for client in (people.alice, people.dave):
        assert client.get(f"user/payments/{payment['id']}").json() == payment
        assert [p["id"] for p in client.get("user/payments").json()["payments"]] == [payment["id"]]
    for intermediary in (people.bob, people.carol):
        assert_error(intermediary.get(f"user/payments/{payment['id']}"), 404, "payment_not_found")
        assert intermediary.get("user/payments").json() == {"payments": [], "next": None}


def test_the_tax_follows_the_payers_trust_index(people):
    assert people.alice.post("user/trust_index", {"value": "0.25"}).status_code == 200

    payment = pay(people.alice, "dave", "10")

    assert payment["tax"] == "2.500000"
    assert balance(people.alice, "commons") == "-2.500000"
    assert balance(people.alice, "bob") == "-10.000000"


def test_each_intermediary_earns_the_commons_a_hop_fee(community, people):
    Community.objects.filter(pk=community.pk).update(hop_fee_ppm=10_000)  # 1% per intermediary

    payment = pay(people.alice, "dave", "10")

    assert (payment["tax"], payment["fees"]) == ("1.000000", "0.200000")  # two intermediaries: 2 x 1% of 10
    assert balance(people.alice, "commons") == "-1.200000"
    assert balance(people.dave, "carol") == "10.000000"
    assert_invariants(community)


def test_a_payment_too_large_for_one_path_is_split(community, people):
    """Alice -> Bob -> Dave carries 6 and Alice -> Carol -> Dave 6 more: 10 goes over both."""
    credit(people.carol.member, people.alice.member, "6")
    credit(people.dave.member, people.bob.member, "6")
    credit(people.dave.member, people.carol.member, "6")
    credit(people.carol.member, people.bob.member, "0")  # no way round through Bob -> Carol

    payment = pay(people.alice, "dave", "10")

    assert sorted(payment["paths"]) == [["alice", "bob", "dave"], ["alice", "carol", "dave"]]
    assert -Decimal(balance(people.alice, "bob")) - Decimal(balance(people.alice, "carol")) == 10
    assert Decimal(balance(people.dave, "bob")) + Decimal(balance(people.dave, "carol")) == 10
    assert_invariants(community)


def test_memo_and_tag_are_limited_in_utf8_bytes_not_characters(people):
    memo, tag = "\u00e9" * 127 + "x", " \u00e9" * 16  # 255 and 48 bytes; spaces are kept as sent

    payment = pay(people.alice, "dave", "1", memo=memo, tag=tag)

    assert (payment["memo"], payment["tag"]) == (memo, tag)
    for field, value in (("memo", memo + "x"), ("tag", tag + "x")):
        before = db_snapshot()
        response = people.alice.post("user/payment", {"username": "dave", "amount": "1", field: value})
        assert_error(response, 400, "invalid_input", field=field)
        assert db_snapshot() == before


def test_amounts_are_written_in_ascii_digits(people):
    assert_refused(people.alice, {"username": "dave", "amount": "\u0661\u0662"}, 400, "invalid_input", field="amount")


# user/payment/preview


def test_a_preview_shows_the_routes_tax_and_fees_and_moves_nothing(community, people):
    Community.objects.filter(pk=community.pk).update(hop_fee_ppm=10_000)
    before = db_snapshot()

    response = people.alice.post("user/payment/preview", {"username": "dave", "amount": "10"})

    assert response.status_code == 200
    assert response.json() == {
        "amount": "10.000000",
        "tax": "1.000000",
        "fees": "0.200000",
        "paths": [{"accounts": ["alice", "bob", "carol", "dave"], "hops": 3, "amount": "10.000000"}],
    }
    assert db_snapshot() == before
    payment = pay(people.alice, "dave", "10")
    assert subset(payment, "tax", "fees") == {"tax": "1.000000", "fees": "0.200000"}


def test_a_preview_is_refused_as_the_payment_would_be(people):
    before = db_snapshot()

    error = assert_error(
        people.alice.post("user/payment/preview", {"username": "dave", "amount": "100.5"}),
        409,
        "insufficient_capacity",
        max_sendable="100.000000",
    )

    assert error["message"] == "The trust paths to dave cannot carry 100.50 TRUST; at most 100.00 TRUST can be sent."
    assert db_snapshot() == before


# user/local_payment


def test_a_local_payment_uses_only_the_direct_line(people):
    before = db_snapshot()
    # A route to Dave exists, but no direct line.
    error = assert_error(
        people.alice.post("user/local_payment", {"username": "dave", "amount": "1"}), 409, "no_trust_path"
    )
    assert error["message"] == "You have no trustline with dave."
    assert db_snapshot() == before

    credit(people.dave.member, people.alice.member, "5")
    before = db_snapshot()
    error = assert_error(
        people.alice.post("user/local_payment", {"username": "dave", "amount": "5.5"}),
        409,
        "insufficient_capacity",
        max_sendable="5.000000",
    )
    assert error["message"] == "Your trustline with dave cannot carry 5.50 TRUST; at most 5.00 TRUST can be sent."
    assert db_snapshot() == before

    payment = pay(people.alice, "dave", "5", path="user/local_payment")

    assert subset(payment, "paths", "tax", "state") == {
        "paths": [["alice", "dave"]],
        "tax": "0.500000",
        "state": "finalized",
    }
    assert balance(people.alice, "dave") == "-5.000000"
    assert balance(people.alice, "bob") == ZERO


# user/receive_payment, and paying a request


def test_a_request_is_paid_when_the_payer_accepts_it(community, people):
    response = people.dave.post("user/receive_payment", {"username": "alice", "amount": "3", "memo": "invoice 7"})

    assert response.status_code == 201
    request = response.json()
    assert set(request) == {"id", "hashlock"}
    preimage = Payment.objects.get(pk=request["id"]).preimage
    pending = people.alice.get(f"user/payments/{request['id']}").json()
    assert subset(pending, "kind", "state", "payer", "payee", "amount", "memo", "hashlock", "preimage", "paths") == {
        "kind": "request",
        "state": "pending",
        "payer": "alice",
        "payee": "dave",
        "amount": "3.000000",
        "memo": "invoice 7",
        "hashlock": request["hashlock"],
        "preimage": None,
        "paths": [],
    }
    # Until the payment settles, its preimage is in no answer to either side.
    for client in (people.alice, people.dave):
        for path in (f"user/payments/{request['id']}", "user/payments", "user/receipts"):
            assert preimage not in client.get(path).content.decode()
    assert balance(people.alice, "bob") == ZERO

    response = people.alice.post(f"user/payments/{request['id']}/accept")

    assert response.status_code == 200
    paid = response.json()
    assert subset(paid, "state", "payer_status", "payee_status", "tax", "paths") == {
        "state": "finalized",
        "payer_status": "Accept",
        "payee_status": "Accept",
        "tax": "0.300000",
        "paths": [["alice", "bob", "carol", "dave"]],
    }
    assert hashlib.sha256(bytes.fromhex(paid["preimage"])).hexdigest() == request["hashlock"] == paid["hashlock"]
    assert people.dave.get(f"user/payments/{request['id']}").json()["preimage"] == paid["preimage"]
    assert balance(people.alice, "bob") == "-3.000000"
    assert balance(people.dave, "carol") == "3.000000"
    assert_invariants(community)


def test_a_request_cannot_be_paid_twice_or_by_its_payee(people):
    request = people.dave.post("user/receive_payment", {"username": "alice", "amount": "3"}).json()
    before = db_snapshot()
    assert_error(people.dave.post(f"user/payments/{request['id']}/accept"), 409, "status_change_not_allowed")
    assert db_snapshot() == before

    assert people.alice.post(f"user/payments/{request['id']}/accept").status_code == 200
    before = db_snapshot()
    assert_error(people.alice.post(f"user/payments/{request['id']}/accept"), 409, "status_change_not_allowed")
    assert db_snapshot() == before


def test_an_expired_request_cannot_be_paid(people):
    request = people.dave.post("user/receive_payment", {"username": "alice", "amount": "3"}).json()
    Payment.objects.filter(pk=request["id"]).update(deadline=timezone.now() - timedelta(seconds=1))
    before = db_snapshot()

    assert_error(people.alice.post(f"user/payments/{request['id']}/accept"), 409, "status_change_not_allowed")
    assert db_snapshot() == before


def test_a_request_that_cannot_be_routed_stays_pending(people):
    request = people.dave.post("user/receive_payment", {"username": "alice", "amount": "150"}).json()
    before = db_snapshot()

    response = people.alice.post(f"user/payments/{request['id']}/accept")

    assert_error(response, 409, "insufficient_capacity", max_sendable="100.000000")
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("username", "status", "code"), [("nobody", 404, "payer_not_found"), ("dave", 400, "invalid_input")]
)
def test_a_request_to_nobody_or_to_yourself_is_refused(people, username, status, code):
    before = db_snapshot()

    assert_error(people.dave.post("user/receive_payment", {"username": username, "amount": "1"}), status, code)
    assert db_snapshot() == before


# user/payments and user/payments/<id>


def test_payments_are_listed_newest_first_a_page_at_a_time(people):
    ids = [pay(people.alice, "dave", str(amount))["id"] for amount in range(1, 6)]

    response = people.alice.get("user/payments", {"limit": 2})
    pages = [response.json()]
    while pages[-1]["next"]:
        assert "limit=2" in pages[-1]["next"]
        pages.append(people.alice.client.get(pages[-1]["next"]).json())

    assert [[p["id"] for p in page["payments"]] for page in pages] == [ids[4:2:-1], ids[2:0:-1], ids[:1]]
    assert pages[0]["payments"][0] == people.alice.get(f"user/payments/{ids[4]}").json()
    assert people.alice.get("user/payments", {"limit": 1000}).json()["next"] is None
    assert [p["id"] for p in people.alice.get("user/payments", {"before": ids[1]}).json()["payments"]] == ids[:1]


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "-1"}, {"limit": "two"}, {"before": "x"}, {"before": "0"}]
)
@pytest.mark.parametrize("path", ["user/payments", "user/receipts"])
def test_a_bad_page_parameter_is_named(people, path, params):
    error = assert_error(people.alice.get(path, params), 400, "invalid_input", field=next(iter(params)))

    assert list(error["fields"]) == list(params)


@pytest.mark.parametrize("payment_id", [999_999, 2**63, 10**30])
def test_a_payment_that_does_not_exist_is_not_found(people, payment_id):
    assert_error(people.alice.get(f"user/payments/{payment_id}"), 404, "payment_not_found")
    assert_error(people.alice.post(f"user/payments/{payment_id}/dispute"), 404, "payment_not_found")


# Status actions


def test_the_payer_may_dispute_a_settled_payment_once_and_nothing_moves(people):
    payment = pay(people.alice, "dave", "2")
    balances = db_snapshot()["trustlines"]

    response = people.alice.post(f"user/payments/{payment['id']}/dispute")

    assert response.status_code == 200
    assert subset(response.json(), "state", "payer_status") == {"state": "finalized", "payer_status": "Dispute"}
    assert db_snapshot()["trustlines"] == balances
    before = db_snapshot()
    assert_error(people.alice.post(f"user/payments/{payment['id']}/dispute"), 409, "status_change_not_allowed")
    assert_error(people.dave.post(f"user/payments/{payment['id']}/dispute"), 403, "not_allowed_for_role")
    assert db_snapshot() == before


def test_the_payee_accepts_a_payment_once(people):
    payment = pay(people.alice, "dave", "2")

    response = people.dave.post(f"user/payments/{payment['id']}/accept")

    assert response.status_code == 200
    assert response.json()["payee_status"] == "Accept"
    before = db_snapshot()
    for action in ("accept", "decline"):
        assert_error(people.dave.post(f"user/payments/{payment['id']}/{action}"), 409, "status_change_not_allowed")
    assert db_snapshot() == before


@pytest.mark.parametrize("action", ["decline", "refund"])
def test_giving_a_payment_back_returns_the_money_along_the_trust_graph(community, people, action):
    payment = pay(people.alice, "dave", "12.5")
    if action == "refund":
        people.dave.post(f"user/payments/{payment['id']}/accept")

    response = people.dave.post(f"user/payments/{payment['id']}/{action}")

    assert response.status_code == 200
    assert response.json()["payee_status"] == {"decline": "Decline", "refund": "Refund"}[action]
    # Every hop is square again; the tax stays with the commons (a return is not taxed).
    for client, other in ((people.alice, "bob"), (people.bob, "carol"), (people.carol, "dave")):
        assert balance(client, other) == ZERO
    assert balance(people.alice, "commons") == "-1.250000"
    returned = people.alice.get("user/payments").json()["payments"][0]
    assert subset(returned, "kind", "state", "payer", "payee", "amount", "tax", "fees", "related", "paths") == {
        "kind": {"decline": "return", "refund": "refund"}[action],
        "state": "finalized",
        "payer": "dave",
        "payee": "alice",
        "amount": "12.500000",
        "tax": ZERO,
        "fees": ZERO,
        "related": payment["id"],
        "paths": [["dave", "carol", "bob", "alice"]],
    }
    assert_invariants(community)


def mutual_chain(people: SimpleNamespace) -> None:
    """Credit both ways along the chain, so money can always travel back from Dave to Alice."""
    for creditor, debtor in (("alice", "bob"), ("bob", "carol"), ("carol", "dave")):
        credit(getattr(people, creditor).member, getattr(people, debtor).member, "100")


@pytest.mark.parametrize("action", ["decline", "refund"])
def test_a_payment_is_given_back_once_only(people, action):
    mutual_chain(people)
    payment = pay(people.alice, "dave", "12.5")
    if action == "refund":
        people.dave.post(f"user/payments/{payment['id']}/accept")
    assert people.dave.post(f"user/payments/{payment['id']}/{action}").status_code == 200
    before = db_snapshot()

    for again in ("decline", "refund"):
        assert_error(people.dave.post(f"user/payments/{payment['id']}/{again}"), 409, "status_change_not_allowed")

    assert db_snapshot() == before


@pytest.mark.parametrize("action", ["decline", "refund"])
def test_a_second_give_back_is_refused_for_its_status_even_with_no_way_back(people, action):
    payment = pay(people.alice, "dave", "12.5")
    if action == "refund":
        people.dave.post(f"user/payments/{payment['id']}/accept")
    assert people.dave.post(f"user/payments/{payment['id']}/{action}").status_code == 200

    assert_error(people.dave.post(f"user/payments/{payment['id']}/{action}"), 409, "status_change_not_allowed")


def test_only_an_accepted_payment_is_refunded(people):
    payment = pay(people.alice, "dave", "2")
    before = db_snapshot()

    assert_error(people.dave.post(f"user/payments/{payment['id']}/refund"), 409, "status_change_not_allowed")
    assert db_snapshot() == before


def test_a_decline_that_cannot_be_routed_back_changes_nothing(people):
    payment = pay(people.alice, "dave", "10")
    # Dave spends Carol's debt to him, so nothing is left on the way back from him to Alice.
    pay(people.dave, "carol", "10", path="user/local_payment")
    before = db_snapshot()

    response = people.dave.post(f"user/payments/{payment['id']}/decline")

    assert_error(response, 409, "insufficient_capacity", max_sendable=ZERO)
    assert db_snapshot() == before
    assert people.dave.get(f"user/payments/{payment['id']}").json()["payee_status"] == "NotSet"


@pytest.mark.parametrize(
    ("actor", "action"),
    [("alice", "decline"), ("alice", "refund"), ("dave", "dispute")],
)
def test_an_action_of_the_other_side_is_forbidden(people, actor, action):
    payment = pay(people.alice, "dave", "2")
    people.dave.post(f"user/payments/{payment['id']}/accept")
    before = db_snapshot()

    assert_error(getattr(people, actor).post(f"user/payments/{payment['id']}/{action}"), 403, "not_allowed_for_role")
    assert db_snapshot() == before


def test_a_settled_payment_cannot_be_cancelled(people):
    payment = pay(people.alice, "dave", "2")
    before = db_snapshot()

    for client in (people.alice, people.dave):
        assert_error(client.post(f"user/payments/{payment['id']}/cancel"), 409, "status_change_not_allowed")
    assert db_snapshot() == before


@pytest.mark.parametrize("by", ["payer", "payee"])
def test_either_side_may_cancel_a_pending_request(people, by):
    request = people.dave.post("user/receive_payment", {"username": "alice", "amount": "3"}).json()
    client = people.alice if by == "payer" else people.dave

    response = client.post(f"user/payments/{request['id']}/cancel")

    assert response.status_code == 200
    assert subset(response.json(), "state", "cancel_reason", "preimage") == {
        "state": "cancelled",
        "cancel_reason": f"cancelled by the {by}",
        "preimage": None,
    }
    before = db_snapshot()
    assert_error(client.post(f"user/payments/{request['id']}/cancel"), 409, "status_change_not_allowed")
    assert_error(people.alice.post(f"user/payments/{request['id']}/accept"), 409, "status_change_not_allowed")
    assert db_snapshot() == before


@pytest.mark.parametrize("action", ["dispute", "cancel", "decline", "accept", "refund"])
def test_someone_elses_payment_is_not_found(people, action):
    payment = pay(people.alice, "dave", "2")
    before = db_snapshot()

    for outsider in (people.bob, people.carol):
        assert_error(outsider.post(f"user/payments/{payment['id']}/{action}"), 404, "payment_not_found")
    assert db_snapshot() == before


# user/receipts


def test_receipts_show_each_leg_each_side_paid_and_received_newest_first(people):
    request = people.dave.post("user/receive_payment", {"username": "alice", "amount": "3"}).json()
    first = pay(people.alice, "dave", "12.5", memo="rent")
    people.alice.post(f"user/payments/{request['id']}/accept")  # asked for before the rent, paid after it

    receipts = people.alice.get("user/receipts").json()

    assert receipts["next"] is None
    keys = ("payment", "type", "direction", "counterpart", "hop", "amount")
    # The ledger's receipts are legs: Alice pays Dave through Bob (the first hop), and the commons its tax and fees.
    tax = {"type": "tax", "direction": "out", "counterpart": "commons", "hop": "commons"}
    paid = {"type": "payment", "direction": "out", "counterpart": "dave", "hop": "bob"}
    assert [subset(r, *keys) for r in receipts["receipts"]] == [
        {"payment": request["id"], **tax, "amount": "0.300000"},
        {"payment": request["id"], **paid, "amount": "3.000000"},
        {"payment": first["id"], **tax, "amount": "1.250000"},
        {"payment": first["id"], **paid, "amount": "12.500000"},
    ]
    ids = [r["receipt_id"] for r in receipts["receipts"]]
    assert ids == sorted(ids, reverse=True)
    assert [
        (r["payment"], r["direction"], r["counterpart"], r["hop"], r["amount"])
        for r in people.dave.get("user/receipts").json()["receipts"]
    ] == [
        (request["id"], "in", "alice", "carol", "3.000000"),
        (first["id"], "in", "alice", "carol", "12.500000"),
    ]
    # Bob only carried the payments on: a leg in from Alice and a leg out to Carol for each, between Alice and Dave.
    bob = people.bob.get("user/receipts").json()["receipts"]
    assert [(r["direction"], r["counterpart"], r["hop"]) for r in bob] == [
        ("out", "dave", "carol"),
        ("in", "alice", "alice"),
    ] * 2


def test_receipts_come_a_page_at_a_time(people):
    request = people.dave.post("user/receive_payment", {"username": "alice", "amount": "3"}).json()
    ids = [pay(people.alice, "dave", "1")["id"] for _ in range(2)]
    people.alice.post(f"user/payments/{request['id']}/accept")
    expected = [request["id"]] * 2 + [ids[1]] * 2 + [ids[0]] * 2  # a payment leg and a tax leg each

    seen, page = [], people.alice.get("user/receipts", {"limit": 1}).json()
    while True:
        seen += [r["payment"] for r in page["receipts"]]
        if not page["next"]:
            break
        page = people.alice.client.get(page["next"]).json()

    assert seen == expected
    oldest = people.bob.get("user/receipts", {"before": 1}).json()  # receipt 0: Alice's first hop, to Bob
    assert [(r["receipt_id"], r["direction"], r["counterpart"]) for r in oldest["receipts"]] == [(0, "in", "alice")]


# Routing refusals: each names its cause and changes nothing


def assert_refused(client: ApiUser, body: dict, status: int, code: str, **extra) -> dict:
    before = db_snapshot()
    error = assert_error(client.post("user/payment", body), status, code, **extra)
    assert db_snapshot() == before
    return error


@pytest.mark.parametrize("username", ["nobody", "gone"])
def test_an_unknown_payee_is_not_found(community, people, username):
    MemberFactory(community=community, handle="gone", is_active=False)

    error = assert_refused(people.alice, {"username": username, "amount": "1"}, 404, "payee_not_found")

    assert username in error["message"]


def test_paying_yourself_is_refused(people):
    assert_refused(people.alice, {"username": "alice", "amount": "1"}, 400, "invalid_input", field="username")


def test_no_chain_of_trust_to_the_payee(community, people):
    """Erin has only her commons line, and the commons never relays payments."""
    MemberFactory(community=community, handle="erin")

    error = assert_refused(people.alice, {"username": "erin", "amount": "1"}, 409, "no_trust_path")

    assert error["message"] == "There is no chain of trustlines between you and erin."


def test_not_enough_capacity_names_the_most_that_can_be_sent(people):
    error = assert_refused(
        people.alice,
        {"username": "dave", "amount": "100.000001"},
        409,
        "insufficient_capacity",
        max_sendable="100.000000",
    )

    assert error["message"] == (
        "The trust paths to dave cannot carry 100.000001 TRUST; at most 100.00 TRUST can be sent."
    )
    assert pay(people.alice, "dave", "100")["amount"] == "100.000000"


def test_the_tax_needs_capacity_to_the_commons_too(db):
    community = CommunityFactory(slug="thin", minimum_trust_index=Decimal("0.1"), commons_limit=5_000_000)
    alice, bob = (MemberFactory(community=community, handle=handle) for handle in ("alice", "bob"))
    credit(bob, alice, "100")
    commons = accounts.commons_of(community)
    line = Trustline.objects.get(community=community, low=commons, high=account(bob))
    accounts.trustline_limits_set(
        line=line, limit_from_low=0, limit_from_high=line.limit_from_high
    )  # no way round via Bob
    client = ApiUser(alice)

    # 80 fits Alice's line to Bob, but its tax of 8 does not fit her line of 5 to the commons: 50 would.
    error = assert_refused(
        client, {"username": "bob", "amount": "80"}, 409, "insufficient_capacity", max_sendable="50.000000"
    )

    assert error["message"] == (
        "Your trustlines cannot also carry the tax and fees of 8.00 TRUST to the commons;"
        " at most 50.00 TRUST can be sent."
    )
    assert subset(pay(client, "bob", "50"), "amount", "tax") == {"amount": "50.000000", "tax": "5.000000"}


def test_a_path_longer_than_the_communitys_limit_is_too_many_hops(community, people):
    Community.objects.filter(pk=community.pk).update(max_hops=2)

    error = assert_refused(people.alice, {"username": "dave", "amount": "1"}, 409, "too_many_hops")

    assert error["message"] == "Every trust path to dave is longer than 2 hops."
    assert pay(people.alice, "carol", "1")["paths"] == [["alice", "bob", "carol"]]


def test_a_search_past_its_deadline_times_out(people, monkeypatch):
    # The search's clock reads as far past any deadline the planner sets; the planner's own clock is real.
    monkeypatch.setattr(search, "time", SimpleNamespace(monotonic=lambda: float("inf")))

    assert_refused(people.alice, {"username": "dave", "amount": "1"}, 503, "routing_timeout")
    assert_error(people.alice.post("user/payment/preview", {"username": "dave", "amount": "1"}), 503, "routing_timeout")
