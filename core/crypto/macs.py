"""Message authentication: HMAC-SHA256 (never ``sha256(message + key)``), compared in constant time."""

import hashlib
import hmac


def mac_hex(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def same(expected: str | bytes, given: str | bytes) -> bool:
    """Whether two MACs or digests are equal, in time that does not depend on where they differ.

    ``hmac.compare_digest`` takes only ASCII text, so text that is not ASCII is simply unequal.
    """
    if isinstance(given, str) and not given.isascii():
        return False
    return hmac.compare_digest(expected, given)
