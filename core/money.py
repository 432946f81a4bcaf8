"""Amounts are integers in micro-units (1.000000 = 1_000_000); people and apps see decimal strings."""

import re

MICRO = 1_000_000
MAX_AMOUNT = 2**63 - 1
_DECIMAL = re.compile(r"([0-9]{1,13})(?:\.([0-9]{1,6}))?")


def parse_amount(text: object, *, allow_zero: bool = False) -> int:
    """Parse a decimal string such as "12.5" into micro-units; raise ``ValueError`` saying what is wrong.

    Strict: ASCII digits only, nothing around them (the web forms trim what people type before this).
    """
    if not isinstance(text, str):
        raise ValueError('Amounts are decimal strings such as "12.50", not numbers.')
    match = _DECIMAL.fullmatch(text)
    if not match:
        if text != text.strip():
            raise ValueError("Amounts have no spaces or other blank characters around them.")
        if re.fullmatch(r"[0-9]+\.[0-9]{7,}", text):
            raise ValueError("Amounts have at most 6 decimal places.")
        raise ValueError('Amounts are written like "12.50": digits, at most 6 decimal places, no sign or exponent.')
    whole, fraction = match.group(1), match.group(2) or ""
    amount = int(whole) * MICRO + int(fraction.ljust(6, "0"))
    if amount > MAX_AMOUNT:
        raise ValueError("That amount is too large.")
    if amount == 0 and not allow_zero:
        raise ValueError("The amount must be more than zero.")
    return amount


def format_amount(micro: int) -> str:
    """Micro-units as a decimal string with 6 places: 12500000 -> "12.500000"."""
    sign = "-" if micro < 0 else ""
    whole, fraction = divmod(abs(micro), MICRO)
    return f"{sign}{whole}.{fraction:06d}"


def parse_rate(text: object) -> int:
    """Parse a rate between 0 and 1 such as "0.05" into millionths (50000)."""
    try:
        ppm = parse_amount(text, allow_zero=True)
    except ValueError as exc:
        raise ValueError(str(exc).replace("Amounts", "Rates").replace("amount", "rate")) from None
    if ppm > MICRO:
        raise ValueError("A rate is at most 1.")
    return ppm


def apply_rate(amount: int, ppm: int) -> int:
    """``amount x rate``, rounded down to the micro-unit."""
    return amount * ppm // MICRO
