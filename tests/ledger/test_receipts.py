"""Members' signed receipts (user/receipts), balances by the ledger (ledger/balance) and ledger/verify."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.crypto import p256, signatures
from core.crypto.server import server_public_key_hex
from ledger import formats
from ledger.models import Entry
from tests.bank.helpers import ApiUser, assert_error


def pay(client: ApiUser, username: str, amount: str) -> dict:
    response = client.post("user/payment", {"username": username, "amount": amount})
    assert response.status_code == 201, response.content
    return response.json()


def all_receipts(client: ApiUser, limit: int = 200) -> list[dict]:
    page = client.get("user/receipts", {"limit": limit}).json()
    receipts = page["receipts"]
    while page["next"]:
        page = client.client.get(page["next"]).json()
        receipts += page["receipts"]
    return receipts


# user/receipts


def test_a_members_receipts_are_their_legs_paid_received_and_routed_newest_first(books):
    alice = all_receipts(books.alice)
    entries = Entry.objects.filter(community=books.community)
    mine = entries.filter(source__member__handle="alice") | entries.filter(destination__member__handle="alice")
    assert [r["receipt_id"] for r in alice] == sorted(mine.values_list("receipt_id", flat=True), reverse=True)
    legs = {(r["payment"], r["type"], r["direction"], r["counterpart"], r["hop"], r["amount"]) for r in alice}
    # counterpart: the payment's other party (the payee of the tax is the commons); hop: the next account.
    assert legs == {
        (books.first["id"], "payment", "out", "carol", "bob", "10.000000"),
        (books.first["id"], "tax", "out", "commons", "commons", "1.000000"),
        (books.second["id"], "payment", "in", "carol", "carol", "2.000000"),
    }
    # Bob paid nothing himself: his receipts are the hops of a payment from Alice to Carol routed through him.
    bob = {(r["payment"], r["direction"], r["counterpart"], r["hop"]) for r in all_receipts(books.bob)}
    assert bob == {(books.first["id"], "in", "alice", "alice"), (books.first["id"], "out", "carol", "carol")}
    carol = {(r["payment"], r["direction"], r["counterpart"], r["hop"]) for r in all_receipts(books.carol)}
    assert (books.first["id"], "in", "alice", "bob") in carol


def test_receipts_are_signed_by_the_member_and_the_server_and_match_their_public_record(books):
    for receipt in all_receipts(books.alice):
        utc, source, destination, amount, previous, receipt_id = receipt["text"].split("|")
        assert int(receipt_id) == receipt["receipt_id"] and (utc, amount) == (receipt["utc"], receipt["amount"])
        assert "alice@river" in (source, destination)
        before = Entry.objects.filter(community=books.community, receipt_id=receipt["receipt_id"] - 1).first()
        assert previous == (before.record.split("|")[4] if before else formats.GENESIS)
        member_signature, server_signature = (
            bytes.fromhex(receipt[k]) for k in ("member_signature", "server_signature")
        )
        assert p256.signature_valid(receipt["member_public_key"], member_signature, receipt["text"].encode())
        assert receipt["server_public_key"] == server_public_key_hex()
        signed = formats.server_signed_bytes(receipt["text"], member_signature)
        assert signatures.server_signature_valid(receipt["server_public_key"], server_signature, signed)
        assert receipt["record"].split("|")[5] == formats.receipt_hash(
            receipt["text"], member_signature, server_signature
        )


def test_another_members_receipts_are_not_mine(books):
    alice_ids = {r["receipt_id"] for r in all_receipts(books.alice)}
    carol_only = {r["receipt_id"] for r in all_receipts(books.carol)} - alice_ids
    assert carol_only  # Bob's hop to Carol
    assert all("alice@river" not in r["text"] for r in all_receipts(books.carol) if r["receipt_id"] in carol_only)
    assert all_receipts(books.ann) and all("@lake|" in r["text"] for r in all_receipts(books.ann))


def test_receipts_come_a_page_at_a_time_newest_first_in_a_constant_number_of_queries(books):
    expected = [r["receipt_id"] for r in all_receipts(books.alice)]
    first = books.alice.get("user/receipts", {"limit": 2}).json()
    assert [r["receipt_id"] for r in first["receipts"]] == expected[:2] and "before=" in first["next"]
    assert [r["receipt_id"] for r in all_receipts(books.alice, limit=1)] == expected
    assert expected[-1] == 0  # Alice's payment opened the books
    oldest = books.alice.get("user/receipts", {"before": 1}).json()
    assert [r["receipt_id"] for r in oldest["receipts"]] == [0] and oldest["next"] is None

    counts = []
    for limit in (1, 3):
        with CaptureQueriesContext(connection) as queries:
            books.alice.get("user/receipts", {"limit": limit})
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("params", [{"limit": "0"}, {"before": "x"}, {"before": "0"}, {"limit": "-2"}])
def test_a_bad_page_parameter_is_named(books, params):
    assert_error(books.alice.get("user/receipts", params), 400, "invalid_input", field=next(iter(params)))


def test_receipts_need_a_member(books, api_client):
    assert api_client.get("/c/river/api/user/receipts").status_code == 401
    assert_error(books.ann.client.get("/c/river/api/user/receipts"), 403, "not_a_member")


# ledger/balance


def test_the_ledgers_balances_are_the_trustlines_after_payments_and_a_refund(books):
    books.carol.post(f"user/payments/{books.first['id']}/accept")
    assert books.carol.post(f"user/payments/{books.first['id']}/refund").status_code == 200
    for client in (books.alice, books.bob, books.carol):
        ledger = client.get("ledger/balance").json()
        assert ledger == client.get("user/accounts").json()
        assert any(row["balance"] != "0.000000" for row in ledger["accounts"])


# ledger/verify


def verify(client: ApiUser, receipt: dict, **changes):
    body = {k: receipt[k] for k in ("text", "member_signature", "server_signature")} | changes
    return client.post("ledger/verify", {"receipt": body})


def test_a_receipt_from_the_books_verifies(books):
    receipt = all_receipts(books.alice)[0]
    assert verify(books.alice, receipt).json() == {"receipt_id": receipt["receipt_id"], "valid": True}
    assert verify(books.bob, receipt).json()["valid"]  # anyone in the community may check a receipt


def test_a_tampered_receipt_does_not_verify(books):
    receipt = all_receipts(books.alice)[0]
    text = receipt["text"]
    more = text.replace(receipt["amount"], "99.000000")
    signature = receipt["member_signature"]
    other = all_receipts(books.alice)[1]
    for changes in (
        {"text": more},
        {"member_signature": other["member_signature"]},
        {"server_signature": signature[:-2] + ("00" if signature[-2:] != "00" else "11")},
        {"server_signature": other["server_signature"]},
    ):
        assert verify(books.alice, receipt, **changes).json() == {"receipt_id": receipt["receipt_id"], "valid": False}


def test_an_unknown_or_foreign_receipt_id_does_not_verify(books):
    receipt = all_receipts(books.alice)[0]
    unknown = receipt["text"].rpartition("|")[0] + "|999"
    assert verify(books.alice, receipt, text=unknown).json() == {"receipt_id": 999, "valid": False}
    lake = all_receipts(books.ann)[0]
    assert verify(books.alice, lake).json()["valid"] is False  # lake's receipt is not in river's books


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"receipt": "text"},
        {"receipt": {"text": "a|b"}},
        {"receipt": {"text": "x|y|z|1.0|h|7", "member_signature": "00", "server_signature": "00"}},
        {"receipt": {"text": "t|a|b|1.000000|h|7", "member_signature": "zz", "server_signature": "00"}},
        {"receipt": {"text": "t|a|b|1.000000|h|7", "member_signature": 1, "server_signature": "00"}},
        {"receipt": {"text": "t|a|b|1.000000|h|-1", "member_signature": "00", "server_signature": "00"}},
        {"receipt": {"text": "t|a|b|1.000000|h|7", "member_signature": "00", "server_signature": "00", "x": 1}},
    ],
)
def test_a_malformed_receipt_is_refused(books, body):
    assert_error(books.alice.post("ledger/verify", body), 400, "receipt_malformed")


def test_a_huge_receipt_id_is_simply_unknown(books):
    receipt = all_receipts(books.alice)[0]
    text = receipt["text"].rpartition("|")[0] + f"|{10**30}"
    assert verify(books.alice, receipt, text=text).json() == {"receipt_id": 10**30, "valid": False}
