"""Civil Money's credit score ("recent reputation") over demurraged amounts, exactly.

Demurrage (``DEPRECIATE``): an amount keeps its full value for 365 days, then loses value linearly
to nothing at 730 days: ``amount * min(1, max(0, (730 - days) / 365))``, rounded to 6 places, that is
to a whole micro-unit. Each transaction is depreciated by its own age, then credits (received) and
debits (paid) are summed.

Score: ``ROUND(MAX(0, MIN(1, (1200 + credits - debits) / 2400)) * 100, 1)`` with credits and debits
in whole currency units (1200 is twice Civil Money's basic yearly allowance of 600). Rating from the
rounded score: Good at 25 and above, Overspent above 0, Bad at 0.

Rounding, everywhere: half away from zero (the ROUND of spreadsheets and SQL), in integer and
``Fraction`` arithmetic, never floats. A depreciated amount can never fall on a half (it is
``amount * k / 365`` and 365 is odd), so the rule only ever decides scores, e.g. 0.05 -> 0.1.

CAN-VOTE: for each of the 12 calendar months before the month of ``today`` (today's own month does
not count, so eligibility holds still for a whole month), at least one transaction with a counterpart
other than the member. Transactions dated after ``today`` are ignored throughout.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Literal

MICRO = 1_000_000
FULL_VALUE_DAYS = 365
WORTHLESS_DAYS = 730
BASIC_YEARLY_ALLOWANCE = 600  # whole units
GOOD_FROM = 25
VOTING_MONTHS = 12


def _round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` (both >= 0, denominator > 0) to the nearest integer, halves up."""
    return (2 * numerator + denominator) // (2 * denominator)


def depreciated(amount_micro: int, days: int) -> int:
    """What ``amount_micro`` is worth ``days`` days after its transaction, in micro-units."""
    if amount_micro < 0:
        raise ValueError("Amounts are not negative.")
    if days <= FULL_VALUE_DAYS:
        return amount_micro
    if days >= WORTHLESS_DAYS:
        return 0
    return _round_half_up(amount_micro * (WORTHLESS_DAYS - days), WORTHLESS_DAYS - FULL_VALUE_DAYS)


@dataclass(frozen=True)
class Transaction:
    when: date
    amount: int  # micro-units, > 0
    direction: Literal["credit", "debit"]  # credit: the member received it; debit: the member paid it
    counterpart: str

    def __post_init__(self) -> None:
        if self.direction not in ("credit", "debit"):
            raise ValueError('A transaction is a "credit" or a "debit".')
        if self.amount <= 0:
            raise ValueError("A transaction's amount is more than zero.")


@dataclass(frozen=True)
class CreditScore:
    score: Decimal  # 0.0 .. 100.0, one place
    rating: str  # "Good", "Overspent" or "Bad"
    can_vote: bool
    credits: int  # depreciated, micro-units
    debits: int


def score_of(credits: int, debits: int) -> Decimal:
    """The score for depreciated ``credits`` and ``debits`` in micro-units."""
    allowance = BASIC_YEARLY_ALLOWANCE * MICRO
    ratio = min(Fraction(1), max(Fraction(0), Fraction(2 * allowance + credits - debits, 4 * allowance)))
    tenths = _round_half_up(ratio.numerator * 1000, ratio.denominator)
    return Decimal(tenths).scaleb(-1).quantize(Decimal("0.1"))


def rating_of(score: Decimal) -> str:
    if score >= GOOD_FROM:
        return "Good"
    return "Overspent" if score > 0 else "Bad"


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def can_vote(transactions: Iterable[Transaction], today: date, *, member: str) -> bool:
    """At least one transaction with someone else in each of the 12 calendar months before today's."""
    current = _month_index(today)
    months = {
        _month_index(t.when)
        for t in transactions
        if t.counterpart != member and current - VOTING_MONTHS <= _month_index(t.when) < current
    }
    return len(months) == VOTING_MONTHS


def credit_score(transactions: Iterable[Transaction], today: date, *, member: str) -> CreditScore:
    """The member's score on ``today``; ``member`` is its own name, so payments to itself do not make it
    eligible to vote (they still count in credits and debits, as any transaction does)."""
    past = [t for t in transactions if t.when <= today]
    totals = {"credit": 0, "debit": 0}
    for t in past:
        totals[t.direction] += depreciated(t.amount, (today - t.when).days)
    score = score_of(totals["credit"], totals["debit"])
    return CreditScore(
        score=score,
        rating=rating_of(score),
        can_vote=can_vote(past, today, member=member),
        credits=totals["credit"],
        debits=totals["debit"],
    )
