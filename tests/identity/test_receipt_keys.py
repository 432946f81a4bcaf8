"""Receipts are signed in the member's name by a receipt key that the identity key in force certified; a
rotation hands receipts to the new key's receipt key and old receipts still verify. An admin's password
reset recovers a server-held identity key under the new password."""

import pytest
from django.utils import timezone

from bank.services import member_reset_password
from core.crypto import p256, signatures
from core.crypto.server import server_public_key_hex
from identity.models import Block, Identity, IdentityKey
from identity.selectors import key_in_force
from identity.services.custody import key_rotate, key_sign, rotation_text
from ledger import offline
from ledger.models import AccountKey, Entry
from ledger.selectors import records_lines
from ledger.verification import Receipt, receipt_check
from tests.bank.helpers import ApiUser, assert_error
from tests.factories import PASSWORD, MemberFactory
from tests.identity.test_registration import BITS, register, withheld_body
from tests.ledger.test_receipts import all_receipts, pay, verify
from tests.trust.helpers import credit
from trust.selectors import account_of
from trust.services.payments import payment_send

NEW_PASSWORD = "a-new-password-2026"


def _signed_by(receipt: dict) -> IdentityKey:
    return IdentityKey.objects.get(receipt_public_key=receipt["member_public_key"])


def _offline_problems(books, receipts: list[dict]) -> list:
    document = {"receipts": receipts, "server_public_key": server_public_key_hex()}
    results, chain = offline.verify(document, list(records_lines(community=books.community)))
    assert chain is None
    return [problem for _, problem in results]


def test_a_members_receipts_are_signed_by_the_receipt_key_their_identity_key_certified(books):
    for receipt in all_receipts(books.alice):
        if receipt["direction"] != "out":
            continue
        key = _signed_by(receipt)
        assert key.identity.member == books.alice.member
        assert receipt["identity_public_key"] == key.public_key
        assert key == key_in_force(identity=key.identity, at=timezone.now())
        certificate = bytes.fromhex(receipt["key_certificate"])
        assert signatures.receipt_key_certified(key.public_key, receipt["member_public_key"], certificate)
        assert Entry.objects.get(community=books.community, receipt_id=receipt["receipt_id"]).receipt_key == key
    # Bob never entered a passphrase for the hop routed through him: his receipt key signed in his name.
    hop = next(r for r in all_receipts(books.bob) if r["direction"] == "out")
    assert _signed_by(hop).identity.member == books.bob.member


def test_after_a_rotation_new_receipts_are_signed_by_the_new_key_and_old_ones_still_verify(books):
    before = [r for r in all_receipts(books.alice) if r["direction"] == "out"]
    old_key = _signed_by(before[0])
    new_key = key_rotate(member=books.alice.member, passphrase=PASSWORD)
    pay(books.alice, "carol", "3")

    after = [r for r in all_receipts(books.alice) if r["direction"] == "out" and r not in before]
    assert after and {_signed_by(r) for r in after} == {new_key}
    assert {r["identity_public_key"] for r in after} == {new_key.public_key} != {old_key.public_key}
    for receipt in before + after:
        assert verify(books.alice, receipt).json()["valid"], receipt
        assert receipt_check(books.community.pk, _receipt(receipt)) == []
    assert _offline_problems(books, before + after) == [None] * len(before + after)


def _receipt(receipt: dict) -> Receipt:
    return Receipt(
        receipt["text"], bytes.fromhex(receipt["member_signature"]), bytes.fromhex(receipt["server_signature"])
    )


def test_a_forged_certificate_is_found_by_every_verifier(books):
    receipt = next(r for r in all_receipts(books.alice) if r["direction"] == "out")
    key = _signed_by(receipt)
    forged = p256.sign(p256.new_key(), signatures.receipt_key_text(key.public_key, key.receipt_public_key))
    IdentityKey.objects.filter(pk=key.pk).update(receipt_certificate=forged)

    assert [f.code for f in receipt_check(books.community.pk, _receipt(receipt))] == ["receipt_key_uncertified"]
    assert verify(books.alice, receipt).json()["valid"] is False
    tampered = {**receipt, "key_certificate": forged.hex()}
    assert _offline_problems(books, [tampered]) == ["receipt key not certified by the member's identity key"]
    assert _offline_problems(books, [receipt]) == [None]  # the certificate the member downloaded earlier


