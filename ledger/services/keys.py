"""Accounts' signing keys and this process's sealing keys, created on first use and kept in memory."""

import os
import threading

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import transaction

from ledger import crypto
from ledger.models import AccountKey, SealingKey
from trust.models import Account

_lock = threading.Lock()
_private_keys: dict[int, ec.EllipticCurvePrivateKey] = {}
_sealers: dict[tuple[int, int], tuple[int, AESGCM]] = {}  # (pid, community) -> (SealingKey id, cipher)
_names: dict[int, str] = {}


def account_keys_create(account_ids: list[int]) -> None:
    """Give these accounts a signing key where they have none (a concurrent creator may win: fine)."""
    missing = set(account_ids) - set(AccountKey.objects.filter(account_id__in=account_ids).values_list("pk", flat=True))
    keys = []
    for account_id in sorted(missing):
        public, sealed = crypto.new_account_key(account_id)
        keys.append(AccountKey(account_id=account_id, public_key=public, sealed_private_key=sealed))
    AccountKey.objects.bulk_create(keys, ignore_conflicts=True)


def signing_keys(account_ids: set[int]) -> dict[int, ec.EllipticCurvePrivateKey]:
    """The private signing keys of these accounts (made now for accounts that have none)."""
    wanted = account_ids - _private_keys.keys()
    if wanted:
        account_keys_create(list(wanted))
        opened = {
            pk: crypto.open_account_key(pk, bytes(sealed))
            for pk, sealed in AccountKey.objects.filter(account_id__in=wanted).values_list("pk", "sealed_private_key")
        }
        # Only keys that committed may outlive this transaction in memory.
        transaction.on_commit(lambda: _private_keys.update(opened))
        return {pk: _private_keys.get(pk) or opened[pk] for pk in account_ids}
    return {pk: _private_keys[pk] for pk in account_ids}


def public_keys(account_ids: set[int]) -> dict[int, str]:
    return dict(AccountKey.objects.filter(account_id__in=account_ids).values_list("pk", "public_key"))


def sealer(community_id: int) -> tuple[int, AESGCM]:
    """This process's sealing key for the community: ``(SealingKey id, cipher)``."""
    key = (os.getpid(), community_id)
    found = _sealers.get(key)
    if found is None:
        ephemeral_public, cipher = crypto.new_sealer(community_id)
        row = SealingKey.objects.create(community_id=community_id, ephemeral_public_key=ephemeral_public)
        found = (row.pk, cipher)
        transaction.on_commit(lambda: _sealers.setdefault(key, found))
    return found


def forget() -> None:
    """Drop the keys kept in memory (tests that change the server key)."""
    with _lock:
        _private_keys.clear()
        _sealers.clear()
        _names.clear()


def account_names(account_ids: set[int]) -> dict[int, str]:
    """The names accounts have in the books: ``handle@slug``, or ``commons@slug`` (they never change)."""
    wanted = account_ids - _names.keys()
    if wanted:
        rows = Account.objects.filter(pk__in=wanted).values_list("pk", "member__handle", "community__slug")
        _names.update({pk: f"{handle or 'commons'}@{slug}" for pk, handle, slug in rows})
    return {pk: _names[pk] for pk in account_ids}
