"""Reputation challenges through the services and the API: selection, issuing, solving, expiry, decay."""

import random
import secrets
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from identity import pow, reputation_points
from identity.models import Block, Challenge, Identity, IdentityKey
from identity.services import challenges
from tests.conftest import token_client
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

FAST = {"CHALLENGE_POW_BITS": 6}


def identity_of(
    member, *, balance: int = reputation_points.START, live: bool = True, registered: bool = True
) -> Identity:
    """The member's registered identity with one key, seen just now unless ``live`` is False."""
    now = timezone.now()
    identity, _ = Identity.objects.update_or_create(
        member=member,
        defaults={
            "balance": balance,
            "revoked": False,
            "registered_at": now if registered else None,
            "last_seen_at": now if live else now - timedelta(hours=1),
        },
    )
    IdentityKey.objects.create(identity=identity, public_key="02" + secrets.token_hex(32), effective_from=now)
    return identity


def solution(challenge: Challenge) -> int:
    return pow.solve(bytes.fromhex(challenge.data), challenge.difficulty_bits)


def pubkey(identity: Identity) -> str:
    return identity.keys.get().public_key


def refused(code: str, call, **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        call(**kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


# Selection


def test_lower_balances_are_chosen_more_often_in_proportion_to_their_weight():
    low, middle, high = (identity_of(MemberFactory(), balance=balance) for balance in (10, 100, 190))
    rng = random.Random(5)

    draws = Counter(challenges.challenge_targets(candidates=[low, middle, high], rng=rng)[0].pk for _ in range(2000))

    weights = {low.pk: 181, middle.pk: 91, high.pk: 1}  # max_balance - balance + 1
    assert draws[low.pk] > draws[middle.pk] > draws[high.pk]
    for pk, weight in weights.items():
        assert abs(draws[pk] / 2000 - weight / 273) < 0.035, (draws, weights)


def test_the_issuer_is_never_its_own_target():
    issuer, other = identity_of(MemberFactory(), balance=0), identity_of(MemberFactory(), balance=500)
    rng = random.Random(1)

    picks = {challenges.challenge_targets(candidates=[issuer, other], issuer=issuer, rng=rng)[0] for _ in range(300)}

    assert picks == {other}
    assert challenges.challenge_targets(candidates=[issuer], issuer=issuer, rng=rng) == []
    refused("challenge_self", challenges.challenge_issue, target=issuer, issuer=issuer)


def test_an_identity_never_has_two_pending_challenges():
    busy, free = identity_of(MemberFactory()), identity_of(MemberFactory(), balance=1000)
    challenges.challenge_issue(target=busy)
    rng = random.Random(2)

    assert {challenges.challenge_targets(candidates=[busy, free], rng=rng)[0] for _ in range(200)} == {free}
    refused("challenge_pending", challenges.challenge_issue, target=busy)
    assert Challenge.objects.filter(target=busy, state="pending").count() == 1


def test_several_targets_are_distinct():
    identities = [identity_of(MemberFactory(), balance=b) for b in (100, 110, 120)]

    picked = challenges.challenge_targets(candidates=identities, rng=random.Random(3), count=5)

    assert sorted(i.pk for i in picked) == sorted(i.pk for i in identities)


def test_rounds_challenge_only_live_registered_unrevoked_identities():
    live = identity_of(MemberFactory())
    identity_of(MemberFactory(), live=False)
    identity_of(MemberFactory(), registered=False)
    revoked = identity_of(MemberFactory())
    Identity.objects.filter(pk=revoked.pk).update(revoked=True)
    MemberFactory()  # no identity at all: skipped

    issued = challenges.challenges_issue_round(rng=random.Random(4))

    assert issued.target_id == live.pk and issued.issuer_id is None  # nobody else live to issue it
    assert challenges.challenges_issue_round(rng=random.Random(4)) is None  # its one challenge is pending


def test_round_issuers_are_live_identities_of_the_targets_community(world):
    identities = [identity_of(member) for member in (world.a.admin, world.a.member, world.b.admin, world.b.member)]
    rng = random.Random(6)
    seen_issuers = set()

    for _ in range(40):
        challenge = challenges.challenges_issue_round(rng=rng)
        assert challenge.issuer_id != challenge.target_id
        if challenge.issuer_id is not None:
            seen_issuers.add(challenge.issuer_id)
            issuer = Identity.objects.get(pk=challenge.issuer_id)
            assert issuer.member.community_id == challenge.target.member.community_id
        Challenge.objects.filter(pk=challenge.pk).update(state="solved")

    assert seen_issuers and seen_issuers <= {i.pk for i in identities}


# Solving, expiry, decay


@pytest.fixture
def fast(settings):
    settings.CHALLENGE_POW_BITS = FAST["CHALLENGE_POW_BITS"]


def test_a_solved_challenge_pays_the_reward_and_is_a_mine_block(fast):
    identity = identity_of(MemberFactory(), balance=95)
    challenge = challenges.challenge_issue(target=identity)
    assert challenge.difficulty_bits == 6 and len(bytes.fromhex(challenge.data)) == 32

    solved = challenges.challenge_solve(member=identity.member, challenge_id=challenge.pk, nonce=solution(challenge))

    identity.refresh_from_db()
    assert (solved.state, identity.balance) == ("solved", 105)
    assert solved.solved_at is not None and solved.nonce == solution(challenge)
    (block,) = Block.objects.all()
    assert block.events == [
        {
            "type": "mine",
            "pubkey": pubkey(identity),
            "community": identity.member.community.slug,
            "balance": 105,
            "revoked": False,
            "challenge": challenge.pk,
        }
    ]
    refused(
        "challenge_closed",
        challenges.challenge_solve,
        member=identity.member,
        challenge_id=challenge.pk,
        nonce=solution(challenge),
    )
    identity.refresh_from_db()
    assert identity.balance == 105  # paid once


def test_a_wrong_nonce_is_refused_and_changes_nothing(fast):
    identity = identity_of(MemberFactory())
    challenge = challenges.challenge_issue(target=identity)
    wrong = next(n for n in range(10_000) if not pow.proof_valid(bytes.fromhex(challenge.data), n, 6))

    error = refused(
        "proof_invalid", challenges.challenge_solve, member=identity.member, challenge_id=challenge.pk, nonce=wrong
    )

    assert error.status == 400
    challenge.refresh_from_db()
    identity.refresh_from_db()
    assert (challenge.state, identity.balance, Block.objects.count()) == ("pending", 100, 0)


def test_an_expired_or_foreign_challenge_cannot_be_solved(fast):
    identity, stranger = identity_of(MemberFactory()), identity_of(MemberFactory())
    challenge = challenges.challenge_issue(target=identity)

    refused(
        "challenge_not_found",
        challenges.challenge_solve,
        member=stranger.member,
        challenge_id=challenge.pk,
        nonce=solution(challenge),
    )
    Challenge.objects.filter(pk=challenge.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    error = refused(
        "challenge_closed",
        challenges.challenge_solve,
        member=identity.member,
        challenge_id=challenge.pk,
        nonce=solution(challenge),
    )
    assert error.status == 409


def test_expiry_costs_the_penalty_and_revokes_at_zero(fast):
    steady, poor = identity_of(MemberFactory(), balance=100), identity_of(MemberFactory(), balance=10)
    open_one = identity_of(MemberFactory())
    for identity in (steady, poor, open_one):
        challenges.challenge_issue(target=identity)
    Challenge.objects.exclude(target=open_one).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert challenges.challenges_expire() == 2

    steady.refresh_from_db()
    poor.refresh_from_db()
    assert (steady.balance, steady.revoked) == (85, False)
    assert (poor.balance, poor.revoked, poor.revoked_reason) == (0, True, challenges.IGNORED_REASON)
    assert set(Challenge.objects.values_list("target_id", "state")) == {
        (steady.pk, "ignored"),
        (poor.pk, "ignored"),
        (open_one.pk, "pending"),
    }
    (block,) = Block.objects.all()
    assert [(e["type"], e["pubkey"], e["balance"], e["revoked"]) for e in block.events] == [
        ("ignore", pubkey(steady), 85, False),
        ("ignore", pubkey(poor), 0, True),
    ]
    assert challenges.challenges_expire() == 0 and Block.objects.count() == 1


def test_decay_lowers_balances_above_the_start_and_never_below_it():
    balances = {identity_of(MemberFactory(), balance=b).pk: b for b in (150, 101, 100, 40)}

    assert challenges.reputation_decay() == 2

    after = dict(Identity.objects.values_list("pk", "balance"))
    assert [after[pk] for pk in balances] == [148, 100, 100, 40]
    (block,) = Block.objects.all()
    assert sorted(e["balance"] for e in block.events) == [100, 148]
    assert {e["type"] for e in block.events} == {"decay"}


def test_heartbeat_makes_a_client_live():
    identity = identity_of(MemberFactory(), live=False)
    assert not challenges.live_identities(timezone.now()).filter(pk=identity.pk).exists()

    assert challenges.heartbeat(member=identity.member) is True

    assert challenges.live_identities(timezone.now()).filter(pk=identity.pk).exists()
    assert challenges.heartbeat(member=MemberFactory()) is False  # no identity yet: nothing to do


# The API


def url(member, rest: str) -> str:
    return f"/c/{member.community.slug}/api/identity/{rest}"


def test_a_member_lists_and_solves_challenges_through_the_api(world, fast):
    identity = identity_of(world.a.member)
    challenge = challenges.challenge_issue(target=identity)
    client = token_client(world.a.member)

    pending = client.get(url(world.a.member, "challenges"))
    assert pending.status_code == 200
    assert pending.json() == [
        {
            "id": challenge.pk,
            "challenge_data_hex": challenge.data,
            "difficulty_bits": 6,
            "expires_at": challenge.expires_at.isoformat().replace("+00:00", "Z"),
        }
    ]
    wrong = client.post(url(world.a.member, f"challenges/{challenge.pk}/solve"), {"nonce": -1}, format="json")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_input"

    solved = client.post(
        url(world.a.member, f"challenges/{challenge.pk}/solve"), {"nonce": solution(challenge)}, format="json"
    )

    assert solved.status_code == 200 and solved.json()["state"] == "solved"
    assert client.get(url(world.a.member, "challenges")).json() == []
    incoming = client.get(url(world.a.member, "incoming-challenges")).json()
    assert [(c["id"], c["state"]) for c in incoming] == [(challenge.pk, "solved")]
    identity.refresh_from_db()
    assert identity.balance == 110


def test_admins_challenge_members_of_their_own_community_only(world, fast):
    admin, target, foreign = identity_of(world.a.admin), identity_of(world.a.member), identity_of(world.b.member)
    client = token_client(world.a.admin)

    issued = client.post(url(world.a.admin, "challenge"), {"target_pubkey": pubkey(target)}, format="json")
    assert issued.status_code == 201, issued.content
    assert (issued.json()["target"], issued.json()["state"]) == ("member", "pending")
    again = client.post(url(world.a.admin, "challenge"), {"target_pubkey": pubkey(target)}, format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "challenge_pending")
    elsewhere = client.post(url(world.a.admin, "challenge"), {"target_pubkey": pubkey(foreign)}, format="json")
    assert (elsewhere.status_code, elsewhere.json()["error"]["code"]) == (404, "identity_not_found")
    assert not Challenge.objects.filter(target=foreign).exists()

    listed = client.get(url(world.a.admin, "issued-challenges")).json()
    assert [(c["id"], c["target"]) for c in listed] == [(issued.json()["id"], "member")]
    assert Challenge.objects.get().issuer_id == admin.pk
    member_try = token_client(world.a.member).post(
        url(world.a.member, "challenge"), {"target_pubkey": pubkey(admin)}, format="json"
    )
    assert (member_try.status_code, member_try.json()["error"]["code"]) == (403, "admin_required")


def test_challenges_stay_in_their_community(world, fast):
    challenge = challenges.challenge_issue(target=identity_of(world.a.member))
    identity_of(world.b.member)
    beta = token_client(world.b.member)

    solve = beta.post(
        url(world.b.member, f"challenges/{challenge.pk}/solve"), {"nonce": solution(challenge)}, format="json"
    )

    assert (solve.status_code, solve.json()["error"]["code"]) == (404, "challenge_not_found")
    assert beta.get(url(world.b.member, "incoming-challenges")).json() == []
    cross = beta.get(url(world.a.member, "challenges"))
    assert (cross.status_code, cross.json()["error"]["code"]) == (403, "not_a_member")


def test_the_heartbeat_endpoint(world):
    identity = identity_of(world.a.member, live=False)
    client = token_client(world.a.member)

    assert client.post(url(world.a.member, "heartbeat"), {"x": 1}, format="json").status_code == 400
    assert client.post(url(world.a.member, "heartbeat")).status_code == 204

    identity.refresh_from_db()
    assert timezone.now() - identity.last_seen_at < timedelta(seconds=30)
