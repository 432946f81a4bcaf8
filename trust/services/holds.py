"""Holds: a payment's legs promised over their lines before the payment settles (federated payments).

A hold is placed under the lines' locks after the same capacity check as settlement, with what is held
counted by the one capacity function (``trust.models.capacity``), so nothing else can take that capacity
while the payment is in flight; routing sees it too. A held payment then either settles (its holds become
balances and the ledger records its legs, as for any payment) or is released (its legs go, the lines are as
if it never was). Balances move only at settlement, so value stays conserved at every step.

A limit lowered while a hold stands does not undo the hold: like a debt from before the change, it was
promised under the old limit.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from trust.models import Payment, PaymentLeg, Trustline
from trust.routing.graph import lines_changed
from trust.routing.planner import Plan
from trust.services.moving import Leg, Pair, StaleRoute, legs_save, lines_fit, net_from_low, pairs_of
from trust.signals import money_moved

State = Payment.State


def _locked_lines(community_id: int, legs: list[Leg]) -> dict[Pair, Trustline]:
    lines = Trustline.objects.lock_pairs(community_id=community_id, pairs=pairs_of(legs))
    return {(line.low_id, line.high_id): line for line in lines}


def _held_legs(payment: Payment) -> list[Leg]:
    return [
        (leg.purpose, leg.path, leg.hop, leg.sender_id, leg.receiver_id, leg.amount)
        for leg in PaymentLeg.objects.filter(payment=payment)
    ]


def _shift_holds(by_pair: dict[Pair, Trustline], nets: dict[Pair, int], *, sign: int, at: datetime) -> None:
    """Add (``sign`` 1) or take away (-1) each line's net to what its sending side holds."""
    for pair, net in nets.items():
        line = by_pair[pair]
        field = "held_from_low" if net >= 0 else "held_from_high"
        setattr(line, field, getattr(line, field) + sign * abs(net))
        line.updated_at = at
        Trustline.objects.filter(pk=line.pk).update(**{field: F(field) + sign * abs(net)}, updated_at=at)


@transaction.atomic
def hold_place(payment: Payment, plan: Plan, *, state: str = State.PREPARED) -> Payment:
    """Save ``payment`` in ``state`` with the legs of ``plan`` held on their lines.

    Raises ``StaleRoute`` (changing nothing) when a line cannot carry its leg.
    """
    legs = plan.legs()
    by_pair = _locked_lines(payment.community_id, legs)
    nets = net_from_low(legs)
    if not lines_fit(nets, by_pair):
        raise StaleRoute(payment.community_id, pairs_of(legs))
    now = timezone.now()
    payment.tax, payment.fees, payment.state = plan.tax, plan.fees, state
    payment.save()
    legs_save([(payment, legs)], by_pair)
    _shift_holds(by_pair, nets, sign=1, at=now)
    transaction.on_commit(lambda: lines_changed(payment.community_id, list(by_pair.values())))
    return payment


@transaction.atomic
def hold_settle(payment: Payment) -> Payment:
    """Turn ``payment``'s holds into balances and record it in the ledger: it ends finalized."""
    legs = _held_legs(payment)
    by_pair = _locked_lines(payment.community_id, legs)
    nets = net_from_low(legs)
    now = timezone.now()
    _shift_holds(by_pair, nets, sign=-1, at=now)
    changes = {}
    for pair, net in nets.items():
        by_pair[pair].move(pair[0], net)
        changes[by_pair[pair].pk] = -net
    Trustline.objects.shift_balances(changes, at=now)
    payment.state, payment.settled_at = State.FINALIZED, now
    payment.save(update_fields=["state", "settled_at", "preimage"])
    money_moved.send(sender=Payment, moved=[(payment, legs)], at=now)
    transaction.on_commit(lambda: lines_changed(payment.community_id, list(by_pair.values())))
    return payment


@transaction.atomic
def hold_release(payment: Payment, *, reason: str) -> Payment:
    """Give back what ``payment`` holds and drop its legs: it ends cancelled with ``reason``."""
    legs = _held_legs(payment)
    if legs:
        by_pair = _locked_lines(payment.community_id, legs)
        _shift_holds(by_pair, net_from_low(legs), sign=-1, at=timezone.now())
        PaymentLeg.objects.filter(payment=payment).delete()
        transaction.on_commit(lambda: lines_changed(payment.community_id, list(by_pair.values())))
    payment.state, payment.cancel_reason = State.CANCELLED, reason[:255]
    payment.save(update_fields=["state", "cancel_reason"])
    return payment
