"""Trustlines with accounts on other instances: opened and mirrored from what the other instance says."""

from django.db import transaction

from federation.models import Pair
from trust import selectors as trust_selectors
from trust.models import Account, Trustline
from trust.services import accounts


def remote_account_of(pair: Pair) -> Account:
    return accounts.remote_account_open(community=pair.member.community, address=pair.remote_address)


def line_open(*, pair: Pair) -> tuple[Account, Account, Trustline]:
    """The member's account, the remote account and their trustline (opened when it is not)."""
    member_account = trust_selectors.account_of(member=pair.member)
    remote = remote_account_of(pair)
    line = trust_selectors.trustline_between(first=member_account, second=remote)
    if line is None:
        line = accounts.trustline_add(owner=remote, other=member_account)
    return member_account, remote, line


@transaction.atomic
def line_mirror_limit(*, pair: Pair, limit: int) -> Trustline:
    """The credit the remote account extends to the member, as its instance said (SYNC_TRUSTLINE)."""
    member_account, remote, _ = line_open(pair=pair)
    return accounts.trustline_set_limit(owner=remote, other=member_account, limit=limit)
