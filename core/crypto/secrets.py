"""Bearer secrets (API tokens, invite codes): handed out once, stored only as digests."""

import hashlib
import secrets


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    # A fast hash is enough: the secrets carry 256 random bits, so there is nothing to brute-force,
    # and an exact-match lookup on the digest column keeps comparisons out of Python.
    return hashlib.sha256(secret.encode()).hexdigest()
