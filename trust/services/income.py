"""Basic income: the commons' positive balance goes to members in debt, in proportion to their debt."""

import logging
from functools import partial

from bank.models import Community
from core.locks import sole_run
from trust import selectors
from trust.errors import RoutingError
from trust.models import Account, Payment
from trust.services.accounts import commons_of
from trust.services.settlement import plan_and_settle, plan_for

logger = logging.getLogger(__name__)


def income_shares(pool: int, debts: dict[int, int]) -> dict[int, int]:
    """Split ``pool`` over debtors in proportion to their debt, rounded down, never beyond a debt."""
    total = sum(debts.values())
    if pool <= 0 or total <= 0:
        return {}
    shares = {account: min(debt, pool * debt // total) for account, debt in debts.items()}
    return {account: share for account, share in shares.items() if share > 0}


def basic_income_distribute(*, community: Community) -> list[Payment]:
    """Pay each member in debt their share, as untaxed payments from the commons through the trust network.

    Each share settles on its own; a share that cannot be routed now stays in the commons for the next run.
    A run killed half-way is safe to run again (shares are computed from the balances as they are), but
    two at once would both pay from the same balance: a run that finds another under way pays nothing.
    """
    with sole_run(f"basic-income:{community.pk}") as sole:
        return _distribute(community) if sole else []


def _distribute(community: Community) -> list[Payment]:
    commons = commons_of(community)
    balances = selectors.net_balances(community=community)
    accounts = Account.objects.filter(community=community, kind=Account.Kind.MEMBER, member__is_active=True)
    members = {account.pk: account for account in accounts.select_related("community", "member")}
    debts = {pk: -balance for pk, balance in balances.items() if balance < 0 and pk in members}
    paid = []
    for account_id, share in sorted(income_shares(balances.get(commons.pk, 0), debts).items()):
        member = members[account_id]
        try:
            paid.append(
                plan_and_settle(
                    partial(
                        Payment,
                        community=community,
                        kind=Payment.Kind.INCOME,
                        payer=commons,
                        payee=member,
                        amount=share,
                    ),
                    partial(plan_for, commons, member, share, taxed=False),
                )
            )
        except RoutingError as exc:
            logger.info("basic income share of account %s not routable now: %s", account_id, exc.code)
    return paid
