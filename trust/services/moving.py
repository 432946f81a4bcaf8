"""Moving payments' legs over their trustlines under lock, and recording them, a batch at a time.

A batch locks every trustline its payments cross once, in primary-key order (concurrent batches
queue instead of deadlocking), then checks the payments one by one in their order, each against
the lines as the earlier ones left them: a payment a leg of which lacks capacity (or crosses a
closed or missing line) is refused and changes nothing, and the others go on. What settles is
written in a few statements for the whole batch: the payments, their legs, the lines' balances.
"""

from dataclasses import dataclass
from datetime import datetime

from core.rows import insert_rows
from trust.models import Payment, PaymentLeg, Trustline

# One leg of a payment: (purpose, path, hop, sender, receiver, amount), as ``Plan.legs`` lists them and
# ``PaymentLeg`` stores them. (The ledger records each as a ``ledger.services.append.Movement``.)
Leg = tuple[str, int, int, int, int, int]
Pair = tuple[int, int]


class StaleRoute(Exception):
    """A planned leg no longer has the capacity the graph promised; the payment changed nothing."""

    def __init__(self, community_id: int, pairs: set[Pair]) -> None:
        self.community_id, self.pairs = community_id, pairs


@dataclass
class Moved:
    """What a batch did: for each payment in its order, whether it settled; the lines as they now stand."""

    settled: list[bool]
    lines: list[Trustline]


def pairs_of(legs: list[Leg]) -> set[Pair]:
    return {(min(u, v), max(u, v)) for _, _, _, u, v, _ in legs}


def net_from_low(legs: list[Leg]) -> dict[Pair, int]:
    """Per line, what the legs move from its low account to its high one in all."""
    net: dict[Pair, int] = {}
    for _, _, _, sender, receiver, amount in legs:
        pair = (min(sender, receiver), max(sender, receiver))
        net[pair] = net.get(pair, 0) + (amount if sender < receiver else -amount)
    return net


def lines_fit(nets: dict[Pair, int], by_pair: dict[Pair, Trustline]) -> bool:
    """Whether every line is open and can carry its net (holds counted)."""
    for pair, net in nets.items():
        line = by_pair.get(pair)
        if line is None or line.closed_at is not None:
            return False
        if line.capacity_from(line.low_id if net >= 0 else line.high_id) < abs(net):
            return False
    return True


def move_batch(community_id: int, batch: list[tuple[Payment, list[Leg]]], *, at: datetime) -> Moved:
    """Settle what fits of ``batch`` in its order: save those payments with their legs, move their lines."""
    lines = Trustline.objects.lock_pairs(
        community_id=community_id, pairs=set().union(*(pairs_of(legs) for _, legs in batch))
    )
    by_pair = {(line.low_id, line.high_id): line for line in lines}
    settled, changes = [], {}
    for _, legs in batch:
        nets = net_from_low(legs)
        fits = lines_fit(nets, by_pair)
        settled.append(fits)
        if fits:
            for pair, net in nets.items():
                line = by_pair[pair]
                line.move(pair[0], net)
                line.updated_at = at
                changes[line.pk] = changes.get(line.pk, 0) - net
    moved = [(payment, legs) for (payment, legs), fits in zip(batch, settled, strict=True) if fits]
    if moved:
        _save(moved, by_pair)
        Trustline.objects.shift_balances(changes, at=at)
    return Moved(settled, [line for line in lines if line.pk in changes])


def _save(moved: list[tuple[Payment, list[Leg]]], by_pair: dict[Pair, Trustline]) -> None:
    for payment, _ in moved:
        if payment.pk is not None:
            payment.save()
    insert_rows([payment for payment, _ in moved if payment.pk is None])
    legs_save(moved, by_pair)


def legs_save(moved: list[tuple[Payment, list[Leg]]], by_pair: dict[Pair, Trustline]) -> None:
    """Store the legs of saved payments, each on its line."""
    insert_rows(
        [
            PaymentLeg(
                payment_id=payment.pk,
                trustline_id=by_pair[(min(sender, receiver), max(sender, receiver))].pk,
                sender_id=sender,
                receiver_id=receiver,
                amount=amount,
                purpose=purpose,
                path=path,
                hop=hop,
            )
            for payment, legs in moved
            for purpose, path, hop, sender, receiver, amount in legs
        ]
    )


def move(payment: Payment, legs: list[Leg], *, at: datetime) -> list[Trustline]:
    """Settle one payment; raises ``StaleRoute`` (changing nothing) when a leg lacks capacity."""
    moved = move_batch(payment.community_id, [(payment, legs)], at=at)
    if not moved.settled[0]:
        raise StaleRoute(payment.community_id, pairs_of(legs))
    return moved.lines
