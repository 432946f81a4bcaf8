"""PoW: proofs verify exactly when their digest has enough leading zero bits, for their own key only."""

import hashlib

import pytest

from identity import pow

KEY = bytes.fromhex("02" + "ab" * 32)  # a compressed P-256 public key's shape
OTHER_KEY = bytes.fromhex("03" + "ab" * 32)
SEED = pow.seed_from_hex("00112233445566778899aabbccddeeff")
CHALLENGE = pow.challenge_for(KEY, SEED)


def digest(challenge: bytes, nonce: int) -> bytes:
    return hashlib.sha256(challenge + nonce.to_bytes(8, "big")).digest()


def zero_bits(data: bytes) -> int:
    """Leading zero bits counted from the bit string, independently of the module's arithmetic."""
    text = "".join(f"{byte:08b}" for byte in data)
    return len(text) - len(text.lstrip("0"))


def test_challenge_is_sha256_of_key_and_seed():
    assert hashlib.sha256(KEY + bytes.fromhex("00112233445566778899aabbccddeeff")).digest() == CHALLENGE
    with pytest.raises(ValueError):
        pow.challenge_for(KEY, SEED[:15])


@pytest.mark.parametrize(
    "text", ["", "00" * 15, "00" * 17, "zz" * 16, " " + "0" * 31, "0" * 31 + "\n", "0" * 32 + "\n", None, b"0" * 32]
)
def test_seed_is_exactly_32_hex_characters(text):
    with pytest.raises(ValueError):
        pow.seed_from_hex(text)


def test_seed_accepts_either_case():
    assert pow.seed_from_hex("AB" * 16) == pow.seed_from_hex("ab" * 16) == b"\xab" * 16


@pytest.mark.parametrize(
    "data", [b"\x00" * 32, b"\xff" + b"\x00" * 31, b"\x00\x01" + b"\xff" * 30, b"\x00\x00\x0f" + b"\x00" * 29]
)
def test_leading_zero_bits(data):
    assert pow.leading_zero_bits(data) == zero_bits(data)


def test_accepts_exactly_the_nonces_with_enough_leading_zero_bits():
    """Over the first 4096 nonces, every nonce is checked at the difficulty it meets and one bit above."""
    for nonce in range(4096):
        have = zero_bits(digest(CHALLENGE, nonce))
        for bits in range(1, 13):
            assert pow.proof_valid(CHALLENGE, nonce, bits) is (have >= bits), (nonce, bits)


@pytest.mark.parametrize("bits", [1, 8, 12, pow.CHALLENGE_BITS])
def test_solve_finds_the_first_proof(bits):
    nonce = pow.solve(CHALLENGE, bits)
    # The vector, found by a plain search from the fixed seed: the first nonce with enough zero bits.
    expected = next(n for n in range(1 << 24) if zero_bits(digest(CHALLENGE, n)) >= bits)
    assert nonce == expected
    assert pow.proof_valid(CHALLENGE, nonce, bits)
    assert pow.solve(CHALLENGE, bits, start=nonce + 1) > nonce


def test_a_proof_meets_its_difficulty_not_a_higher_one():
    nonce = pow.solve(CHALLENGE, pow.CHALLENGE_BITS)
    exact = zero_bits(digest(CHALLENGE, nonce))
    assert pow.proof_valid(CHALLENGE, nonce, exact)
    assert not pow.proof_valid(CHALLENGE, nonce, exact + 1)


def test_a_proof_for_one_key_does_not_verify_for_another():
    other = pow.challenge_for(OTHER_KEY, SEED)
    nonce = pow.solve(CHALLENGE, pow.CHALLENGE_BITS)
    assert pow.proof_valid(CHALLENGE, nonce, pow.CHALLENGE_BITS)
    assert not pow.proof_valid(other, nonce, pow.CHALLENGE_BITS)
    # Nor for the same key with another seed.
    assert not pow.proof_valid(pow.challenge_for(KEY, bytes(16)), nonce, pow.CHALLENGE_BITS)


@pytest.mark.parametrize("nonce", [-1, 2**64, 2**70, "1", 1.0, True, None])
def test_out_of_range_or_non_integer_nonce_is_invalid_not_an_error(nonce):
    assert pow.proof_valid(CHALLENGE, nonce, 1) is False


def test_largest_nonce_is_eight_bytes():
    top = 2**64 - 1
    assert pow.proof_valid(CHALLENGE, top, 1) is (digest(CHALLENGE, top)[0] < 0x80)


@pytest.mark.parametrize("bits", [0, -1, 257])
def test_difficulty_out_of_range_is_a_callers_error(bits):
    with pytest.raises(ValueError):
        pow.proof_valid(CHALLENGE, 0, bits)
    with pytest.raises(ValueError):
        pow.solve(CHALLENGE, bits)


def test_solve_reports_progress_per_chunk_and_stops_at_the_last_nonce():
    calls = []
    nonce = pow.solve(CHALLENGE, 12, progress=calls.append, chunk=256)
    assert calls == [256 * (i + 1) for i in range(nonce // 256)]
    with pytest.raises(ValueError):
        pow.solve(CHALLENGE, 64, start=2**64 - 16)  # 16 nonces left, no 64-bit proof among them
    with pytest.raises(ValueError):
        pow.solve(CHALLENGE, 1, start=2**64)


def test_registration_proof():
    nonce = pow.solve(CHALLENGE, pow.REGISTRATION_BITS)
    assert zero_bits(digest(CHALLENGE, nonce)) >= pow.REGISTRATION_BITS
    assert pow.proof_valid(CHALLENGE, nonce, pow.REGISTRATION_BITS)
