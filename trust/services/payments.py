"""Payments: routed and direct, payment requests, Civil Money status changes, refunds, expiry."""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, Forbidden, InvalidInput
from trust.errors import PaymentNotFound
from trust.federated import counterparts
from trust.models import Account, Payment
from trust.routing.planner import Plan
from trust.services import batches
from trust.services.settlement import new_hashlock, plan_and_settle, plan_for

Status = Payment.PayerStatus
PayeeStatus = Payment.PayeeStatus
ACTIONS = ("dispute", "cancel", "decline", "accept", "refund")


def check_memo_and_tag(memo: str, tag: str) -> None:
    if len(memo.encode()) > 255:
        raise InvalidInput("memo", ["A memo is at most 255 bytes of UTF-8."])
    if len(tag.encode()) > 48:
        raise InvalidInput("tag", ["A tag is at most 48 bytes of UTF-8."])


def _check_parties(payer: Account, payee: Account) -> None:
    if payer.pk == payee.pk:
        raise InvalidInput("username", ["You cannot pay yourself."])
    if payer.kind == Account.Kind.COMMONS:
        raise InvalidInput("username", ["The commons pays only basic income; it cannot be asked to pay."])


def payment_preview(*, payer: Account, payee: Account, amount: int) -> Plan:
    """The routes, tax and fees a payment would take; moves nothing."""
    _check_parties(payer, payee)
    return plan_for(payer, payee, amount)


def payment_send(
    *, payer: Account, payee: Account, amount: int, memo: str = "", tag: str = "", direct_only: bool = False
) -> Payment:
    """Route and settle a payment, with its trust-index tax and hop fees to the commons: in its
    community's next settlement batch where it may (``trust.services.batches``), else alone."""
    _check_parties(payer, payee)
    check_memo_and_tag(memo, tag)
    make_plan = partial(plan_for, payer, payee, amount, direct_only=direct_only)
    if batches.batched():
        return batches.payment_settle_batched(
            payer=payer, payee=payee, amount=amount, memo=memo, tag=tag, make_plan=make_plan
        )
    return plan_and_settle(
        lambda: Payment(community_id=payer.community_id, payer=payer, payee=payee, amount=amount, memo=memo, tag=tag),
        make_plan,
    )


@transaction.atomic
def payment_request(*, payee: Account, payer: Account, amount: int, memo: str = "", tag: str = "") -> Payment:
    """A payee's request to be paid (payment links, QR codes). The preimage stays here until settlement."""
    check_memo_and_tag(memo, tag)
    if payer.kind == Account.Kind.REMOTE:  # asked on its instance, where the payer accepts it
        return counterparts().routed_request_send(member=payee.member, payer=payer, amount=amount, memo=memo, tag=tag)
    _check_parties(payer, payee)
    preimage, hashlock = new_hashlock()
    return request_record(
        payee=payee, payer=payer, amount=amount, memo=memo, tag=tag, preimage=preimage, hashlock=hashlock
    )


def request_record(
    *, payee: Account, payer: Account, amount: int, hashlock: str, preimage: str = "", memo: str = "", tag: str = ""
) -> Payment:
    """The pending request of ``payee`` to ``payer``, for ``PAYMENT_REQUEST_LIFETIME_SECONDS`` (its preimage
    where it is known: on the payee's side)."""
    return Payment.objects.create(
        community_id=payee.community_id,
        kind=Payment.Kind.REQUEST,
        payer=payer,
        payee=payee,
        amount=amount,
        memo=memo,
        tag=tag,
        payer_status=Status.NOT_SET,
        preimage=preimage,
        hashlock=hashlock,
        deadline=timezone.now() + timedelta(seconds=settings.PAYMENT_REQUEST_LIFETIME_SECONDS),
    )


def _locked(payment_id: int) -> Payment:
    # Lock the payment row only: locking the joined accounts too would queue behind (and deadlock with)
    # settlements, whose foreign-key checks take KEY SHARE locks on those accounts.
    return Payment.objects.select_for_update(of=("self",)).select_related("payer", "payee").get(pk=payment_id)


