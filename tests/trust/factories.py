"""Builders for trust tests: members with accounts, and trustlines with given limits."""

from bank.models import Community
from tests.factories import CommunityFactory, MemberFactory
from trust.models import Account, Trustline
from trust.services.accounts import commons_of


def member_account(community: Community, handle: str) -> Account:
    """A member of ``community`` with an account and its commons trustline, as joining gives."""
    member = MemberFactory(community=community, handle=handle)
    return Account.objects.select_related("community", "member").get(member=member)


def trust(creditor: Account, debtor: Account, limit: int) -> Trustline:
    """``creditor`` extends ``limit`` of credit to ``debtor`` (opening their trustline if needed)."""
    low, high = sorted((creditor, debtor), key=lambda a: a.pk)
    line, _ = Trustline.objects.get_or_create(community_id=creditor.community_id, low=low, high=high)
    if creditor.pk == line.low_id:
        line.limit_from_low = limit
    else:
        line.limit_from_high = limit
    line.save()
    return line


def community_with_commons(**fields) -> Community:
    community = CommunityFactory(**fields)
    commons_of(community)
    return community
