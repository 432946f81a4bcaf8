"""The demo community's identities, a year of payments behind alice, bob and carol, and a proposition.

Every demo member's identity is opened (custody 0, its key sealed under the demo password) and
registered with a proof of work solved here, as the identity page's worker would solve it. alice,
bob and carol trade every month of the last year, so their credit score says CAN-VOTE; dave has no
payments and shows why a member may not vote. The admin's proposition gets alice's and bob's votes.
"""

import secrets
from datetime import UTC, datetime, timedelta
from typing import TextIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bank import selectors as bank_selectors
from bank.management.commands.seed_demo import DEMO_ADMIN, DEMO_MEMBERS, DEMO_PASSWORD
from bank.models import Community, Member
from identity import pow
from identity.models import Identity, Proposition, Vote
from identity.selectors import key_in_force
from identity.services import registration, votes
from trust import selectors as trust_selectors
from trust.models import Account, Payment
from trust.services.payments import payment_send

UNIT = 1_000_000
HISTORY_TAG = "demo history"  # marks the seeded payments, so a second run finds the months it already made
HISTORY_MONTHS = 12
# alice pays bob 5 more each month than carol pays her, until she owes 60: the demo's one member in debt.
ALICE_DEBT = 60 * UNIT
PROPOSITION_TITLE = "Extend the community garden hours?"
PROPOSITION_DAYS = 14
DEMO_VOTES = {"alice": 1, "bob": 0}  # carol's is left for whoever signs in as her


def seed(*, community: Community, stdout: TextIO) -> None:
    members = {
        handle: bank_selectors.member_get(community=community, handle=handle) for handle in [DEMO_ADMIN, *DEMO_MEMBERS]
    }
    registered = sum(_register(member) for member in members.values())
    proposition = _open_proposition(members[DEMO_ADMIN])
    stdout.write(
        f"  identity: every demo member's identity is registered ({registered} now),"
        " keys sealed under the demo password;"
    )
    # Payments are durable top-level transactions (trust.services.settlement) and seed_demo runs the seeders
    # in one transaction: the history, and the votes that need it, follow its commit.
    transaction.on_commit(lambda: _history_and_votes(community, members, proposition, stdout))


def _register(member: Member) -> bool:
    """Open the member's identity and register it with a real proof; False when it was registered before."""
    identity = registration.identity_open(member=member, passphrase=DEMO_PASSWORD)
    if identity.registered_at is not None or identity.custody != Identity.Custody.SERVER:
        return False
    key = key_in_force(identity=identity, at=timezone.now())
    seed = secrets.token_bytes(pow.SEED_BYTES)
    nonce = pow.solve(pow.challenge_for(bytes.fromhex(key.public_key), seed), settings.REGISTRATION_POW_BITS)
    registration.identity_register(member=member, seed_hex=seed.hex(), nonce=nonce)
    return True


def _open_proposition(admin: Member) -> Proposition:
    """The demo proposition while it is open; a new one once it has closed."""
    now = timezone.now()
    proposition = Proposition.objects.filter(
        community=admin.community, title=PROPOSITION_TITLE, closes_at__gt=now
    ).first()
    return proposition or votes.proposition_create(
        by=admin, title=PROPOSITION_TITLE, closes_at=now + timedelta(days=PROPOSITION_DAYS)
    )


def _history_and_votes(
    community: Community, members: dict[str, Member], proposition: Proposition, stdout: TextIO
) -> None:
    months = _history(community)
    for handle, value in DEMO_VOTES.items():
        _vote(members[handle], proposition, value)
    stdout.write(
        f"            alice, bob and carol paid each other monthly for a year ({months} months added now),"
        " so they can vote and dave cannot;"
    )
    stdout.write(
        f"            alice voted yes and bob no on {PROPOSITION_TITLE!r} (open until"
        f" {proposition.closes_at:%Y-%m-%d}): sign in as carol or dave and open /c/{community.slug}/identity/"
    )


def months_before(today: datetime, count: int) -> list[tuple[int, int]]:
    """The ``count`` calendar months before ``today``'s own, oldest first, as (year, month)."""
    current = today.year * 12 + today.month - 1
    return [(index // 12, index % 12 + 1) for index in range(current - count, current)]


def _history(community: Community) -> int:
    """One round of payments in each of the last 12 months that has none yet; returns how many months."""
    alice, bob, carol = (trust_selectors.account_find(community=community, handle=h) for h in ("alice", "bob", "carol"))
    done = {
        (at.year, at.month)
        for at in Payment.objects.filter(community=community, tag=HISTORY_TAG).values_list("settled_at", flat=True)
    }
    missing = [month for month in months_before(timezone.now(), HISTORY_MONTHS) if month not in done]
    for year, month in missing:
        morning = datetime(year, month, 4 + 2 * month, 9, tzinfo=UTC)  # a different day each month, 6th..28th
        # carol pays first (through bob), so alice has room on her line with bob before she pays him.
        childminding = _pay(carol, alice, 15 * UNIT, "Childminding")
        alice_pays = 20 * UNIT if trust_selectors.net_balance(account=alice) > -ALICE_DEBT else 15 * UNIT
        vegetables = _pay(alice, bob, alice_pays, "Vegetables from the garden")
        repair = _pay(bob, carol, 15 * UNIT, "Bike repair")
        backdate_demo_history(
            dated=[
                (childminding, morning),
                (vegetables, morning + timedelta(hours=3)),
                (repair, morning + timedelta(hours=8)),
            ]
        )
    return len(missing)


def _pay(payer: Account, payee: Account, amount: int, memo: str) -> Payment:
    return payment_send(payer=payer, payee=payee, amount=amount, memo=memo, tag=HISTORY_TAG)


@transaction.atomic
def backdate_demo_history(*, dated: list[tuple[Payment, datetime]]) -> None:
    """Back-date demo history, and nothing else: settlement stamps a payment with the clock, so the demo's
    payments of past months are moved to their day after they settle. Only the payment's created_at and
    settled_at change (what the credit score, CAN-VOTE and the balance chart read); the ledger's entries keep
    the time they were really made, which is inside their hash chain and receipts."""
    for payment, at in dated:
        Payment.objects.filter(pk=payment.pk).update(created_at=at, settled_at=at)


def _vote(member: Member, proposition: Proposition, value: int) -> None:
    """Cast the member's signed vote, unless cast before (the server unlocks the key with the demo password)."""
    if not Vote.objects.filter(proposition=proposition, member=member).exists():
        votes.vote_cast(member=member, proposition_id=proposition.pk, value=value, passphrase=DEMO_PASSWORD)
