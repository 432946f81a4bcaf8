"""Reads shaped for the member pages: paths, settled payments, status actions, balance history, trust picture."""

from collections.abc import Iterator
from typing import NamedTuple

from django.db.models import Q

from trust import selectors
from trust.models import Account, Payment, Trustline
from trust.serializers import PaymentOutput

# The picture of the trust graph stays readable (and its query small) in a large community.
GRAPH_LINES = 300


def payment_paths(payment: Payment) -> list[list[str]]:
    """The payment's paths as account names, payer first; the API shows the same."""
    return PaymentOutput().get_paths(payment)


def role_in(payment: Payment, account: Account) -> str:
    return "payer" if payment.payer_id == account.pk else "payee"


class Status(NamedTuple):
    """A payment's state and both sides' answers in words; ``tone`` is ``waiting``, ``done`` or ``undone``."""

    text: str
    tone: str


_PAYEE_ANSWERS = {
    Payment.PayeeStatus.NOT_SET: Status("awaiting the payee", "waiting"),
    Payment.PayeeStatus.ACCEPT: Status("accepted", "done"),
    Payment.PayeeStatus.DECLINE: Status("declined", "undone"),
    Payment.PayeeStatus.REFUND: Status("refunded", "undone"),
}


# The steps of a payment to another instance, in words (docs/federation.md, Routed payments).
IN_FLIGHT = {
    Payment.State.PENDING: "finding a way to the payee",
    Payment.State.ROUTED: "way found, holding it",
    Payment.State.PREPARED: "held on the way",
    Payment.State.COMMITTED: "awaiting the other instance",
    Payment.State.SEALED: "sealed, settling",
}


def in_flight(payment: Payment) -> bool:
    """A payment another instance has yet to answer (its page follows it until it ends)."""
    return payment.state in IN_FLIGHT and payment.kind == Payment.Kind.PAYMENT


def payment_status(payment: Payment) -> Status:
    if payment.state == Payment.State.CANCELLED:
        return Status("expired" if payment.cancel_reason == Payment.EXPIRED else "cancelled", "undone")
    if payment.state == Payment.State.PENDING and payment.kind == Payment.Kind.REQUEST:
        return Status("awaiting the payer", "waiting")
    if payment.state in IN_FLIGHT:
        return Status(IN_FLIGHT[payment.state], "waiting")
    if payment.kind not in (Payment.Kind.PAYMENT, Payment.Kind.REQUEST):
        return Status("settled", "done")  # basic income, and money given back: no one answers them
    if payment.payer_status == Payment.PayerStatus.DISPUTE:
        return Status("disputed", "undone")
    return _PAYEE_ANSWERS[payment.payee_status]


def settled_payment_row(payment: Payment, account: Account) -> dict:
    return {"payment": payment, **selectors.settled_payment_seen_from(payment=payment, account=account)}


def balance_history(*, account: Account) -> list[dict]:
    """The account's net balance after each payment that moved value in or out of it, oldest first.

    Starts at zero when the account opened, or at its first payment when that is older (payments
    dated before the account, as the demo's are); amounts are micro-units. A payment the account
    only relayed (as an intermediary) shows as a point where the balance did not change.
    """
    start = {"at": account.created_at, "payment": None, "balance": 0}
    points = [start]
    total = 0
    for leg in _legs_oldest_first(account):
        total += leg.amount if leg.receiver_id == account.pk else -leg.amount
        if points[-1]["payment"] == leg.payment_id:
            points[-1]["balance"] = total
        else:
            points.append({"at": leg.payment.settled_at, "payment": leg.payment_id, "balance": total})
    start["at"] = min(point["at"] for point in points)
    return [{**point, "at": point["at"].isoformat()} for point in points]


def _legs_oldest_first(account: Account) -> Iterator:
    return selectors.legs_of(account=account).reverse().iterator(chunk_size=2000)


def trust_neighbourhood(*, account: Account) -> dict:
    """The account, its counterparts and theirs (two hops), with every line's capacity both ways.

    The commons is shown but not expanded: every member has a line with it, so its
    counterparts would be the whole community.
    """
    mine = list(selectors.trustlines_of(account=account))
    expand = [line.other(account.pk) for line in mine if _end(line, line.other(account.pk)).kind == Account.Kind.MEMBER]
    theirs = (
        Trustline.objects.filter(Q(low_id__in=expand) | Q(high_id__in=expand), closed_at=None)
        .exclude(pk__in=[line.pk for line in mine])
        .select_related("low__member", "high__member")
        .order_by("pk")[:GRAPH_LINES]
    )
    lines = [*mine, *theirs]
    direct = {line.other(account.pk) for line in mine}
    nodes: dict[int, dict] = {}
    edges = []
    for line in lines:
        for end in (line.low, line.high):
            nodes.setdefault(end.pk, {"id": end.pk, "label": end.name, "role": _role(end, account, direct)})
        for sender, receiver in ((line.low_id, line.high_id), (line.high_id, line.low_id)):
            capacity = line.capacity_from(sender)
            edges.append({"line": line.pk, "source": sender, "target": receiver, "capacity": capacity})
    if not nodes:
        nodes[account.pk] = {"id": account.pk, "label": account.name, "role": "me"}
    return {"nodes": list(nodes.values()), "edges": edges}


def _end(line: Trustline, account_id: int) -> Account:
    return line.low if line.low_id == account_id else line.high


def _role(end: Account, me: Account, direct: set[int]) -> str:
    if end.pk == me.pk:
        return "me"
    if end.kind == Account.Kind.COMMONS:
        return "commons"
    return "counterpart" if end.pk in direct else "second"
