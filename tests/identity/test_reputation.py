"""Reputation arithmetic against the seed's rules, over random event sequences."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity import reputation_points as rep
from identity.reputation_points import Standing

EVENTS = {"mine": rep.mined, "ignore": rep.ignored, "decay": rep.decayed, "restore": rep.restored}


def model(events: list[str]) -> tuple[int, bool]:
    """The rules as written in the issue, step by step, with literal numbers."""
    balance, revoked = 100, False
    for event in events:
        if event == "mine":
            balance += 10
        elif event == "ignore":
            balance = balance - 15 if balance >= 15 else 0
            if balance < 1:
                revoked = True
        elif event == "decay" and balance > 100:
            balance = balance - 2 if balance - 2 >= 100 else 100
        elif event == "restore":
            balance, revoked = 100, False
    return balance, revoked


@given(st.lists(st.sampled_from(sorted(EVENTS)), max_size=200))
def test_random_sequences_follow_the_rules(events):
    standing = rep.REGISTERED
    for event in events:
        before = standing
        standing = EVENTS[event](standing)
        assert isinstance(standing.balance, int) and standing.balance >= rep.FLOOR
        assert EVENTS[event](before) == standing  # pure: same standing in, same standing out
        if event in ("mine", "decay"):
            assert standing.revoked == before.revoked  # only ignore revokes, only restore un-revokes
    assert (standing.balance, standing.revoked) == model(events)
    assert standing.authenticated is (not standing.revoked)


@given(st.integers(0, 10_000), st.booleans())
def test_decay_never_takes_a_balance_below_start(balance, revoked):
    after = rep.decayed(Standing(balance, revoked))
    expected = balance if balance <= 100 else max(100, balance - 2)
    assert after == Standing(expected, revoked)


def test_ignores_revoke_at_zero_and_floor_there():
    standing = rep.REGISTERED
    balances = []
    for _ in range(8):
        standing = rep.ignored(standing)
        balances.append((standing.balance, standing.revoked))
    assert balances == [(85, False), (70, False), (55, False), (40, False), (25, False), (10, False)] + [(0, True)] * 2
    assert not standing.authenticated


def test_balance_one_is_still_authenticated():
    standing = rep.ignored(Standing(16))
    assert standing == Standing(1, False) and standing.authenticated
    assert rep.ignored(standing) == Standing(0, True)


def test_revocation_sticks_until_restored():
    revoked = rep.ignored(Standing(5))
    assert revoked == Standing(0, True)
    for _ in range(20):
        revoked = rep.mined(revoked)
    assert revoked == Standing(200, True) and not revoked.authenticated
    assert rep.decayed(revoked) == Standing(198, True)
    assert rep.restored(revoked) == Standing(100, False)
    assert rep.restored(revoked, balance=40) == Standing(40, False)
    with pytest.raises(ValueError):
        rep.restored(revoked, balance=0)


def test_decay_ticks_down_to_start():
    standing = Standing(105)
    ticks = [standing := rep.decayed(standing) for _ in range(4)]
    assert ticks == [Standing(103), Standing(101), Standing(100), Standing(100)]
    assert rep.decayed(Standing(40)) == Standing(40)


def test_constants_and_start():
    assert Standing(100, False) == rep.REGISTERED
    constants = (rep.START, rep.MINE_REWARD, rep.IGNORE_PENALTY, rep.DECAY, rep.FLOOR, rep.AUTH_THRESHOLD)
    assert constants == (100, 10, 15, 2, 0, 1)
    with pytest.raises(AttributeError):
        rep.REGISTERED.balance = 5
