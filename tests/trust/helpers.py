"""Builders for the money API tests: members' accounts and the credit between them.

Credit is set through the services, so every change reaches the routing graphs as it would in use.
"""

from django.db.models import Q

from bank.models import Member
from core.money import parse_amount
from trust import selectors
from trust.models import Account
from trust.services import accounts


def account(member: Member) -> Account:
    return selectors.account_of(member=member)


def credit(creditor: Member, debtor: Member, amount: str) -> None:
    """``creditor`` extends ``amount`` ("12.5") of credit to ``debtor``, opening their trustline if there is none."""
    owner, other = account(creditor), account(debtor)
    if not selectors.trustlines_of(account=owner).filter(Q(low=other) | Q(high=other)).exists():
        accounts.trustline_add(owner=owner, other=other)
    accounts.trustline_set_limit(owner=owner, other=other, limit=parse_amount(amount, allow_zero=True))


def mutual_credit(one: Member, other: Member, amount: str) -> None:
    credit(one, other, amount)
    credit(other, one, amount)
