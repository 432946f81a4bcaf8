"""Reads of identities and their keys; every community-wide read takes the community explicitly."""

from datetime import datetime

from django.conf import settings
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from bank.models import Community, Member
from identity.errors import IdentityNotFound
from identity.models import Block, Identity, IdentityKey


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
    keys = IdentityKey.objects.filter(identity_id__in=member_ids, effective_from__lte=at).order_by(
        "identity_id", "effective_from"
    )
    in_force = {
        key.identity_id: key for key in keys.only("pk", "identity_id", "receipt_public_key", "sealed_receipt_key")
    }
    return {member_id: key for member_id, key in in_force.items() if key.receipt_public_key}
