"""Whole numbers from outside (query strings, JSON, receipts): ids and receipt ids are PostgreSQL bigints.

``int()`` of thousands of digits raises a ValueError of its own, and a number past 64 bits makes the database
refuse the statement: both were 500s. Everything that reads a number from a request bounds it here.
"""

from rest_framework.request import Request

from core.errors import InvalidInput

MAX_ID = 2**63 - 1  # bigint
_MAX_DIGITS = len(str(MAX_ID))


def number_schema(*, minimum: int = 1) -> dict:
    """The OpenAPI schema of a whole number ``query_number`` reads."""
    return {"type": "integer", "minimum": minimum, "maximum": MAX_ID}


def whole_number(text: str, *, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """``text`` (ASCII digits only) as a number from ``minimum`` to ``maximum``, or None."""
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > _MAX_DIGITS:
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def query_number(request: Request, name: str, *, minimum: int = 1) -> int | None:
    """The query parameter ``name`` as a whole number (None when absent); anything else is ``invalid_input``."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    number = whole_number(raw, minimum=minimum)
    if number is None:
        raise InvalidInput(name, [f"This must be a whole number from {minimum} to {MAX_ID}."])
    return number
