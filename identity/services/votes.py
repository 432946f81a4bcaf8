"""Propositions and signed votes.

The vote text signed is ``proposition_id|member address|value|cast_at`` with ``cast_at`` in UTC as
``datetime.isoformat()`` writes it (``2025-03-01T12:00:00+00:00``). Custody 0: the server unlocks the
member's key with their passphrase for this one signature, at ``cast_at`` = now. Custody 1: the
member's app signs and sends ``cast_at``, which must be within ``CAST_AT_TOLERANCE`` of now. Either
way the signature is checked against the identity key in force at ``cast_at``.

Eligible to vote: a registered identity, not revoked, whose credit score says CAN-VOTE (a
transaction with someone else in each of the 12 calendar months before this one).
"""

from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from bank.models import Member
from core.crypto import p256
from core.errors import ApplicationError, Conflict, Forbidden, InvalidInput
from identity.errors import SignatureInvalid
from identity.models import Identity, IdentityKey, Proposition, Vote
from identity.selectors import eligibility_of, key_in_force, proposition_get
from identity.services.custody import unlocked

CAST_AT_TOLERANCE = timedelta(minutes=5)


def vote_text(*, proposition_id: int, address: str, value: int, cast_at: datetime) -> bytes:
    return f"{proposition_id}|{address}|{value}|{cast_at.astimezone(UTC).isoformat()}".encode()


def signed_text(vote: Vote) -> bytes:
    return vote_text(
        proposition_id=vote.proposition_id, address=vote.member.address, value=vote.value, cast_at=vote.cast_at
    )


# --- writes ------------------------------------------------------------------------------------


@transaction.atomic
def proposition_create(*, by: Member, title: str, closes_at: datetime) -> Proposition:
    if not by.is_admin:
        raise Forbidden("Only community admins open propositions.", code="admin_required")
    if not title.strip():
        raise InvalidInput("title", ["A proposition has a title."])
    if closes_at <= timezone.now():
        raise InvalidInput("closes_at", ["A proposition closes in the future."])
    proposition = Proposition.objects.create(
        community=by.community, title=title.strip(), created_by=by, closes_at=closes_at
    )
    return proposition_get(community=by.community, proposition_id=proposition.pk)


def _value(value: object) -> int:
    if type(value) is not int or value not in (0, 1):
        raise ApplicationError("A vote's value is 0 (no) or 1 (yes).", code="value_invalid")
    return value


def _server_signature(key: IdentityKey, passphrase: str, text: bytes) -> bytes:
    """Custody 0: the key is unlocked for this signature only (``passphrase_invalid`` if it does not)."""
    return p256.sign(unlocked(key, passphrase), text)


@transaction.atomic
def vote_cast(
    *,
    member: Member,
    proposition_id: int,
    value: object,
    passphrase: str | None = None,
    signature: bytes | None = None,
    cast_at: datetime | None = None,
) -> Vote:
    """Cast or change ``member``'s vote; an identical re-vote is refused with ``vote_unchanged``."""
    proposition = proposition_get(community=member.community, proposition_id=proposition_id)
    value = _value(value)
    now = timezone.now()
    if proposition.closes_at <= now:
        raise Conflict("This proposition is closed.", code="proposition_closed")
    eligibility = eligibility_of(member=member)
    if not eligibility.eligible:
        raise Forbidden(f"You may not vote: {eligibility.reason}", code="not_eligible")
    # Serializes one member's votes, so a first vote cast twice at once makes one row, not an error.
    identity = Identity.objects.select_for_update().get(member=member)
    if identity.custody == Identity.Custody.SERVER:
        stray = [name for name, value in (("signature", signature), ("cast_at", cast_at)) if value is not None]
        if stray or not passphrase:
            raise InvalidInput(
                stray[0] if stray else "passphrase", ["Your key is on the server: send your passphrase, no signature."]
            )
        cast_at = now
    else:
        missing = [name for name, value in (("signature", signature), ("cast_at", cast_at)) if value is None]
        if passphrase is not None or missing:
            raise InvalidInput(
                "passphrase" if passphrase is not None else missing[0],
                ["Your app holds your key: send its signature and cast_at, no passphrase."],
            )
        if abs(cast_at - now) > CAST_AT_TOLERANCE or cast_at >= proposition.closes_at:
            raise InvalidInput("cast_at", ["cast_at is within 5 minutes of now, before the close."])
    key = key_in_force(identity=identity, at=cast_at)
    if key is None:
        raise Forbidden("Your identity has no key in force.", code="not_eligible")
    text = vote_text(proposition_id=proposition.pk, address=member.address, value=value, cast_at=cast_at)
    if signature is None:
        signature = _server_signature(key, passphrase, text)
    if not p256.signature_valid(key.public_key, signature, text):
        raise SignatureInvalid("The signature does not match the vote and your key.")
    vote = Vote.objects.filter(proposition=proposition, member=member).first()
    if vote is not None and vote.value == value:
        raise Conflict("Your vote already says that.", code="vote_unchanged")
    if vote is None:
        vote = Vote(proposition=proposition, member=member)
    vote.value, vote.key, vote.signature, vote.cast_at = value, key, signature, cast_at
    vote.save()
    return vote
