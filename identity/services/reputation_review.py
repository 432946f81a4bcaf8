"""A member's standing under review: the credit score read from their settled payments, and an
admin's restoring of a revoked identity.

Which payments count (Civil Money's transactions, mapped onto trust's legs): the ``payment``-purpose
legs of finalized payments where the member's account is the payment's payer and the leg's sender
(a debit: what they paid, over every path, tax and fees left out) or the payment's payee and the
leg's receiver (a credit: what they received). Legs merely relayed through the member's account
(a hop in the middle of someone else's path) and tax legs never count. Each payment is one
transaction, dated by its settlement day (UTC), with the other party as counterpart; basic income
counts as a credit from the commons.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from bank.models import Member
from core.errors import Conflict, InvalidInput
from identity import credit, reputation
from identity.chain import chain_record, events_for
from identity.models import Identity, Review
from trust import selectors as trust_selectors
from trust.models import Payment, PaymentLeg


def transactions_of(*, member: Member) -> list[credit.Transaction]:
    account = trust_selectors.account_of(member=member)
    legs = (
        PaymentLeg.objects.filter(purpose=PaymentLeg.Purpose.PAYMENT, payment__state=Payment.State.FINALIZED)
        .filter(Q(sender=account, payment__payer=account) | Q(receiver=account, payment__payee=account))
        .values("payment_id", "payment__settled_at", "payment__payer_id")
        .annotate(
            total=Sum("amount"),
            payer_name=F("payment__payer__member__handle"),
            payee_name=F("payment__payee__member__handle"),
        )
        .order_by("payment_id")
    )
    result = []
    for row in legs:
        debit = row["payment__payer_id"] == account.pk
        result.append(
            credit.Transaction(
                when=row["payment__settled_at"].date(),
                amount=row["total"],
                direction="debit" if debit else "credit",
                counterpart=(row["payee_name"] if debit else row["payer_name"]) or "commons",
            )
        )
    return result


def credit_score_of(*, member: Member) -> credit.CreditScore:
    return credit.credit_score(transactions_of(member=member), timezone.now().date(), member=member.handle)


@transaction.atomic
def identity_restore(*, identity: Identity, by: AbstractBaseUser, reason: str) -> Review:
    """Reinstate a revoked identity at the starting balance, recording who did it and why."""
    if not reason.strip():
        raise InvalidInput("reason", ["Say why the identity is restored."])
    identity = Identity.objects.select_for_update().get(pk=identity.pk)
    if not identity.revoked:
        raise Conflict(f"{identity} is not revoked.", code="identity_not_revoked")
    restored = reputation.restored(identity.standing)
    review = Review.objects.create(
        identity=identity,
        reviewed_by=by,
        reason=reason,
        balance_before=identity.balance,
        balance_after=restored.balance,
    )
    identity.balance, identity.revoked, identity.revoked_reason = restored.balance, restored.revoked, ""
    identity.save(update_fields=["balance", "revoked", "revoked_reason"])
    chain_record(events_for("restore", [identity]))
    return review
