"""Demurrage and credit score, hand-computed; CAN-VOTE's calendar-month edges."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from identity.credit import Transaction, credit_score, depreciated, score_of

UNIT = 1_000_000
TODAY = date(2025, 3, 15)  # CAN-VOTE months: March 2024 .. February 2025


def tx(when: date, units: float | int = 1, direction: str = "credit", counterpart: str = "bob") -> Transaction:
    return Transaction(when=when, amount=int(Decimal(str(units)) * UNIT), direction=direction, counterpart=counterpart)


@pytest.mark.parametrize(
    "days, expected",
    [
        (0, 1_000 * UNIT),
        (364, 1_000 * UNIT),
        (365, 1_000 * UNIT),  # 1 - (365 - 365) / 365 = 1
        (500, 630_136_986),  # 1000 * 230 / 365 = 630.136986|30 units
        (729, 2_739_726),  # 1000 * 1 / 365 = 2.739726|03
        (730, 0),
        (800, 0),
        (-3, 1_000 * UNIT),  # dated in the future: MIN(1, ...)
    ],
)
def test_depreciated_hand_computed(days, expected):
    assert depreciated(1_000 * UNIT, days) == expected


def test_depreciated_rounds_to_the_nearest_micro_unit():
    assert depreciated(1, 547) == 1  # 183/365 = 0.501... up
    assert depreciated(1, 548) == 0  # 182/365 = 0.498... down
    assert depreciated(2, 548) == 1  # 364/365 up, not truncated
    assert depreciated(7, 600) == 2  # 7 * 130 / 365 = 2.493 down, not ceiling
    assert depreciated(0, 500) == 0
    with pytest.raises(ValueError):
        depreciated(-1, 10)


@pytest.mark.parametrize(
    "credits, debits, score",
    [
        (0, 0, "50.0"),
        (1_200, 0, "100.0"),
        (5_000, 0, "100.0"),  # MIN(1, ...)
        (0, 1_200, "0.0"),
        (0, 5_000, "0.0"),  # MAX(0, ...)
        (0, 600, "25.0"),
        (100, 700, "25.0"),
        (0, Decimal("1194.24"), "0.2"),  # 0.24
        (0, Decimal("1194"), "0.3"),  # 0.25 exactly: half away from zero (half-even would say 0.2)
        (0, Decimal("1198.8"), "0.1"),  # 0.05 exactly: up (half-even: 0.0)
        (0, Decimal("1198.800001"), "0.0"),  # just below 0.05
        (Decimal("0.000001"), 1_200, "0.0"),  # 0.0000000416...
    ],
)
def test_score_hand_computed(credits, debits, score):
    result = score_of(int(Decimal(credits) * UNIT), int(Decimal(debits) * UNIT))
    assert isinstance(result, Decimal) and str(result) == score


@pytest.mark.parametrize(
    "debit_units, score, rating",
    [
        (0, "50.0", "Good"),
        (600, "25.0", "Good"),
        (Decimal("600.24"), "25.0", "Good"),  # 24.99 rounds to 25.0
        (Decimal("601.2"), "25.0", "Good"),  # 24.95 exactly, rounds up
        (Decimal("601.21"), "24.9", "Overspent"),
        (Decimal("1198.8"), "0.1", "Overspent"),
        (Decimal("1198.81"), "0.0", "Bad"),  # 0.0495...
        (1_200, "0.0", "Bad"),
    ],
)
def test_rating_follows_the_rounded_score(debit_units, score, rating):
    result = credit_score([tx(TODAY, debit_units, "debit")] if debit_units else [], TODAY, member="alice")
    assert (str(result.score), result.rating) == (score, rating)


def test_credit_score_depreciates_each_transaction_by_its_own_age():
    transactions = [
        tx(TODAY - timedelta(days=500), 1_200, "debit"),  # 756.164383|56 -> 756164384 micro
        tx(TODAY - timedelta(days=800), 100, "credit"),  # worthless
        tx(TODAY - timedelta(days=364), 10, "credit"),  # full
        tx(TODAY - timedelta(days=730), 50, "debit"),  # worthless
        tx(TODAY + timedelta(days=1), 10_000, "credit"),  # not yet: ignored
    ]
    result = credit_score(transactions, TODAY, member="alice")
    assert result.credits == 10 * UNIT
    assert result.debits == 756_164_384
    # (1200 + 10 - 756.164384) / 2400 * 100 = 18.9098... -> 18.9
    assert (result.score, result.rating, result.can_vote) == (Decimal("18.9"), "Overspent", False)


def monthly(first: date, months: int = 12, **kwargs) -> list[Transaction]:
    out, year, month = [], first.year, first.month
    for _ in range(months):
        out.append(tx(date(year, month, first.day), **kwargs))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def votes(transactions, today=TODAY) -> bool:
    return credit_score(transactions, today, member="alice").can_vote


def test_can_vote_with_one_transaction_in_each_of_the_12_months_before_this_one():
    assert votes(monthly(date(2024, 3, 1)))
    assert votes(monthly(date(2024, 3, 28), direction="debit"))  # credits or debits, any day of the month


def test_can_vote_window_edges():
    year = monthly(date(2024, 3, 1))
    assert votes([*year[1:], tx(date(2024, 3, 1))])  # first day of the oldest month counts
    assert not votes([*year[1:], tx(date(2024, 2, 29))])  # the day before does not
    assert votes([*year[:-1], tx(date(2025, 2, 28))])  # last day of last month counts
    assert not votes([*year[:-1], tx(date(2025, 3, 1))])  # this month does not replace last month
    assert not votes([*year[:-1], tx(date(2025, 1, 5))])  # two in January do not replace February
    assert votes(year, today=date(2025, 3, 1)) and votes(year, today=date(2025, 3, 31))
    assert not votes(year, today=date(2025, 4, 1))  # March 2024 fell out; March 2025 is missing


def test_can_vote_across_the_new_year():
    assert votes(monthly(date(2024, 1, 28)), today=date(2025, 1, 1))
    assert not votes(monthly(date(2024, 1, 28)), today=date(2024, 12, 31))  # December 2024 not over yet


def test_can_vote_needs_another_party():
    year = monthly(date(2024, 3, 1))
    assert not votes([*year[:-1], tx(date(2025, 2, 10), counterpart="alice")])
    assert votes([*year[:-1], tx(date(2025, 2, 10), counterpart="alice"), tx(date(2025, 2, 11), counterpart="carol")])


def test_future_transactions_count_nowhere():
    result = credit_score(monthly(date(2025, 4, 1), direction="debit"), TODAY, member="alice")
    assert (result.debits, result.score, result.can_vote) == (0, Decimal("50.0"), False)


@pytest.mark.parametrize("amount, direction", [(0, "credit"), (-5, "debit"), (5, "refund")])
def test_transaction_validates(amount, direction):
    with pytest.raises(ValueError):
        Transaction(when=TODAY, amount=amount, direction=direction, counterpart="bob")
