"""Reputation challenges (Anonity's seed): who gets one, issuing, solving and expiring them; the hourly decay.

Balances change only under the identity row's lock, and a challenge leaves ``pending`` only by a
conditional UPDATE from ``pending``, so a solve racing the expiry task settles exactly once. Every
change of standing is a block of the identity chain, written in the same transaction. Members with
no identity yet are simply never chosen, and find no challenges.
"""

import random
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from bank.models import Member
from core.errors import ApplicationError, Conflict, NotFound
from identity import pow, reputation_points
from identity.chain import chain_record, events_for
from identity.models import Challenge, Identity, IdentityKey

CHALLENGE_BYTES = 32
IGNORED_REASON = "ignored reputation challenges"
PENDING = Challenge.State.PENDING


def _locked(pks: Iterable[int]) -> list[Identity]:
    """Identities locked for update, in primary-key order (so two lockers never deadlock)."""
    return list(
        Identity.objects.select_for_update(of=("self",))
        .select_related("member__community")
        .filter(pk__in=list(pks))
        .order_by("pk")
    )


def live_identities(now: datetime) -> QuerySet[Identity]:
    """Registered, unrevoked identities of active members whose client was seen within LIVE_CLIENT_SECONDS."""
    return (
        Identity.objects.filter(
            registered_at__isnull=False,
            revoked=False,
            member__is_active=True,
            last_seen_at__gte=now - timedelta(seconds=settings.LIVE_CLIENT_SECONDS),
        )
        .select_related("member__community")
        .order_by("pk")
    )


def challenge_targets(
    *, candidates: Iterable[Identity], issuer: Identity | None = None, rng: random.Random, count: int = 1
) -> list[Identity]:
    """Up to ``count`` distinct targets drawn with weight ``max_balance - balance + 1`` (the lower the
    balance, the likelier), among the candidates without a pending challenge, never the issuer."""
    candidates = list(candidates)
    pending = set(
        Challenge.objects.filter(state=PENDING, target__in=[c.pk for c in candidates]).values_list(
            "target_id", flat=True
        )
    )
    eligible = [c for c in candidates if c.pk not in pending and (issuer is None or c.pk != issuer.pk)]
    if not eligible:
        return []
    top = max(c.balance for c in eligible)
    chosen: list[Identity] = []
    while eligible and len(chosen) < count:
        pick = rng.choices(eligible, weights=[top - c.balance + 1 for c in eligible])[0]
        chosen.append(pick)
        eligible.remove(pick)
    return chosen


def challenge_issue(*, target: Identity, issuer: Identity | None = None) -> Challenge:
    """A new challenge for ``target``; ``issuer`` None means the server's schedule."""
    if issuer is not None and issuer.pk == target.pk:
        raise ApplicationError("An identity cannot challenge itself.", code="challenge_self")
    if target.registered_at is None:
        raise Conflict(f"{target} has not registered its key yet.", code="identity_unregistered")
    if target.revoked:
        raise Conflict(f"{target} is revoked.", code="identity_revoked")
    try:
        with transaction.atomic():
            return Challenge.objects.create(
                target=target,
                issuer=issuer,
                data=secrets.token_hex(CHALLENGE_BYTES),
                difficulty_bits=settings.CHALLENGE_POW_BITS,
                expires_at=timezone.now() + timedelta(seconds=settings.CHALLENGE_LIFETIME_SECONDS),
            )
    except IntegrityError:  # the one_pending_challenge constraint: checking first would race
        raise Conflict(f"{target} already has a pending challenge.", code="challenge_pending") from None


def challenge_issue_by_admin(*, admin: Member, target_pubkey: str) -> Challenge:
    """An admin's challenge, now, to the identity of their community holding ``target_pubkey``."""
    key = (
        IdentityKey.objects.select_related("identity__member__community")
        .filter(public_key=target_pubkey.lower(), identity__member__community_id=admin.community_id)
        .first()
    )
    if key is None:
        raise NotFound("No identity of this community has that key.", code="identity_not_found")
    return challenge_issue(target=key.identity, issuer=Identity.objects.filter(pk=admin.pk).first())


