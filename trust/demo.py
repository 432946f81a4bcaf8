"""The demo community's trust graph: a chain alice -> bob -> carol -> dave, and credit back; its members
joined well before the year of back-dated payments that the seeders after this one make."""

from datetime import timedelta
from typing import TextIO

from django.utils import timezone

from bank.models import Community, Member
from trust import selectors
from trust.models import Account, Trustline
from trust.services import accounts

UNIT = 1_000_000
# Back-dated history reaches at most 12 whole months before the current one (identity.demo): the
# members joined, and their accounts opened, before its first day.
MEMBERS_SINCE = timedelta(days=400)
# (creditor, debtor, credit): bob trusts alice for 100, so alice can pay bob up to 100, and so on.
DEMO_CREDIT = [
    ("bob", "alice", 100),
    ("carol", "bob", 100),
    ("dave", "carol", 100),
    ("alice", "bob", 50),
    ("bob", "carol", 50),
    ("carol", "dave", 50),
]


def seed(*, community: Community, stdout: TextIO) -> None:
    _backdate_joining(community)
    for creditor_name, debtor_name, credit in DEMO_CREDIT:
        creditor = selectors.account_find(community=community, handle=creditor_name)
        debtor = selectors.account_find(community=community, handle=debtor_name)
        low, high = sorted((creditor.pk, debtor.pk))
        if not Trustline.objects.filter(low_id=low, high_id=high, closed_at=None).exists():
            accounts.trustline_add(owner=creditor, other=debtor)
        if Trustline.objects.get(low_id=low, high_id=high).limit_extended_by(creditor.pk) == 0:
            accounts.trustline_set_limit(owner=creditor, other=debtor, limit=credit * UNIT)
    stdout.write("  trust: bob trusts alice, carol trusts bob, dave trusts carol (100 each), so alice can pay dave")
    stdout.write("         through bob and carol: sign in as alice and open Pay.")


def _backdate_joining(community: Community) -> None:
    """Move the demo's members' joining, and their accounts' and the commons' opening, to ``MEMBERS_SINCE`` ago
    (never later than they were)."""
    since = timezone.now() - MEMBERS_SINCE
    Member.objects.filter(community=community, joined_at__gt=since).update(joined_at=since)
    Account.objects.filter(community=community, created_at__gt=since).update(created_at=since)
