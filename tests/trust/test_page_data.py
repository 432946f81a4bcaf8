"""The data the money pages hand their scripts: the balance history the chart draws."""

from datetime import UTC, datetime

import pytest

from tests.trust.factories import community_with_commons, member_account, trust
from trust import page_data
from trust.models import Payment
from trust.services.payments import payment_send

UNIT = 1_000_000

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    community = community_with_commons(slug="chart")
    ann, ben = member_account(community, "ann"), member_account(community, "ben")
    trust(ben, ann, 100 * UNIT)
    return ann, ben


def test_the_history_starts_when_the_account_opened_and_steps_at_each_payment(pair):
    ann, ben = pair
    payment = payment_send(payer=ann, payee=ben, amount=5 * UNIT)

    history = page_data.balance_history(account=ann)

    assert history == [
        {"at": ann.created_at.isoformat(), "payment": None, "balance": 0},
        {"at": payment.settled_at.isoformat(), "payment": payment.pk, "balance": -5 * UNIT},
    ]


def test_the_history_starts_at_the_first_payment_when_that_is_older_than_the_account(pair):
    """Payments dated before the account opened (the demo's back-dated year) are not drawn before the axis starts."""
    ann, ben = pair
    older, newer = (payment_send(payer=ann, payee=ben, amount=UNIT) for _ in range(2))
    year_ago = datetime(2025, 1, 6, 9, tzinfo=UTC)
    Payment.objects.filter(pk=older.pk).update(settled_at=year_ago, created_at=year_ago)
    newer.refresh_from_db()

    history = page_data.balance_history(account=ann)

    assert [point["at"] for point in history] == [
        year_ago.isoformat(),
        year_ago.isoformat(),
        newer.settled_at.isoformat(),
    ]
    assert [point["balance"] for point in history] == [0, -UNIT, -2 * UNIT]


def status_of(**fields) -> tuple[str, str]:
    return tuple(page_data.payment_status(Payment(**fields)))


@pytest.mark.parametrize(
    "fields, status",
    [
        ({"state": "finalized"}, ("awaiting the payee", "waiting")),
        ({"state": "finalized", "payee_status": Payment.PayeeStatus.ACCEPT}, ("accepted", "done")),
        ({"state": "finalized", "payee_status": Payment.PayeeStatus.DECLINE}, ("declined", "undone")),
        ({"state": "finalized", "payee_status": Payment.PayeeStatus.REFUND}, ("refunded", "undone")),
        (
            {"state": "finalized", "payer_status": Payment.PayerStatus.DISPUTE, "payee_status": 2},
            ("disputed", "undone"),
        ),
        ({"state": "pending", "kind": "request", "payer_status": 0}, ("awaiting the payer", "waiting")),
        ({"state": "cancelled", "kind": "request", "cancel_reason": "cancelled by the payer"}, ("cancelled", "undone")),
        ({"state": "cancelled", "kind": "request", "cancel_reason": Payment.EXPIRED}, ("expired", "undone")),
        ({"state": "finalized", "kind": "income"}, ("settled", "done")),
        ({"state": "finalized", "kind": "return", "payee_status": 2}, ("settled", "done")),
    ],
)
def test_a_payments_status_in_words(fields, status):
    assert status_of(**fields) == status
