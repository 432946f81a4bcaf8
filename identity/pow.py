"""Proof of work over an identity's public key, in Anonity's format.

A client proves work for its key by picking a 16-byte ``seed`` (sent as 32 hex characters) and
searching for a ``nonce`` such that ``SHA256(challenge || nonce as 8 bytes big-endian)`` starts with at
least ``bits`` zero bits, where ``challenge = SHA256(public_key || seed)``. The server only verifies
(`proof_valid`); `solve` is the reference solver, used by tests, benchmarks and non-browser clients.
Because the key is inside the challenge, a proof made for one key does not verify for another.
"""

import hashlib
import re
import struct
from collections.abc import Callable

REGISTRATION_BITS = 20  # defaults; the community's settings choose the difficulty
CHALLENGE_BITS = 14
SEED_BYTES = 16
NONCE_LIMIT = 2**64  # nonces are 0 .. 2**64 - 1, as 8 bytes big-endian
DIGEST_BITS = 256

_NONCE = struct.Struct(">Q")
_SEED_HEX = re.compile(r"[0-9a-fA-F]{32}")


def seed_from_hex(text: str) -> bytes:
    """The 16 seed bytes from exactly 32 hex characters; ``ValueError`` on anything else."""
    if not isinstance(text, str) or not _SEED_HEX.fullmatch(text):
        raise ValueError("The seed is 32 hex characters.")
    return bytes.fromhex(text)


def challenge_for(public_key: bytes, seed: bytes) -> bytes:
    """``SHA256(public_key || seed)``, the 32 bytes a proof is made over."""
    if len(seed) != SEED_BYTES:
        raise ValueError(f"The seed is {SEED_BYTES} bytes.")
    return hashlib.sha256(public_key + seed).digest()


def leading_zero_bits(digest: bytes) -> int:
    """How many of the digest's bits, from the most significant of its first byte, are zero."""
    return len(digest) * 8 - int.from_bytes(digest, "big").bit_length()


def _target(bits: int) -> bytes:
    """The 32-byte value every good digest is below: equal-length bytes compare as big-endian numbers,
    so ``digest < target`` is "at least ``bits`` leading zero bits" without converting the digest."""
    if not 1 <= bits <= DIGEST_BITS:
        raise ValueError(f"The difficulty is 1 to {DIGEST_BITS} bits.")
    return (1 << (DIGEST_BITS - bits)).to_bytes(DIGEST_BITS // 8, "big")


def proof_valid(challenge: bytes, nonce: int, bits: int) -> bool:
    """Whether ``nonce`` solves ``challenge`` at ``bits`` difficulty. A nonce that is not an integer in
    0 .. 2**64 - 1 (bools included) is simply not a proof; a difficulty outside 1..256 is a caller's error."""
    target = _target(bits)
    if type(nonce) is not int or not 0 <= nonce < NONCE_LIMIT:
        return False
    return hashlib.sha256(challenge + _NONCE.pack(nonce)).digest() < target


def solve(
    challenge: bytes,
    bits: int,
    start: int = 0,
    progress: Callable[[int], object] | None = None,
    *,
    chunk: int = 1 << 16,
) -> int:
    """The first nonce from ``start`` up that solves ``challenge`` at ``bits``. ``progress``, when given,
    is called with the number of nonces tried after every ``chunk`` of them (so it costs nothing per hash).
    Raises ``ValueError`` when no nonce up to 2**64 - 1 does, which at sane difficulties never happens."""
    target = _target(bits)
    if not 0 <= start < NONCE_LIMIT:
        raise ValueError("The first nonce is 0 to 2**64 - 1.")
    # The challenge's state is hashed once; each nonce copies it and adds its 8 bytes.
    prefix, pack = hashlib.sha256(challenge), _NONCE.pack
    low = start
    while low < NONCE_LIMIT:
        high = min(low + chunk, NONCE_LIMIT)
        for nonce in range(low, high):
            state = prefix.copy()
            state.update(pack(nonce))
            if state.digest() < target:
                return nonce
        if progress is not None:
            progress(high - start)
        low = high
    raise ValueError("No nonce solves this challenge.")
