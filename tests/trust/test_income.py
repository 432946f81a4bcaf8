"""Basic income: the commons' balance goes to members in debt, in proportion, never beyond a debt."""

import time

import psycopg
import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from core import locks
from tests.trust.factories import community_with_commons, member_account, trust
from trust import selectors
from trust.models import Payment
from trust.services.income import basic_income_distribute, income_shares
from trust.services.payments import payment_send

UNIT = 1_000_000


@given(
    pool=st.integers(min_value=0, max_value=10**15),
    debts=st.dictionaries(st.integers(1, 50), st.integers(1, 10**15), max_size=20),
)
def test_shares_are_proportional_and_never_exceed_the_pool_or_a_debt(pool, debts):
    shares = income_shares(pool, debts)

    assert sum(shares.values()) <= pool
    assert all(0 < share <= debts[account] for account, share in shares.items())
    total = sum(debts.values())
    for account, debt in debts.items():
        # Rounded down from the exact proportion, or the whole debt when the pool covers it.
        assert shares.get(account, 0) == min(debt, pool * debt // total)


def test_income_goes_to_debtors_and_conserves_value(db):
    community = community_with_commons(minimum_trust_index="0.1")
    alice, bob, carol = (member_account(community, handle) for handle in ("alice", "bob", "carol"))
    trust(bob, alice, 100 * UNIT)
    trust(carol, bob, 100 * UNIT)
    payment_send(payer=alice, payee=bob, amount=30 * UNIT)  # alice: -33 (tax 3)
    payment_send(payer=bob, payee=carol, amount=10 * UNIT)  # bob: +30 - 11 = +19 (tax 1)
    before = selectors.net_balances(community=community)

    paid = basic_income_distribute(community=community)

    after = selectors.net_balances(community=community)
    assert [(p.payee.name, p.amount, p.kind, p.tax) for p in paid] == [("alice", 4 * UNIT, Payment.Kind.INCOME, 0)]
    assert after[alice.pk] == before[alice.pk] + 4 * UNIT
    assert sum(after.values()) == 0
    assert basic_income_distribute(community=community) == []  # the pool is empty now


def test_income_is_shared_in_proportion_to_debt(db):
    community = community_with_commons(minimum_trust_index="0.5")
    alice, bob, carol = (member_account(community, handle) for handle in ("alice", "bob", "carol"))
    trust(bob, alice, 100 * UNIT)
    trust(bob, carol, 100 * UNIT)
    payment_send(payer=alice, payee=bob, amount=10 * UNIT)  # alice -15, commons +5
    payment_send(payer=carol, payee=bob, amount=5 * UNIT)  # carol -7.5, commons +7.5

    paid = basic_income_distribute(community=community)

    assert sorted((p.payee.name, p.amount) for p in paid) == [("alice", 5 * UNIT), ("carol", 2_500_000)]
    balances = selectors.net_balances(community=community)
    assert (balances[alice.pk], balances[carol.pk]) == (-10 * UNIT, -5 * UNIT)
    assert balances[community.accounts.get(kind="commons").pk] == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_while_another_is_under_way_pays_nothing_and_a_dead_runs_claim_is_gone():
    """A redelivered task meets the run still going: it pays no share a second time."""
    community = community_with_commons(minimum_trust_index="0.1")
    alice, bob = (member_account(community, handle) for handle in ("alice", "bob"))
    trust(bob, alice, 100 * UNIT)
    payment_send(payer=alice, payee=bob, amount=30 * UNIT)  # alice owes 3 in tax to the commons
    other_worker = psycopg.connect(_database_url(), autocommit=True)
    try:
        other_worker.execute("SELECT pg_advisory_lock(%s)", [locks.lock_key(f"basic-income:{community.pk}")])
        assert basic_income_distribute(community=community) == []
        (pid,) = other_worker.execute("SELECT pg_backend_pid()").fetchone()
    finally:
        other_worker.close()  # the other worker dies: the server drops its claim with the connection
    _wait_until_gone(pid)

    assert [payment.amount for payment in basic_income_distribute(community=community)] == [3 * UNIT]
    assert basic_income_distribute(community=community) == []  # nothing left to pay


def _database_url() -> str:
    database = connection.settings_dict
    return f"postgresql://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"


def _wait_until_gone(pid: int) -> None:
    with connection.cursor() as cursor:
        for _ in range(100):
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone() == (0,):
                return
            time.sleep(0.05)
    raise AssertionError(f"backend {pid} did not end")
