"""The demo's identities: registered on the chain, a year of payments that lets alice vote, a proposition.

The seeder's payments follow seed_demo's commit, as on a real run, so these tests commit for real.
"""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from bank.management.commands.seed_demo import DEMO_ADMIN, DEMO_MEMBERS
from bank.models import Community, Member
from core.crypto import p256
from identity import selectors as identity_selectors
from identity.chain import chain_verify
from identity.demo import HISTORY_MONTHS, HISTORY_TAG, PROPOSITION_TITLE, months_before
from identity.models import Block, Identity, IdentityKey, Proposition, Vote
from identity.services import votes
from trust import selectors as trust_selectors
from trust.models import Payment
from trust.routing.graph import forget_all

pytestmark = pytest.mark.django_db(transaction=True)


def run_seed_demo() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def demo(settings) -> Community:
    settings.REGISTRATION_POW_BITS = 8  # the seeder solves real proofs; 20 bits would cost a second each
    forget_all()
    run_seed_demo()
    return Community.objects.get(slug="demo")


def member(community: Community, handle: str) -> Member:
    return Member.objects.get(community=community, handle=handle)


def counts() -> dict[str, int]:
    models = (Identity, IdentityKey, Block, Payment, Proposition, Vote)
    return {model.__name__: model.objects.count() for model in models}


def test_seed_demo_again_makes_nothing_twice(demo):
    before = counts()

    output = run_seed_demo()

    assert counts() == before
    assert "registered (0 now)" in output and "(0 months added now)" in output
    assert sum(trust_selectors.net_balances(community=demo).values()) == 0


def test_every_demo_identity_is_registered_with_a_register_block_on_a_valid_chain(demo):
    registered = {
        event["pubkey"] for block in Block.objects.all() for event in block.events if event["type"] == "register"
    }
    for handle in [DEMO_ADMIN, *DEMO_MEMBERS]:
        identity = Identity.objects.get(member=member(demo, handle))
        key = identity.keys.get()
        assert identity.registered_at is not None and identity.custody == Identity.Custody.SERVER
        assert key.kdf_salt and key.sealed_private_key  # custody 0: sealed under the demo password
        assert key.public_key in registered
    assert chain_verify() == []


def test_alice_bob_and_carol_can_vote_after_a_year_of_payments_and_dave_cannot(demo):
    scores = {
        handle: identity_selectors.credit_score_of(member=member(demo, handle))
        for handle in ("alice", "bob", "carol", "dave")
    }

    assert [scores[handle].can_vote for handle in ("alice", "bob", "carol")] == [True, True, True]
    assert (scores["alice"].score, scores["bob"].score, scores["carol"].score) == (
        Decimal("47.5"),
        Decimal("52.5"),
        Decimal("50.0"),
    )
    assert not scores["dave"].can_vote and (scores["dave"].credits, scores["dave"].debits) == (0, 0)
    assert identity_selectors.eligibility_of(member=member(demo, "dave")).reason.startswith("Votes need a payment")
    history = Payment.objects.filter(community=demo, tag=HISTORY_TAG)
    assert {(p.settled_at.year, p.settled_at.month) for p in history} == set(
        months_before(timezone.now(), HISTORY_MONTHS)
    )
    assert all(p.state == Payment.State.FINALIZED and p.created_at == p.settled_at for p in history)
    assert sum(trust_selectors.net_balances(community=demo).values()) == 0


def test_the_admins_proposition_is_open_with_alices_and_bobs_signed_votes(demo):
    proposition = identity_selectors.propositions_of(community=demo).get(title=PROPOSITION_TITLE)

    assert proposition.created_by.handle == DEMO_ADMIN and proposition.closes_at > timezone.now()
    assert (proposition.yes, proposition.no) == (1, 1)
    cast = {vote.member.handle: vote for vote in identity_selectors.votes_on(proposition=proposition)}
    assert {handle: vote.value for handle, vote in cast.items()} == {"alice": 1, "bob": 0}
    for vote in cast.values():
        assert p256.signature_valid(vote.key.public_key, bytes(vote.signature), votes.signed_text(vote))
