"""Registration with a proof of work over the identity key: custody 0 (the server's sealed key) and 1 (a
withheld key whose possession the app proves). Proofs are checked at the set difficulty and never reused."""

import os

import pytest
from django.test import override_settings

from core.crypto import p256
from identity import pow
from identity.models import Block, Identity, IdentityKey, ProofSeed
from tests.bank.helpers import api, assert_error
from tests.conftest import token_client
from tests.factories import MemberFactory

BITS = 8
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("easy_pow")]


@pytest.fixture
def easy_pow():
    with override_settings(REGISTRATION_POW_BITS=BITS):
        yield


def proof(pubkey_hex: str, bits: int = BITS, seed: bytes | None = None) -> dict:
    """A body ``{seed, nonce}`` proving ``bits`` of work over the key."""
    seed = seed or os.urandom(pow.SEED_BYTES)
    return {"seed": seed.hex(), "nonce": pow.solve(pow.challenge_for(bytes.fromhex(pubkey_hex), seed), bits)}


def weak_proof(pubkey_hex: str, bits: int) -> dict:
    """A proof with exactly ``bits`` leading zero bits (so it fails at ``bits + 1``)."""
    while True:
        body = proof(pubkey_hex, bits)
        challenge = pow.challenge_for(bytes.fromhex(pubkey_hex), bytes.fromhex(body["seed"]))
        if not pow.proof_valid(challenge, body["nonce"], bits + 1):
            return body


def withheld_body(private, bits: int = BITS) -> dict:
    pubkey = p256.compressed_hex(private.public_key())
    body = proof(pubkey, bits)
    return {**body, "pubkey": pubkey, "signature": p256.sign(private, bytes.fromhex(body["seed"])).hex()}


def my_identity(client, member) -> dict:
    response = client.get(api(member.community, "identity/my-identity"))
    assert response.status_code == 200, response.content
    return response.json()


def register(client, member, body: dict):
    return client.post(api(member.community, "identity/register"), body, format="json")


@pytest.fixture
def member(db):
    return MemberFactory()


@pytest.fixture
def client(member):
    """Signed in through auth/login, which opens the member's identity (custody 0)."""
    return token_client(member)


def test_signing_in_opens_a_custody_0_identity_unregistered(client, member):
    mine = my_identity(client, member)
    assert mine == {"pubkey": mine["pubkey"], "registered": False, "balance": 100, "revoked": False, "custody": 0}
    key = IdentityKey.objects.get(identity__member=member)
    assert key.public_key == mine["pubkey"] and len(mine["pubkey"]) == 66
    assert bytes(key.sealed_private_key) and bytes(key.kdf_salt)


def test_a_proof_over_my_key_registers_me_and_spends_its_seed(client, member):
    pubkey = my_identity(client, member)["pubkey"]
    body = proof(pubkey)
    response = register(client, member, body)
    assert response.status_code == 201, response.content
    assert response.json()["registered"] is True
    assert Identity.objects.get(member=member).registered_at is not None
    assert ProofSeed.objects.get(seed=body["seed"]).nonce == body["nonce"]
    assert_error(register(client, member, proof(pubkey)), 409, "already_registered")


def test_a_proof_with_fewer_bits_than_set_is_refused(client, member):
    pubkey = my_identity(client, member)["pubkey"]
    body = weak_proof(pubkey, BITS - 1)
    assert_error(register(client, member, body), 400, "proof_invalid")
    assert not ProofSeed.objects.exists()
    assert my_identity(client, member)["registered"] is False


def test_a_proof_for_another_key_does_not_register_mine(client, member):
    other_key = p256.compressed_hex(p256.new_key().public_key())
    assert_error(register(client, member, proof(other_key)), 400, "proof_invalid")


def test_a_proof_already_accepted_is_refused_for_a_second_key(client, member):
    body = proof(my_identity(client, member)["pubkey"])
    assert register(client, member, body).status_code == 201
    second = MemberFactory(community=member.community)
    second_client = token_client(second)
    assert_error(register(second_client, second, body), 409, "proof_reused")
    assert my_identity(second_client, second)["registered"] is False


@pytest.mark.parametrize("seed", ["00" * 15, "zz" * 16, "00" * 16 + "\n", "00" * 17])
def test_a_malformed_seed_is_refused(client, member, seed):
    response = register(client, member, {"seed": seed, "nonce": 1})
    assert_error(response, 400, "seed_malformed")


def test_a_withheld_key_registers_with_a_signature_over_the_seed(client, member):
    private = p256.new_key()
    body = withheld_body(private)
    response = register(client, member, body)
    assert response.status_code == 201, response.content
    assert response.json() == {
        "pubkey": body["pubkey"],
        "registered": True,
        "balance": 100,
        "revoked": False,
        "custody": 1,
    }
    stored = IdentityKey.objects.get(public_key=body["pubkey"])
    assert bytes(stored.sealed_private_key) == b"" and stored.identity.custody == 1


def test_a_withheld_key_needs_its_own_signature(client, member):
    private = p256.new_key()
    body = withheld_body(private)
    forged = {**body, "signature": p256.sign(p256.new_key(), bytes.fromhex(body["seed"])).hex()}
    assert_error(register(client, member, forged), 400, "signature_invalid")
    over_other = {**body, "signature": p256.sign(private, b"something else").hex()}
    assert_error(register(client, member, over_other), 400, "signature_invalid")
    without = {key: value for key, value in body.items() if key != "signature"}
    assert_error(register(client, member, without), 400, "invalid_input", field="signature")
    assert not ProofSeed.objects.exists()


def test_the_register_event_goes_on_the_identity_chain(client, member):
    pubkey = my_identity(client, member)["pubkey"]
    assert register(client, member, proof(pubkey)).status_code == 201
    [block] = Block.objects.all()
    assert [(event["type"], event["pubkey"]) for event in block.events] == [("register", pubkey)]


@override_settings(REGISTRATION_POW_BITS=pow.REGISTRATION_BITS)
def test_registration_at_the_real_difficulty(client, member):
    pubkey = my_identity(client, member)["pubkey"]
    assert_error(register(client, member, weak_proof(pubkey, 12)), 400, "proof_invalid")
    assert register(client, member, proof(pubkey, pow.REGISTRATION_BITS)).status_code == 201


def test_status_counts_this_instances_identities(client, member):
    assert register(client, member, proof(my_identity(client, member)["pubkey"])).status_code == 201
    response = client.get(api(member.community, "identity/status"))
    assert response.status_code == 200
    body = response.json()
    assert body["identities"] == 1 and body["registered"] == 1 and body["revoked"] == 0
    assert body["difficulty_bits"] == BITS and body["chain_height"] == Block.objects.count()


def test_the_largest_nonce_is_stored_exactly(db):
    """Nonces are unsigned 64-bit: the columns keep 2**64 - 1 as it is."""
    from identity.models import Challenge, Identity, ProofSeed
    from tests.factories import MemberFactory

    identity = Identity.objects.create(member=MemberFactory())
    ProofSeed.objects.create(seed="ab" * 16, identity=identity, nonce=2**64 - 1)
    challenge = Challenge.objects.create(
        target=identity, data="00" * 32, difficulty_bits=14, expires_at=identity.created_at, nonce=2**64 - 1
    )
    assert int(ProofSeed.objects.get(seed="ab" * 16).nonce) == 2**64 - 1
    assert int(Challenge.objects.get(pk=challenge.pk).nonce) == 2**64 - 1
