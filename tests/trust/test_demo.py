"""The demo's members joined, and their accounts opened, before the year of back-dated payments they show.

The seeders' payments follow seed_demo's commit, as on a real run, so these tests commit for real.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Min

from bank.models import Community, Member
from trust.models import Account, Payment
from trust.routing.graph import forget_all

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_members_joined_and_opened_their_accounts_before_the_first_payment(settings):
    settings.REGISTRATION_POW_BITS = 8  # the identity seeder solves real proofs
    forget_all()
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    community = Community.objects.get(slug="demo")

    first_payment = Payment.objects.filter(community=community).aggregate(at=Min("settled_at"))["at"]
    assert first_payment is not None
    for member in Member.objects.filter(community=community):
        assert member.joined_at < first_payment, member.handle
    for account in Account.objects.filter(community=community):
        assert account.created_at < first_payment, account
