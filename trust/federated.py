"""The way to accounts on other instances. ``federation`` registers itself here when it is installed, so
``trust`` reaches remote accounts without importing the app above it."""

from typing import Protocol

from bank.models import Member
from trust.models import Account


class Counterparts(Protocol):
    def remote_account(self, *, member: Member, handle: str, server: str, create: bool) -> Account:
        """The account standing here for ``handle@server``; raises an ``ApplicationError`` (``server_not_found``,
        ``account_not_found``, ``address_too_long``) when there is none (``create``: open it when needed)."""

    def sync_state(self, *, member_account: Account, remote: Account) -> str:
        """``ok``, or ``pending`` while the other instance has not acknowledged the last change of their line."""


_registered: list[Counterparts] = []


def register(counterparts: Counterparts) -> None:
    _registered[:] = [counterparts]


def counterparts() -> Counterparts | None:
    return _registered[0] if _registered else None
