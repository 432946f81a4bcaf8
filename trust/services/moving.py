"""Moving a payment's legs over its trustlines under lock, and recording them.

PostgreSQL does it in one call to ``trust_settle`` (migration ``0003``), so the lines stay locked
for one round trip only; other databases (SQLite for development) take the same steps from
Python. Both lock in primary-key order, check with the same capacity rule and change nothing
when a leg lacks capacity. ``tests/trust/test_moving.py`` holds them to the same results.
"""

import json
from datetime import datetime

from django.db import DatabaseError, connection

from trust.models import Payment, PaymentLeg, Trustline

# One leg of a payment: (purpose, path, hop, sender, receiver, amount), as ``Plan.legs`` lists them and
# ``PaymentLeg`` stores them. (The ledger records each as a ``ledger.services.append.Movement``.)
Leg = tuple[str, int, int, int, int, int]
STALE_SQLSTATE = "TB001"


class StaleRoute(Exception):
    """A planned leg no longer has the capacity the graph promised; the transaction changes nothing."""

    def __init__(self, community_id: int, pairs: set[tuple[int, int]]) -> None:
        self.community_id, self.pairs = community_id, pairs


def pairs_of(legs: list[Leg]) -> set[tuple[int, int]]:
    return {(min(u, v), max(u, v)) for _, _, _, u, v, _ in legs}


def move(payment: Payment, legs: list[Leg], *, at: datetime) -> list[Trustline]:
    """Save ``payment`` with its legs moved; returns the moved lines as they now stand."""
    if connection.vendor == "postgresql":
        return move_in_database(payment, legs, at=at)
    return move_here(payment, legs, at=at)


def move_in_database(payment: Payment, legs: list[Leg], *, at: datetime) -> list[Trustline]:
    new = payment.pk is None
    if not new:
        payment.save()
    columns = dict(
        zip(("purposes", "paths", "hops", "senders", "receivers", "amounts"), zip(*legs, strict=True), strict=True)
    )
    params = [
        payment.community_id,
        _columns_json(payment) if new else None,
        payment.pk,
        at,
        *(list(columns[name]) for name in ("purposes", "paths", "hops", "senders", "receivers", "amounts")),
    ]
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT * FROM trust_settle(%s, %s::jsonb, %s, %s, %s::text[], %s::int[], %s::int[], "
                "%s::bigint[], %s::bigint[], %s::bigint[])",
                params,
            )
            rows = cursor.fetchall()
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == STALE_SQLSTATE:
            raise StaleRoute(payment.community_id, pairs_of(legs)) from None
        raise
    payment.pk = rows[0][0]
    return [
        Trustline(
            community_id=payment.community_id,
            low_id=low,
            high_id=high,
            limit_from_low=limit_from_low,
            limit_from_high=limit_from_high,
            balance=balance,
            closed_at=closed_at,
            updated_at=at,
        )
        for _, low, high, limit_from_low, limit_from_high, balance, closed_at in rows
    ]


def _columns_json(payment: Payment) -> str:
    """A new payment's column values as JSON, the way ``jsonb_populate_record`` reads them."""
    values = {}
    for field in Payment._meta.concrete_fields:
        if field.primary_key:
            continue
        value = field.get_db_prep_save(field.pre_save(payment, add=True), connection)
        values[field.column] = value.isoformat() if isinstance(value, datetime) else value
    return json.dumps(values)


def move_here(payment: Payment, legs: list[Leg], *, at: datetime) -> list[Trustline]:
    pairs = pairs_of(legs)
    lines = Trustline.objects.lock_pairs(community_id=payment.community_id, pairs=pairs)
    by_pair = {(line.low_id, line.high_id): line for line in lines}
    if len(by_pair) != len(pairs) or any(line.closed_at for line in lines):
        raise StaleRoute(payment.community_id, pairs)

    from_low: dict[tuple[int, int], int] = {}  # per line, what moves from low to high in all
    for _, _, _, sender, receiver, amount in legs:
        pair = (min(sender, receiver), max(sender, receiver))
        from_low[pair] = from_low.get(pair, 0) + (amount if sender < receiver else -amount)
    for pair, net in from_low.items():
        line = by_pair[pair]
        if line.capacity_from(line.low_id if net >= 0 else line.high_id) < abs(net):
            raise StaleRoute(payment.community_id, pairs)

    for pair, net in from_low.items():
        by_pair[pair].move(pair[0], net)
        by_pair[pair].updated_at = at
    Trustline.objects.shift_balances({by_pair[pair].pk: -net for pair, net in from_low.items()}, at=at)
    payment.save()
    PaymentLeg.objects.bulk_create(
        PaymentLeg(
            payment=payment,
            trustline=by_pair[(min(sender, receiver), max(sender, receiver))],
            sender_id=sender,
            receiver_id=receiver,
            amount=amount,
            purpose=purpose,
            path=path,
            hop=hop,
        )
        for purpose, path, hop, sender, receiver, amount in legs
    )
    return lines
