"""Hashes and keys written as lowercase hex, as the books and the federation documents write them."""

HEX_DIGITS = frozenset("0123456789abcdef")


def is_hex(value: object, length: int) -> bool:
    """Whether ``value`` is a string of exactly ``length`` lowercase hex digits."""
    return isinstance(value, str) and len(value) == length and HEX_DIGITS.issuperset(value)
