"""Who signs receipts, and this process's sealing keys; private keys are kept in memory once opened."""

import os
import threading
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import transaction

from core.crypto import server as server_keys
from identity import keys as identity_keys
from identity.models import IdentityKey
from identity.selectors import receipt_keys_in_force
from ledger import crypto, names
from ledger.models import AccountKey, SealingKey
from ledger.names import account_members

_lock = threading.Lock()
_private_keys: dict[int, ec.EllipticCurvePrivateKey] = {}  # accounts' own keys, by account
_receipt_keys: dict[int, ec.EllipticCurvePrivateKey] = {}  # members' receipt keys, by identity key
_sealers: dict[tuple[int, int], tuple[int, AESGCM]] = {}  # (pid, community) -> (SealingKey id, cipher)


def account_keys_create(account_ids: list[int]) -> None:
    """Give these accounts a signing key where they have none (a concurrent creator may win: fine)."""
    missing = set(account_ids) - set(AccountKey.objects.filter(account_id__in=account_ids).values_list("pk", flat=True))
    keys = []
    for account_id in sorted(missing):
        public, sealed = crypto.new_account_key(account_id)
        keys.append(AccountKey(account_id=account_id, public_key=public, sealed_private_key=sealed))
    AccountKey.objects.bulk_create(keys, ignore_conflicts=True)


@dataclass(frozen=True)
class Signer:
    """Who signs an account's receipts: its member's receipt key (``identity_key_id`` names the identity
    key that certified it) or, for an account without one, the account's own key."""

    private: ec.EllipticCurvePrivateKey
    identity_key_id: int | None


def _account_private_keys(account_ids: set[int]) -> dict[int, ec.EllipticCurvePrivateKey]:
    """The accounts' own signing keys (made now for accounts that have none)."""
    wanted = account_ids - _private_keys.keys()
    if not wanted:
        return {pk: _private_keys[pk] for pk in account_ids}
    account_keys_create(list(wanted))
    opened = {
        pk: crypto.open_account_key(pk, bytes(sealed))
        for pk, sealed in AccountKey.objects.filter(account_id__in=wanted).values_list("pk", "sealed_private_key")
    }
    # Only keys that committed may outlive this transaction in memory.
    transaction.on_commit(lambda: _private_keys.update(opened))
    return {pk: _private_keys.get(pk) or opened[pk] for pk in account_ids}


def _receipt_private_key(key: IdentityKey) -> ec.EllipticCurvePrivateKey:
    private = _receipt_keys.get(key.pk)
    if private is None:
        label = identity_keys.receipt_key_label(key.receipt_public_key)
        private = server_keys.open_by_server(key.sealed_receipt_key, label)
        transaction.on_commit(lambda: _receipt_keys.setdefault(key.pk, private))
    return private


def signers(account_ids: set[int], *, at: datetime) -> dict[int, Signer]:
    """Who signs each account's receipts at ``at``: the receipt key of the member's identity key in force."""
    members = account_members(account_ids)
    in_force = receipt_keys_in_force(member_ids={m for m in members.values() if m is not None}, at=at)
    found = {
        account_id: Signer(_receipt_private_key(in_force[member_id]), in_force[member_id].pk)
        for account_id, member_id in members.items()
        if member_id in in_force
    }
    rest = account_ids - found.keys()
    own = _account_private_keys(rest) if rest else {}
    return found | {account_id: Signer(private, None) for account_id, private in own.items()}


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
        _receipt_keys.clear()
        _sealers.clear()
        names.forget()
