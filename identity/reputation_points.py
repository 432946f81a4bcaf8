"""Reputation points (Anonity's "balance" of an identity), in whole integers; the credit score is ``identity.credit``.

- A new identity starts at ``START`` (100).
- ``mined``: a solved challenge adds ``MINE_REWARD`` (10).
- ``ignored``: an expired, unanswered challenge takes ``IGNORE_PENALTY`` (15), never below ``FLOOR`` (0);
  if the balance is then below ``AUTH_THRESHOLD`` (1, so: at 0) the identity is revoked.
- ``decayed``: one hourly tick lowers a balance above ``START`` by ``DECAY``, never below ``START``; it
  never touches balances at or below ``START`` (soft decay: absence alone never revokes).
- Revocation sticks: mining and decay change the balance of a revoked identity but do not un-revoke
  it (the seed: "permanently denied until manual review"); only ``restored`` (an admin's review) does.

Only ignoring can revoke; balances are never negative.
"""

from dataclasses import dataclass, replace

START = 100
MINE_REWARD = 10
IGNORE_PENALTY = 15
DECAY = 2
FLOOR = 0
AUTH_THRESHOLD = 1


@dataclass(frozen=True)
class Standing:
    balance: int
    revoked: bool = False

    @property
    def authenticated(self) -> bool:
        """May this identity sign in and use the API."""
        return not self.revoked and self.balance >= AUTH_THRESHOLD


REGISTERED = Standing(balance=START)


def mined(s: Standing) -> Standing:
    return replace(s, balance=s.balance + MINE_REWARD)


def ignored(s: Standing) -> Standing:
    balance = max(FLOOR, s.balance - IGNORE_PENALTY)
    return Standing(balance=balance, revoked=s.revoked or balance < AUTH_THRESHOLD)


def decayed(s: Standing) -> Standing:
    """One hourly tick of soft decay."""
    if s.balance <= START:
        return s
    return replace(s, balance=max(START, s.balance - DECAY))


def restored(s: Standing, balance: int = START) -> Standing:
    """An admin's review: the identity is reinstated at ``balance`` (at least ``AUTH_THRESHOLD``)."""
    if balance < AUTH_THRESHOLD:
        raise ValueError(f"A restored identity has a balance of at least {AUTH_THRESHOLD}.")
    return Standing(balance=balance, revoked=False)