def challenges_issue_round(*, now: datetime | None = None, rng: random.Random | None = None) -> Challenge | None:
    """The beat task's round: one challenge to a live identity. The issuer is another live identity of
    the target's community, or the server (None); a community's members only ever challenge each other."""
    rng = rng or random.SystemRandom()
    live = list(live_identities(now or timezone.now()))
    issuer = rng.choice([None, *live])
    peers = live if issuer is None else [i for i in live if i.member.community_id == issuer.member.community_id]
    targets = challenge_targets(candidates=peers, issuer=issuer, rng=rng)
    if not targets and issuer is not None:
        issuer, targets = None, challenge_targets(candidates=live, rng=rng)
    if not targets:
        return None
    try:
        return challenge_issue(target=targets[0], issuer=issuer)
    except Conflict:  # an admin's challenge (or a revocation) got there first; the next round tries again
        return None


def challenge_solve(*, member: Member, challenge_id: int, nonce: int) -> Challenge:
    """Accept the member's proof for a pending challenge: the challenge is solved and the reward paid."""
    challenge = Challenge.objects.filter(pk=challenge_id, target_id=member.pk).first()
    if challenge is None:
        raise NotFound("You have no such challenge.", code="challenge_not_found")
    now = timezone.now()
    closed = Conflict("This challenge is no longer open.", code="challenge_closed")
    if challenge.state != PENDING or challenge.expires_at <= now:
        raise closed
    if not pow.proof_valid(bytes.fromhex(challenge.data), nonce, challenge.difficulty_bits):
        raise ApplicationError("The nonce does not solve this challenge.", code="proof_invalid")
    with transaction.atomic():
        (identity,) = _locked([member.pk])
        claimed = Challenge.objects.filter(pk=challenge.pk, state=PENDING, expires_at__gt=now).update(
            state=Challenge.State.SOLVED, solved_at=now, nonce=nonce
        )
        if claimed != 1:  # expired or solved while we checked the proof
            raise closed
        standing = reputation_points.mined(identity.standing)
        identity.balance, identity.revoked = standing.balance, standing.revoked
        identity.save(update_fields=["balance", "revoked"])
        chain_record([{**event, "challenge": challenge.pk} for event in events_for("mine", [identity])])
    challenge.refresh_from_db()
    return challenge


def challenges_expire(*, now: datetime | None = None) -> int:
    """Pending challenges past their time become ignored and cost their targets the penalty (which may
    revoke them). Returns how many expired."""
    now = now or timezone.now()
    due = dict(Challenge.objects.filter(state=PENDING, expires_at__lte=now).values_list("pk", "target_id"))
    if not due:
        return 0
    with transaction.atomic():
        identities = {identity.pk: identity for identity in _locked(due.values())}
        ignored: list[tuple[Identity, int]] = []
        for challenge_id, target_id in sorted(due.items()):
            if not Challenge.objects.filter(pk=challenge_id, state=PENDING).update(state=Challenge.State.IGNORED):
                continue  # solved meanwhile
            identity = identities[target_id]
            standing = reputation_points.ignored(identity.standing)
            if standing.revoked and not identity.revoked:
                identity.revoked_reason = IGNORED_REASON
            identity.balance, identity.revoked = standing.balance, standing.revoked
            ignored.append((identity, challenge_id))
        if ignored:
            Identity.objects.bulk_update([i for i, _ in ignored], ["balance", "revoked", "revoked_reason"])
            events = events_for("ignore", [i for i, _ in ignored])
            chain_record([{**event, "challenge": cid} for event, (_, cid) in zip(events, ignored, strict=True)])
    return len(ignored)


def reputation_decay() -> int:
    """One tick of soft decay for every identity above the starting balance; returns how many decayed."""
    with transaction.atomic():
        identities = list(
            Identity.objects.select_for_update(of=("self",))
            .select_related("member__community")
            .filter(balance__gt=reputation_points.START)
            .order_by("pk")
        )
        for identity in identities:
            identity.balance = reputation_points.decayed(identity.standing).balance
        if identities:
            Identity.objects.bulk_update(identities, ["balance"])
            chain_record(events_for("decay", identities))
    return len(identities)


def heartbeat(*, member: Member) -> bool:
    """The member's client is live now; False when the member has no identity yet."""
    return Identity.objects.filter(pk=member.pk).update(last_seen_at=timezone.now()) == 1


def challenges_of(*, member: Member, pending_only: bool) -> QuerySet[Challenge]:
    """The member's incoming challenges, newest first; ``pending_only``: those still open now."""
    challenges = Challenge.objects.filter(target_id=member.pk).order_by("-issued_at", "-pk")
    if pending_only:
        challenges = challenges.filter(state=PENDING, expires_at__gt=timezone.now())
    return challenges


def challenges_issued_by(*, member: Member) -> QuerySet[Challenge]:
    return Challenge.objects.filter(issuer_id=member.pk).select_related("target__member").order_by("-issued_at", "-pk")
