"""Receivers of other apps' signals."""

from ledger.services.keys import account_keys_create
from trust.models import Account


def give_signing_key(*, member, **_) -> None:
    """A new member's account gets its receipt-signing key at registration."""
    account_keys_create(list(Account.objects.filter(member=member).values_list("pk", flat=True)))