def _refuse(message: str) -> Conflict:
    return Conflict(message, code="status_change_not_allowed")


def payment_change_status(*, payment: Payment, account: Account, action: str) -> Payment:
    """Apply a Civil Money status change by the payer or the payee of ``payment``.

    Payer: ``dispute`` (a settled payment, Accept -> Dispute; a mark on the record, no money
    moves), ``cancel`` (an unsettled one while the payee has not answered), ``accept`` (pays a
    request). Payee: ``accept`` (NotSet -> Accept), ``decline`` (NotSet -> Decline: the money goes
    back), ``refund`` (Accept -> Refund: the money goes back), ``cancel`` (withdraws a request).
    """
    role = "payer" if account.pk == payment.payer_id else "payee" if account.pk == payment.payee_id else None
    if role is None:
        raise PaymentNotFound("There is no such payment of yours.")
    if payment.kind not in (Payment.Kind.PAYMENT, Payment.Kind.REQUEST):
        raise _refuse(f"A {payment.get_kind_display()} has no status to change; it settles a payment or the commons.")
    handler = _ACTIONS.get((role, action))
    if handler is None:
        other = "payee" if role == "payer" else "payer"
        raise Forbidden(f"Only the {other} of a payment can {action} it.", code="not_allowed_for_role")
    return handler(payment.pk)


def _mark(payment_id: int, *, field: str, before: int, after: int, message: str) -> Payment:
    """Move one status of a settled payment from ``before`` to ``after``; no money moves."""
    with transaction.atomic():
        payment = _locked(payment_id)
        if payment.state != Payment.State.FINALIZED or getattr(payment, field) != before:
            raise _refuse(message)
        setattr(payment, field, after)
        payment.save(update_fields=[field])
        return payment


def _payer_dispute(payment_id: int) -> Payment:
    return _mark(
        payment_id,
        field="payer_status",
        before=Status.ACCEPT,
        after=Status.DISPUTE,
        message="Only a settled payment you accepted can be disputed.",
    )


def _cancel(payment_id: int, *, by: str) -> Payment:
    with transaction.atomic():
        payment = _locked(payment_id)
        if payment.state != Payment.State.PENDING:
            raise _refuse("This payment has settled; the payee can refund it, or you can dispute it.")
        if _between_instances(payment):
            raise _refuse("A payment between instances is on its way and ends by itself, settled or cancelled.")
        if payment.payee_status != PayeeStatus.NOT_SET:
            raise _refuse("The payee has already answered this payment.")
        payment.state = Payment.State.CANCELLED
        payment.cancel_reason = f"cancelled by the {by}"
        if payment.payer_status == Status.ACCEPT:
            payment.payer_status = Status.CANCEL
        payment.save(update_fields=["state", "cancel_reason", "payer_status"])
        return payment


def _payer_accept(payment_id: int) -> Payment:
    """Pay a request: route and settle it as a payment the payer accepts now."""
    request = Payment.objects.select_related("payer__community", "payee").get(pk=payment_id)
    if request.state != Payment.State.PENDING or request.kind != Payment.Kind.REQUEST:
        raise _refuse("Only a pending payment request can be accepted by the payer.")
    if request.payee.kind == Account.Kind.REMOTE:  # paid through the trust graph across instances
        return counterparts().routed_request_accept(payment=request)

    def claim() -> Payment:
        payment = _locked(payment_id)
        if payment.state != Payment.State.PENDING:
            raise _refuse("This request is no longer pending.")
        if payment.deadline and payment.deadline <= timezone.now():
            raise _refuse("This request has expired.")
        payment.payer_status, payment.payee_status = Status.ACCEPT, PayeeStatus.ACCEPT
        return payment

    return plan_and_settle(claim, lambda: plan_for(request.payer, request.payee, request.amount))


