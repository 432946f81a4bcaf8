"""Who the books name: accounts' names and members, and the public keys that signed receipts.

Account names never change, so they are kept in memory once read.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from identity.models import IdentityKey
from ledger.models import AccountKey
from trust.models import Account

_names: dict[int, str] = {}
_members: dict[int, int | None] = {}


@dataclass(frozen=True)
class SigningKey:
    """The public side of a receipt's signer, as receipts show it."""

    public_key: str
    identity_public_key: str = ""
    certificate: bytes = b""


def signing_keys(entries: Iterable[tuple[int, int | None]]) -> dict[tuple[int, int | None], SigningKey]:
    """The public keys that signed entries' receipts, by ``(source_id, receipt_key_id)``."""
    entries = set(entries)
    by_identity_key = {
        pk: SigningKey(receipt, identity, bytes(certificate))
        for pk, receipt, identity, certificate in IdentityKey.objects.filter(
            pk__in={key for _, key in entries if key is not None}
        ).values_list("pk", "receipt_public_key", "public_key", "receipt_certificate")
    }
    own = dict(
        AccountKey.objects.filter(account_id__in={source for source, key in entries if key is None}).values_list(
            "pk", "public_key"
        )
    )
    return {
        (source, key): by_identity_key[key] if key is not None else SigningKey(own.get(source, ""))
        for source, key in entries
    }


def account_names(account_ids: set[int]) -> dict[int, str]:
    """The names accounts have in the books: ``handle@slug``, ``commons@slug``, or a remote account's own
    ``handle@host`` (they never change)."""
    _learn(account_ids)
    return {pk: _names[pk] for pk in account_ids}


def account_members(account_ids: set[int]) -> dict[int, int | None]:
    """The member of each account (None: the commons)."""
    _learn(account_ids)
    return {pk: _members[pk] for pk in account_ids}


def _learn(account_ids: set[int]) -> None:
    wanted = account_ids - _names.keys()
    if wanted:
        rows = Account.objects.filter(pk__in=wanted).values_list(
            "pk", "member_id", "member__handle", "community__slug", "address"
        )
        _names.update({pk: address or f"{handle or 'commons'}@{slug}" for pk, _, handle, slug, address in rows})
        _members.update({pk: member_id for pk, member_id, *_ in rows})


def forget() -> None:
    _names.clear()
    _members.clear()