def test_accounts_without_an_identity_key_sign_with_their_own_key(db):
    alice = ApiUser(MemberFactory(handle="alice"))
    bob = MemberFactory(community=alice.member.community, handle="bob")  # never signed in: no identity
    credit(alice.member, bob, "10")
    payment_send(payer=account_of(member=bob), payee=account_of(member=alice.member), amount=1_000_000)

    received = next(r for r in all_receipts(alice) if r["direction"] == "in")
    assert not Identity.objects.filter(member=bob).exists()
    assert received["identity_public_key"] == received["key_certificate"] == ""
    assert received["member_public_key"] == AccountKey.objects.get(account=account_of(member=bob)).public_key
    assert verify(alice, received).json()["valid"]


@pytest.fixture
def withheld(db, settings):
    """A member whose app registered a withheld key (the sign-in opened a server-held one first)."""
    settings.REGISTRATION_POW_BITS = BITS
    client, private = ApiUser(MemberFactory()), p256.new_key()
    assert register(client.client, client.member, withheld_body(private)).status_code == 201
    return client, private


def test_a_withheld_key_certifies_its_receipt_key_through_its_app(withheld):
    client, private = withheld
    shown = client.get("identity/receipt-key").json()
    assert shown["pubkey"] == p256.compressed_hex(private.public_key()) and shown["certificate"] == ""
    assert shown["certificate_text"] == f"receipt-key|{shown['pubkey']}|{shown['receipt_pubkey']}"

    forged = p256.sign(p256.new_key(), shown["certificate_text"].encode()).hex()
    assert_error(client.post("identity/receipt-key", {"signature": forged}), 400, "signature_invalid")
    assert IdentityKey.objects.get(public_key=shown["pubkey"]).receipt_certificate == b""

    signature = p256.sign(private, shown["certificate_text"].encode()).hex()
    response = client.post("identity/receipt-key", {"signature": signature})
    assert response.status_code == 200, response.content
    assert response.json()["certificate"] == signature
    assert signatures.receipt_key_certified(shown["pubkey"], shown["receipt_pubkey"], bytes.fromhex(signature))


def test_a_server_held_key_certifies_itself_and_refuses_an_apps_certificate(db):
    client = ApiUser(MemberFactory())
    shown = client.get("identity/receipt-key").json()
    assert signatures.receipt_key_certified(
        shown["pubkey"], shown["receipt_pubkey"], bytes.fromhex(shown["certificate"])
    )
    assert_error(client.post("identity/receipt-key", {"signature": "00"}), 400, "invalid_input")


# An admin's password reset


def test_an_admins_reset_recovers_the_key_under_the_new_password_on_the_chain(db):
    client = ApiUser(MemberFactory())
    member = client.member
    identity = Identity.objects.get(member=member)
    old = key_in_force(identity=identity, at=timezone.now())

    member_reset_password(member=member, new_password=NEW_PASSWORD)

    recovered = key_in_force(identity=identity, at=timezone.now())
    assert recovered != old and recovered.recovery
    text = rotation_text(public_key=recovered.public_key, effective_from=recovered.effective_from)
    assert signatures.server_signature_valid(server_public_key_hex(), bytes(recovered.rotation_signature), text)
    event = Block.objects.order_by("-index").first().events[0]
    assert (event["type"], event["pubkey"]) == ("recover", recovered.public_key)
    used, signature = key_sign(member=member, passphrase=NEW_PASSWORD, data=b"vote")
    assert used == recovered and p256.signature_valid(recovered.public_key, signature, b"vote")
    assert signatures.receipt_key_certified(
        recovered.public_key, recovered.receipt_public_key, bytes(recovered.receipt_certificate)
    )
    with pytest.raises(Exception) as refused:
        key_sign(member=member, passphrase=PASSWORD, data=b"vote")
    assert refused.value.code == "passphrase_invalid"


def test_a_reset_to_a_password_that_still_opens_the_key_changes_nothing(db):
    member = ApiUser(MemberFactory()).member
    keys_before = list(IdentityKey.objects.filter(identity__member=member))
    member_reset_password(member=member, new_password=PASSWORD)
    assert list(IdentityKey.objects.filter(identity__member=member)) == keys_before
