"""Reads of identities and their keys; every community-wide read takes the community explicitly."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from bank.models import Community, Member
from core.errors import NotFound
from identity import credit
from identity.errors import IdentityNotFound
from identity.models import Block, Identity, IdentityKey, Proposition, Vote
from trust import selectors as trust_selectors
from trust.models import Payment, PaymentLeg


def identity_of(*, member: Member) -> Identity | None:
    return Identity.objects.filter(member=member).first()


def identity_required(*, member: Member) -> Identity:
    identity = identity_of(member=member)
    if identity is None:
        raise IdentityNotFound("You have no identity yet; sign in with your password to open one.")
    return identity


def key_in_force(*, identity: Identity, at: datetime) -> IdentityKey | None:
    """The key that signed for ``identity`` at ``at``: the latest effective by then (Civil Money's rule)."""
    return identity.keys.filter(effective_from__lte=at).order_by("-effective_from").first()


def _current_key(at: datetime) -> Subquery:
    keys = IdentityKey.objects.filter(identity=OuterRef("pk"), effective_from__lte=at).order_by("-effective_from")
    return Subquery(keys.values("public_key")[:1])


def identity_rows(*, community: Community) -> list[dict]:
    """This community's identities: ``{pubkey, registered, balance, revoked}``, the key in force now."""
    identities = (
        Identity.objects.filter(member__community=community)
        .annotate(pubkey=_current_key(timezone.now()))
        .order_by("member__handle")
    )
    return [
        {"pubkey": i.pubkey, "registered": i.registered_at is not None, "balance": i.balance, "revoked": i.revoked}
        for i in identities
    ]


def identity_by_pubkey(*, community: Community, pubkey: str) -> Identity | None:
    """The identity of this community whose key in force now is ``pubkey``."""
    identities = Identity.objects.filter(member__community=community).annotate(pubkey=_current_key(timezone.now()))
    return identities.filter(pubkey=pubkey).first()


def instance_status() -> dict:
    counts = Identity.objects.aggregate(
        identities=Count("pk"),
        registered=Count("pk", filter=Q(registered_at__isnull=False)),
        revoked=Count("pk", filter=Q(revoked=True)),
    )
    return {**counts, "difficulty_bits": settings.REGISTRATION_POW_BITS, "chain_height": Block.objects.count()}


def revocation_of(*, member: Member) -> str | None:
    """The reason a member's identity is revoked (possibly empty), or None when it is not."""
    return Identity.objects.filter(member=member, revoked=True).values_list("revoked_reason", flat=True).first()


def receipt_keys_in_force(*, member_ids: set[int], at: datetime) -> dict[int, IdentityKey]:
    """Each member's identity key in force at ``at``, where it has a receipt key to sign receipts with."""
    rows = (
        IdentityKey.objects.filter(identity_id__in=member_ids, effective_from__lte=at)
        .order_by("identity_id", "effective_from")
        .values_list("pk", "identity_id", "receipt_public_key", "sealed_receipt_key")
    )
    in_force = {identity_id: (pk, receipt, sealed) for pk, identity_id, receipt, sealed in rows}  # the latest wins
    return {
        identity_id: IdentityKey(pk=pk, identity_id=identity_id, receipt_public_key=receipt, sealed_receipt_key=sealed)
        for identity_id, (pk, receipt, sealed) in in_force.items()
        if receipt
    }


# --- propositions and votes -------------------------------------------------------------------


def with_counts(propositions: QuerySet[Proposition]) -> QuerySet[Proposition]:
    """Each proposition with its results: ``yes`` and ``no`` counts."""
    return propositions.annotate(
        yes=Count("votes", filter=Q(votes__value=1)), no=Count("votes", filter=Q(votes__value=0))
    )


def propositions_of(*, community: Community) -> QuerySet[Proposition]:
    """The community's propositions, newest first, with their results."""
    return with_counts(Proposition.objects.filter(community=community).select_related("created_by__community"))


def proposition_get(*, community: Community, proposition_id: int) -> Proposition:
    proposition = propositions_of(community=community).filter(pk=proposition_id).first()
    if proposition is None:
        raise NotFound("There is no such proposition in this community.", code="proposition_not_found")
    return proposition


def votes_on(*, proposition: Proposition) -> QuerySet[Vote]:
    return proposition.votes.select_related("member__community", "key").order_by("cast_at", "pk")


def votes_of(*, member: Member) -> QuerySet[Vote]:
    return member.votes.select_related("proposition").order_by("-cast_at")


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reason: str  # why not, for a person; empty when eligible


def eligibility_of(*, member: Member) -> Eligibility:
    identity = Identity.objects.filter(member=member).first()
    if identity is None or identity.registered_at is None:
        return Eligibility(False, "You have no registered identity.")
    if identity.revoked:
        return Eligibility(False, "Your identity is revoked.")
    if not credit_score_of(member=member).can_vote:
        return Eligibility(False, "Votes need a payment with someone in each of the last 12 calendar months.")
    return Eligibility(True, "")


# --- the credit score (Civil Money) -----------------------------------------------------------


def transactions_of(*, member: Member) -> list[credit.Transaction]:
    """Which payments count (Civil Money's transactions, mapped onto trust's legs): the ``payment``-purpose
    legs of finalized payments where the member's account is the payment's payer and the leg's sender
    (a debit: what they paid, over every path, tax and fees left out) or the payment's payee and the
    leg's receiver (a credit: what they received). Legs merely relayed through the member's account
    (a hop in the middle of someone else's path) and tax legs never count. Each payment is one
    transaction, dated by its settlement day (UTC), with the other party as counterpart; basic income
    counts as a credit from the commons.
    """
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
