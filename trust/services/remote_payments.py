"""Direct payments with an account on another instance, over the one trustline a member holds with it.

Sent: settled here at once and in flight (``committed``) until the other instance answers; the federation
app tells it in the same transaction (``trust.signals.remote_payment_sent``). Received: settled untaxed in
the caller's transaction (the one that accepts the datagram), or refused changing nothing. A payment the
other instance refused is undone here: its amount comes back over the line and its tax from the commons,
as linked payments, and it ends ``cancelled``. Value stays conserved on each instance at every step.
"""

import time
from functools import partial

from django.db import transaction

from bank import idempotency
from trust.errors import RoutingError
from trust.models import Account, Payment
from trust.services.accounts import commons_of
from trust.services.moving import StaleRoute
from trust.services.payments import check_memo_and_tag
from trust.services.settlement import plan_for, plan_here, replanned, settle, with_retries
from trust.signals import remote_payment_sent

State = Payment.State


def remote_payment_send(*, payer: Account, payee: Account, amount: int, memo: str = "", tag: str = "") -> Payment:
    """Pay the remote account ``payee`` over the payer's direct line, with the payer's tax; in flight until
    the other instance answers (``remote_payment_answered``)."""
    check_memo_and_tag(memo, tag)

    def settle_plan(plan) -> Payment:
        with transaction.atomic(durable=not idempotency.wraps_this_request()):
            payment = Payment(
                community_id=payer.community_id, payer=payer, payee=payee, amount=amount, memo=memo, tag=tag
            )
            settle(payment, plan)
            payment.state = State.COMMITTED
            payment.save(update_fields=["state"])
            remote_payment_sent.send(sender=Payment, payment=payment)
            return payment

    make_plan = partial(plan_for, payer, payee, amount, direct_only=True)
    return replanned(make_plan, lambda plan: with_retries(partial(settle_plan, plan)))


def remote_payment_receive(*, payer: Account, payee: Account, amount: int) -> Payment | None:
    """In the caller's transaction: the payment the remote account ``payer`` sent over its direct line, settled
    untaxed (its own community took the tax); None, changing nothing, when the line cannot carry it here."""
    try:
        with transaction.atomic():
            plan = plan_here(payer, payee, amount, taxed=False, direct_only=True)
            return settle(Payment(community_id=payee.community_id, payer=payer, payee=payee, amount=amount), plan)
    except (RoutingError, StaleRoute):
        return None


@transaction.atomic
def remote_payment_answered(*, payment_id: int, accepted: bool) -> Payment | None:
    """The other instance's answer to a payment sent there: final, or undone here. None for no such payment;
    an answer given before changes nothing."""
    payment = Payment.objects.select_for_update().select_related("payer", "payee").filter(pk=payment_id).first()
    if payment is None or payment.state != State.COMMITTED:
        return payment
    if not accepted:
        _give_back(payment, payment.payee, payment.amount)
        if payment.tax + payment.fees:
            _give_back(payment, commons_of(payment.payer.community), payment.tax + payment.fees)
    payment.state = State.FINALIZED if accepted else State.CANCELLED
    payment.cancel_reason = "" if accepted else "The other instance refused the payment."
    payment.save(update_fields=["state", "cancel_reason"])
    return payment


def _give_back(payment: Payment, source: Account, amount: int) -> None:
    """Move ``amount`` back from ``source`` to the payer over their direct line (it just carried it the other way)."""
    plan = plan_here(source, payment.payer, amount, taxed=False, direct_only=True)
    kind = Payment.Kind.RETURN if source.pk == payment.payee_id else Payment.Kind.REFUND
    back = Payment(community_id=payment.community_id, kind=kind, payer=source, payee=payment.payer, amount=amount)
    back.related = payment
    settle(back, plan)


def answer_awaited(*, payment: Payment, seconds: float, waiting: tuple[str, ...] = (State.COMMITTED,)) -> Payment:
    """``payment`` as it stands once out of the ``waiting`` states (the other instance answered), or after
    ``seconds``. Inside a transaction (a request's Idempotency-Key) the datagram is not sent before it commits,
    so it is not waited for."""
    deadline = time.monotonic() + (0 if transaction.get_connection().in_atomic_block else seconds)
    while payment.state in waiting and time.monotonic() < deadline:
        time.sleep(0.02)
        payment = Payment.objects.select_related("payer", "payee").get(pk=payment.pk)
    return payment
