"""The credit score from a member's settled payments: what they paid and received, depreciated."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from identity import selectors as identity_selectors
from tests.conftest import token_client
from tests.trust.factories import community_with_commons, member_account, trust
from trust.models import Account, Payment, PaymentLeg
from trust.services.payments import payment_send

UNIT = 1_000_000


def paid(payer: Account, payee: Account, amount: int, *, days_ago: int = 0) -> Payment:
    """A settled payment, dated ``days_ago`` (the settlement date is all the score reads)."""
    payment = payment_send(payer=payer, payee=payee, amount=amount)
    assert payment.state == Payment.State.FINALIZED
    Payment.objects.filter(pk=payment.pk).update(settled_at=timezone.now() - timedelta(days=days_ago))
    return payment


def months_of_payments(payer: Account, payee: Account, *, skip: int | None = None) -> None:
    """One payment in each of the 12 calendar months before this one (but the ``skip``-th month back)."""
    now = timezone.now()
    for back in range(1, 13):
        if back == skip:
            continue
        year, month = divmod(now.year * 12 + now.month - 1 - back, 12)
        day = datetime(year, month + 1, 15, 12, tzinfo=UTC)
        payment = payment_send(payer=payer, payee=payee, amount=UNIT // 10)
        Payment.objects.filter(pk=payment.pk).update(settled_at=day)


@pytest.fixture
def chain(db):
    """a pays c through b, with a 1% trust-index tax to the commons."""
    community = community_with_commons(minimum_trust_index=Decimal("0.01"))
    a, b, c = (member_account(community, handle) for handle in "abc")
    trust(b, a, 100 * UNIT)
    trust(c, b, 100 * UNIT)
    return a, b, c


def test_paid_and_received_count_relayed_and_tax_legs_do_not(chain):
    a, b, c = chain
    payment = paid(a, c, 2 * UNIT)
    assert payment.legs.filter(purpose=PaymentLeg.Purpose.TAX).exists()
    assert payment.legs.filter(sender=b).exists() and payment.legs.filter(receiver=b).exists()

    payer, relay, payee = (identity_selectors.credit_score_of(member=account.member) for account in (a, b, c))
    assert (payer.debits, payer.credits) == (2 * UNIT, 0)  # the amount, without its tax
    assert (payee.debits, payee.credits) == (0, 2 * UNIT)
    assert (relay.debits, relay.credits) == (0, 0)
    assert (payer.score, payee.score, relay.score) == (Decimal("49.9"), Decimal("50.1"), Decimal("50.0"))


def test_old_payments_are_depreciated_and_unsettled_ones_ignored(chain):
    a, b, _ = chain
    paid(a, b, 3_650_000, days_ago=400)  # worth 330/365 of itself
    paid(a, b, 5 * UNIT, days_ago=800)  # worthless
    Payment.objects.filter(pk=paid(a, b, 7 * UNIT).pk).update(state=Payment.State.CANCELLED)
    assert identity_selectors.credit_score_of(member=a.member).debits == 3_300_000
    assert identity_selectors.credit_score_of(member=b.member).credits == 3_300_000


def test_can_vote_needs_a_payment_in_each_of_the_last_twelve_months(chain):
    a, b, c = chain
    months_of_payments(a, b, skip=7)
    assert not identity_selectors.credit_score_of(member=a.member).can_vote
    trust(a, c, 100 * UNIT)
    months_of_payments(c, a)  # received payments count too
    assert identity_selectors.credit_score_of(member=a.member).can_vote
    assert not identity_selectors.credit_score_of(member=b.member).can_vote


def test_user_reputation_answers_the_score_with_amounts_as_decimal_strings(chain):
    a, _, c = chain
    paid(a, c, 2 * UNIT)
    response = token_client(a.member).get(f"/c/{a.community.slug}/api/user/reputation")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "score": "49.9",
        "rating": "Good",
        "can_vote": False,
        "credits": "0.000000",
        "debits": "2.000000",
    }


def test_overspending_lowers_the_rating(db):
    community = community_with_commons()
    a, b = member_account(community, "a"), member_account(community, "b")
    trust(b, a, 2000 * UNIT)
    paid(a, b, 1100 * UNIT)
    score = identity_selectors.credit_score_of(member=a.member)
    assert (score.score, score.rating) == (Decimal("4.2"), "Overspent")
    paid(a, b, 100 * UNIT)
    score = identity_selectors.credit_score_of(member=a.member)
    assert (score.score, score.rating) == (Decimal("0.0"), "Bad")


def test_user_reputation_needs_a_member_of_the_community(world):
    response = token_client(world.b.member).get(f"/c/{world.a.community.slug}/api/user/reputation")
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_a_member"
