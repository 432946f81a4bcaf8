"""The two ways of moving a payment's legs agree: PostgreSQL's ``trust_settle`` and the Python steps.

On PostgreSQL the suite settles through ``trust_settle``; these tests run the Python steps (what
SQLite uses) on the same database and hold both to the same books, refusals and capacity rule.
"""

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from core.money import MAX_AMOUNT
from tests.trust.factories import community_with_commons, member_account, trust
from tests.trust.test_properties import MoneyMachine
from trust.models import Payment, PaymentLeg, Trustline, capacity
from trust.services import moving, settlement
from trust.services.accounts import commons_of

pytestmark = pytest.mark.postgres

UNIT = 1_000_000
WAYS = {"in_database": moving.move_in_database, "here": moving.move_here}


@pytest.fixture
def chain(db):
    """a -> b -> c with 10 units of credit along the way, and a's line to the commons."""
    community = community_with_commons()
    a, b, c = (member_account(community, handle) for handle in "abc")
    trust(b, a, 10 * UNIT)
    trust(c, b, 10 * UNIT)
    return community, a, b, c, commons_of(community)


def new_payment(payer, payee, amount: int) -> Payment:
    now = timezone.now()
    return Payment(
        community_id=payer.community_id,
        payer=payer,
        payee=payee,
        amount=amount,
        state=Payment.State.FINALIZED,
        hashlock="0" * 64,
        created_at=now,
        settled_at=now,
    )


def books(community) -> tuple[list, list]:
    lines = list(
        Trustline.objects.filter(community=community).order_by("pk").values_list("pk", "balance", "updated_at")
    )
    legs = list(
        PaymentLeg.objects.filter(payment__community=community)
        .order_by("purpose", "path", "hop")
        .values_list("trustline_id", "sender_id", "receiver_id", "amount", "purpose", "path", "hop")
    )
    return lines, legs


@pytest.mark.django_db
@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(min_value=0, max_value=MAX_AMOUNT), owed=st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT)
)
def test_the_sql_capacity_rule_is_the_python_one(limit, owed):
    with connection.cursor() as cursor:
        cursor.execute("SELECT trust_capacity(%s, %s)", [limit, owed])
        assert cursor.fetchone()[0] == capacity(limit_from_receiver=limit, owed_by_receiver=owed)


def test_both_ways_write_the_same_books(chain):
    community, a, b, c, commons = chain
    at = timezone.now()
    # Two paths, one of them back over a-b: the line's net movement is what is checked and moved.
    legs = [
        ("payment", 0, 0, a.pk, b.pk, 7 * UNIT),
        ("payment", 0, 1, b.pk, c.pk, 7 * UNIT),
        ("payment", 1, 0, b.pk, a.pk, 2 * UNIT),
        ("tax", 0, 0, a.pk, commons.pk, UNIT // 100),
    ]
    written = {}
    for name, move in WAYS.items():
        with transaction.atomic():
            payment = new_payment(a, c, 5 * UNIT)
            lines = move(payment, legs, at=at)
            written[name] = (books(community), sorted((line.low_id, line.high_id, line.balance) for line in lines))
            assert Payment.objects.filter(pk=payment.pk, state=Payment.State.FINALIZED).exists()
            transaction.set_rollback(True)
    assert written["in_database"] == written["here"]
    (_, legs), _ = written["here"]
    assert len(legs) == 4


def owed(lines: list[Trustline], creditor, debtor) -> int:
    """What ``debtor`` owes ``creditor`` on their line, from lines as ``move`` returns them."""
    (line,) = [line for line in lines if {line.low_id, line.high_id} == {creditor.pk, debtor.pk}]
    return line.owed_to(creditor.pk)


@pytest.mark.parametrize("way", WAYS)
def test_the_net_movement_of_a_line_is_moved(chain, way):
    community, a, b, c, commons = chain
    legs = [
        ("payment", 0, 0, a.pk, b.pk, 7 * UNIT),
        ("payment", 0, 1, b.pk, c.pk, 7 * UNIT),
        ("payment", 1, 0, b.pk, a.pk, 2 * UNIT),
        ("tax", 0, 0, a.pk, commons.pk, UNIT // 100),
    ]
    with transaction.atomic():
        lines = WAYS[way](new_payment(a, c, 5 * UNIT), legs, at=timezone.now())
    assert owed(lines, b, a) == 5 * UNIT
    assert owed(lines, c, b) == 7 * UNIT
    assert owed(lines, commons, a) == UNIT // 100
    assert {(line.low_id, line.high_id): line.balance for line in lines} == {
        (low, high): balance
        for low, high, balance in Trustline.objects.filter(community=community).values_list(
            "low_id", "high_id", "balance"
        )
        if (low, high) in moving.pairs_of(legs)
    }


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(
    "case",
    ["over capacity", "closed line", "no such line"],
)
def test_a_stale_leg_changes_nothing(chain, way, case):
    community, a, b, c, _ = chain
    amount = 11 * UNIT if case == "over capacity" else UNIT
    if case == "closed line":
        Trustline.objects.filter(low_id=min(b.pk, c.pk), high_id=max(b.pk, c.pk)).update(closed_at=timezone.now())
    hops = [(a.pk, b.pk), (b.pk, c.pk)] if case != "no such line" else [(a.pk, c.pk)]
    legs = [("payment", 0, hop, u, v, amount) for hop, (u, v) in enumerate(hops)]
    before = books(community)
    with pytest.raises(moving.StaleRoute) as stale, transaction.atomic():
        WAYS[way](new_payment(a, c, amount), legs, at=timezone.now())
    assert stale.value.pairs == moving.pairs_of(legs)
    assert books(community) == before
    assert not Payment.objects.filter(community=community).exists()


@pytest.mark.parametrize("way", WAYS)
def test_a_leg_may_use_exactly_the_capacity(chain, way):
    _, a, b, c, _ = chain
    legs = [("payment", 0, 0, a.pk, b.pk, 10 * UNIT), ("payment", 0, 1, b.pk, c.pk, 10 * UNIT)]
    with transaction.atomic():
        lines = WAYS[way](new_payment(a, c, 10 * UNIT), legs, at=timezone.now())
    assert (owed(lines, b, a), owed(lines, c, b)) == (10 * UNIT, 10 * UNIT)
    with pytest.raises(moving.StaleRoute), transaction.atomic():
        WAYS[way](new_payment(a, b, 1), [("payment", 0, 0, a.pk, b.pk, 1)], at=timezone.now())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_money_core_model_holds_with_the_python_steps(monkeypatch):
    """The property test of the money core again, settling through the Python steps."""
    monkeypatch.setattr(settlement, "move", moving.move_here)
    run_state_machine_as_test(MoneyMachine, settings=settings(max_examples=15, stateful_step_count=30, deadline=None))


@pytest.mark.parametrize("way", WAYS)
def test_a_line_at_the_largest_limit_still_settles(chain, way):
    """Capacity beyond 64 bits (the largest limit plus a debt owed back) is no overflow."""
    _, a, b, _, _ = chain
    trust(a, b, 10 * UNIT)
    with transaction.atomic():
        WAYS[way](new_payment(b, a, 5 * UNIT), [("payment", 0, 0, b.pk, a.pk, 5 * UNIT)], at=timezone.now())
    trust(b, a, MAX_AMOUNT)
    with transaction.atomic():
        lines = WAYS[way](new_payment(a, b, UNIT), [("payment", 0, 0, a.pk, b.pk, UNIT)], at=timezone.now())
    assert owed(lines, a, b) == 4 * UNIT
