"""Who signs receipts, and this process's sealing keys; private keys are kept in memory once opened."""

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import transaction

from identity import keys as identity_keys
from identity.models import IdentityKey
from identity.selectors import receipt_keys_in_force
from ledger import crypto
from ledger.models import AccountKey, SealingKey
from trust.models import Account

_lock = threading.Lock()
_private_keys: dict[int, ec.EllipticCurvePrivateKey] = {}  # accounts' own keys, by account
_receipt_keys: dict[int, ec.EllipticCurvePrivateKey] = {}  # members' receipt keys, by identity key
_sealers: dict[tuple[int, int], tuple[int, AESGCM]] = {}  # (pid, community) -> (SealingKey id, cipher)
_names: dict[int, str] = {}
_members: dict[int, int | None] = {}


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


@dataclass(frozen=True)
class SigningKey:
    """The public side of a receipt's signer, as receipts show it."""

    public_key: str
    identity_public_key: str = ""
    certificate: bytes = b""


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
        private = identity_keys.open_by_server(key.sealed_receipt_key, label)
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
        AccountKey.objects.filter(account_id__in={source for source, key in entries if key is None})
        .values_list("pk", "public_key")
    )
    return {
        (source, key): by_identity_key[key] if key is not None else SigningKey(own.get(source, ""))
        for source, key in entries
    }


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
        _names.clear()
        _members.clear()


def account_names(account_ids: set[int]) -> dict[int, str]:
    """The names accounts have in the books: ``handle@slug``, or ``commons@slug`` (they never change)."""
    _learn(account_ids)
    return {pk: _names[pk] for pk in account_ids}


def account_members(account_ids: set[int]) -> dict[int, int | None]:
    """The member of each account (None: the commons)."""
    _learn(account_ids)
    return {pk: _members[pk] for pk in account_ids}


def _learn(account_ids: set[int]) -> None:
    wanted = account_ids - _names.keys()
    if wanted:
        rows = Account.objects.filter(pk__in=wanted).values_list("pk", "member_id", "member__handle", "community__slug")
        _names.update({pk: f"{handle or 'commons'}@{slug}" for pk, _, handle, slug in rows})
        _members.update({pk: member_id for pk, member_id, _, _ in rows})
