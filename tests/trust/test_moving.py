"""Moving payments' legs: a line moves by its net, a stale leg changes nothing, and a batch settles
exactly what its payments settle one after the other in its order."""

from itertools import pairwise

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from core.money import MAX_AMOUNT
from tests.trust.factories import community_with_commons, member_account, trust
from trust.models import Payment, PaymentLeg, Trustline
from trust.services import moving
from trust.services.accounts import commons_of

pytestmark = pytest.mark.postgres

UNIT = 1_000_000


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


def owed(lines: list[Trustline], creditor, debtor) -> int:
    """What ``debtor`` owes ``creditor`` on their line, from lines as ``move`` returns them."""
    (line,) = [line for line in lines if {line.low_id, line.high_id} == {creditor.pk, debtor.pk}]
    return line.owed_to(creditor.pk)


def test_the_net_movement_of_a_line_is_moved(chain):
    community, a, b, c, commons = chain
    legs = [
        ("payment", 0, 0, a.pk, b.pk, 7 * UNIT),
        ("payment", 0, 1, b.pk, c.pk, 7 * UNIT),
        ("payment", 1, 0, b.pk, a.pk, 2 * UNIT),
        ("tax", 0, 0, a.pk, commons.pk, UNIT // 100),
    ]
    with transaction.atomic():
        lines = moving.move(new_payment(a, c, 5 * UNIT), legs, at=timezone.now())
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


@pytest.mark.parametrize(
    "case",
    ["over capacity", "closed line", "no such line"],
)
def test_a_stale_leg_changes_nothing(chain, case):
    community, a, b, c, _ = chain
    amount = 11 * UNIT if case == "over capacity" else UNIT
    if case == "closed line":
        Trustline.objects.filter(low_id=min(b.pk, c.pk), high_id=max(b.pk, c.pk)).update(closed_at=timezone.now())
    hops = [(a.pk, b.pk), (b.pk, c.pk)] if case != "no such line" else [(a.pk, c.pk)]
    legs = [("payment", 0, hop, u, v, amount) for hop, (u, v) in enumerate(hops)]
    before = books(community)
    with pytest.raises(moving.StaleRoute) as stale, transaction.atomic():
        moving.move(new_payment(a, c, amount), legs, at=timezone.now())
    assert stale.value.pairs == moving.pairs_of(legs)
    assert books(community) == before
    assert not Payment.objects.filter(community=community).exists()


def test_a_leg_may_use_exactly_the_capacity(chain):
    _, a, b, c, _ = chain
    legs = [("payment", 0, 0, a.pk, b.pk, 10 * UNIT), ("payment", 0, 1, b.pk, c.pk, 10 * UNIT)]
    with transaction.atomic():
        lines = moving.move(new_payment(a, c, 10 * UNIT), legs, at=timezone.now())
    assert (owed(lines, b, a), owed(lines, c, b)) == (10 * UNIT, 10 * UNIT)
    with pytest.raises(moving.StaleRoute), transaction.atomic():
        moving.move(new_payment(a, b, 1), [("payment", 0, 0, a.pk, b.pk, 1)], at=timezone.now())


def test_a_line_at_the_largest_limit_still_settles(chain):
    """Capacity beyond 64 bits (the largest limit plus a debt owed back) is no overflow."""
    _, a, b, _, _ = chain
    trust(a, b, 10 * UNIT)
    with transaction.atomic():
        moving.move(new_payment(b, a, 5 * UNIT), [("payment", 0, 0, b.pk, a.pk, 5 * UNIT)], at=timezone.now())
    trust(b, a, MAX_AMOUNT)
    with transaction.atomic():
        lines = moving.move(new_payment(a, b, UNIT), [("payment", 0, 0, a.pk, b.pk, UNIT)], at=timezone.now())
    assert owed(lines, a, b) == 4 * UNIT


def test_a_batch_checks_each_payment_against_the_lines_as_the_earlier_ones_left_them(chain):
    community, a, b, c, _ = chain
    hops = lambda amount: [("payment", 0, 0, a.pk, b.pk, amount), ("payment", 0, 1, b.pk, c.pk, amount)]  # noqa: E731
    batch = [(new_payment(a, c, amount), hops(amount)) for amount in (6 * UNIT, 6 * UNIT, 4 * UNIT)]
    with transaction.atomic():
        moved = moving.move_batch(community.pk, batch, at=timezone.now())
    assert moved.settled == [True, False, True]  # the second no longer fits; the third still does
    assert (owed(moved.lines, b, a), owed(moved.lines, c, b)) == (10 * UNIT, 10 * UNIT)
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [4 * UNIT, 6 * UNIT]
    assert batch[1][0].pk is None and PaymentLeg.objects.count() == 4


@pytest.mark.django_db
@settings(max_examples=40, deadline=None)
@given(
    amounts=st.lists(
        st.tuples(st.sampled_from(["ab", "ba", "bc", "cb", "abc", "cba"]), st.integers(min_value=1, max_value=8)),
        min_size=1,
        max_size=8,
    )
)
def test_a_batch_settles_what_its_payments_settle_one_after_the_other(amounts):
    """The same payments moved as one batch and one at a time, in the same order: the same books."""
    outcomes = {}
    for way in ("batch", "one by one"):
        with transaction.atomic():
            community = community_with_commons()
            accounts = {handle: member_account(community, handle) for handle in "abc"}
            trust(accounts["b"], accounts["a"], 10 * UNIT)
            trust(accounts["a"], accounts["b"], 3 * UNIT)
            trust(accounts["c"], accounts["b"], 10 * UNIT)
            batch = []
            for route, units in amounts:
                hops = [(accounts[u], accounts[v]) for u, v in pairwise(route)]
                legs = [("payment", 0, hop, u.pk, v.pk, units * UNIT) for hop, (u, v) in enumerate(hops)]
                batch.append((new_payment(hops[0][0], hops[-1][1], units * UNIT), legs))
            if way == "batch":
                settled = moving.move_batch(community.pk, batch, at=timezone.now()).settled
            else:
                settled = []
                for payment, legs in batch:
                    try:
                        moving.move(payment, legs, at=timezone.now())
                        settled.append(True)
                    except moving.StaleRoute:
                        settled.append(False)
            by_handle = {account.pk: handle for handle, account in accounts.items()}
            balances = sorted(
                (by_handle[low], by_handle[high], balance)
                for low, high, balance in Trustline.objects.filter(community=community).values_list(
                    "low_id", "high_id", "balance"
                )
                if low in by_handle and high in by_handle
            )
            outcomes[way] = (settled, balances, PaymentLeg.objects.filter(payment__community=community).count())
            transaction.set_rollback(True)
    assert outcomes["batch"] == outcomes["one by one"]
