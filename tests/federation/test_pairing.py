"""Pair keys: two instances derive the same key for two accounts, in either direction, without exchanging it."""

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from core.crypto.server import public_hex
from federation.pairing import pair_key, session_key

ALICE, BOB = "alice@river.one.example", "bob@lake.two.example"


def test_both_instances_derive_the_same_key_for_both_directions():
    one, two = X25519PrivateKey.generate(), X25519PrivateKey.generate()

    on_one = pair_key(own=one, peer_agree_key=public_hex(two), local=ALICE, remote=BOB)
    on_two = pair_key(own=two, peer_agree_key=public_hex(one), local=BOB, remote=ALICE)
    assert on_one == on_two and len(on_one) == 32
    assert pair_key(own=one, peer_agree_key=public_hex(two), local=ALICE.upper(), remote=BOB) == on_one


def test_every_pair_counter_and_direction_has_its_own_key():
    one, two, three = (X25519PrivateKey.generate() for _ in range(3))
    base = pair_key(own=one, peer_agree_key=public_hex(two), local=ALICE, remote=BOB)

    assert pair_key(own=one, peer_agree_key=public_hex(two), local=ALICE, remote="carol@lake.two.example") != base
    assert pair_key(own=one, peer_agree_key=public_hex(three), local=ALICE, remote=BOB) != base
    keys = {session_key(base, sender=sender, counter=n) for sender in (ALICE, BOB) for n in range(1, 51)}
    assert len(keys) == 100 and base not in keys
