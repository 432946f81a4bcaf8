"""An admin's review of a revoked identity: restoring it, with the reason recorded in the identity chain."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from core.errors import Conflict, InvalidInput
from identity import reputation_points
from identity.chain import chain_record, events_for
from identity.models import Identity, Review


@transaction.atomic
def identity_restore(*, identity: Identity, by: AbstractBaseUser, reason: str) -> Review:
    """Reinstate a revoked identity at the starting balance, recording who did it and why."""
    if not reason.strip():
        raise InvalidInput("reason", ["Say why the identity is restored."])
    identity = Identity.objects.select_for_update().get(pk=identity.pk)
    if not identity.revoked:
        raise Conflict(f"{identity} is not revoked.", code="identity_not_revoked")
    restored = reputation_points.restored(identity.standing)
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