def _payee_accept(payment_id: int) -> Payment:
    return _mark(
        payment_id,
        field="payee_status",
        before=PayeeStatus.NOT_SET,
        after=PayeeStatus.ACCEPT,
        message="Only a settled payment you have not answered yet can be accepted.",
    )


def _payee_gives_back(payment_id: int, *, before: int, after: int, kind: str, message: str) -> Payment:
    """Decline or refund: mark the payment and send its amount back through the trust graph (no new
    tax), in one transaction, so the mark and the money can never disagree."""
    original = Payment.objects.select_related("payer__community", "payee").get(pk=payment_id)

    def check(payment: Payment) -> None:
        if payment.state != Payment.State.FINALIZED or payment.payee_status != before:
            raise _refuse(message)

    check(original)  # before routing, so a refusal names the status, not a missing way back

    def claim() -> Payment:
        payment = _locked(payment_id)
        check(payment)  # again under lock: a concurrent change may have come first
        payment.payee_status = after
        payment.save(update_fields=["payee_status"])
        return Payment(
            community_id=payment.community_id,
            kind=kind,
            payer=payment.payee,
            payee=payment.payer,
            amount=payment.amount,
            related=payment,
            payee_status=PayeeStatus.ACCEPT,
        )

    plan_and_settle(claim, lambda: plan_for(original.payee, original.payer, original.amount, taxed=False))
    original.refresh_from_db()
    return original


def _payee_decline(payment_id: int) -> Payment:
    return _payee_gives_back(
        payment_id,
        before=PayeeStatus.NOT_SET,
        after=PayeeStatus.DECLINE,
        kind=Payment.Kind.RETURN,
        message="Only a settled payment you have not answered yet can be declined.",
    )


def _payee_refund(payment_id: int) -> Payment:
    return _payee_gives_back(
        payment_id,
        before=PayeeStatus.ACCEPT,
        after=PayeeStatus.REFUND,
        kind=Payment.Kind.REFUND,
        message="Only a settled payment you accepted can be refunded.",
    )


_ACTIONS = {
    ("payer", "dispute"): _payer_dispute,
    ("payer", "cancel"): lambda pk: _cancel(pk, by="payer"),
    ("payer", "accept"): _payer_accept,
    ("payee", "accept"): _payee_accept,
    ("payee", "decline"): _payee_decline,
    ("payee", "refund"): _payee_refund,
    ("payee", "cancel"): lambda pk: _cancel(pk, by="payee"),
}


def _between_instances(payment: Payment) -> bool:
    """A payment (not a request) to or from a member of another instance: its protocol decides its end."""
    remote = Account.Kind.REMOTE
    return payment.kind == Payment.Kind.PAYMENT and remote in (payment.payer.kind, payment.payee.kind)


def payment_actions_open(*, payment: Payment, account: Account) -> list[str]:
    """The status changes ``account`` may try on ``payment`` now (what pages offer as buttons).

    The same rules as the handlers above, read without locking; the handlers decide under lock.
    """
    if payment.kind not in (Payment.Kind.PAYMENT, Payment.Kind.REQUEST):
        return []
    payer = payment.payer_id == account.pk
    if payment.state == Payment.State.PENDING:
        if payment.payee_status != PayeeStatus.NOT_SET or _between_instances(payment):
            return []
        return ["accept", "cancel"] if payer and payment.kind == Payment.Kind.REQUEST else ["cancel"]
    if payment.state != Payment.State.FINALIZED:
        return []
    if payer:
        return ["dispute"] if payment.payer_status == Status.ACCEPT else []
    return {PayeeStatus.NOT_SET: ["accept", "decline"], PayeeStatus.ACCEPT: ["refund"]}.get(payment.payee_status, [])


@transaction.atomic
def payments_expire(*, now=None) -> int:
    """Cancel pending payments whose deadline has passed; returns how many."""
    now = now or timezone.now()
    return Payment.objects.filter(state=Payment.State.PENDING, deadline__lte=now).update(
        state=Payment.State.CANCELLED, cancel_reason=Payment.EXPIRED
    )
