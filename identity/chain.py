"""This instance's identity chain: register, mine, ignore, decay and restore events in hash-linked blocks.

A block's hash is SHA-256 over the canonical JSON of its index, previous hash, events and creation time
(`block_hash`); the server signs the 32 bytes of that hash with its Ed25519 key. The genesis block's
previous hash is 64 zeros. Anyone holding the blocks and the server's public key can verify the chain
from genesis (`chain_verify`); federation replicates it.
"""

import hashlib
import json
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from core.crypto import server as keys
from core.crypto.signatures import server_signature_valid
from identity.models import Block, Identity, IdentityKey

GENESIS = "0" * 64
# pg_advisory_xact_lock key that serializes appends (any constant no other lock uses: "idchain" in ASCII).
_APPEND_LOCK = int.from_bytes(b"idchain", "big")


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def block_hash(*, index: int, previous_hash: str, events: list[dict], created_at: datetime) -> str:
    """SHA-256, hex, of the block's canonical JSON (sorted keys, no spaces, UTF-8)."""
    body = {"index": index, "previous_hash": previous_hash, "events": events, "created_at": _timestamp(created_at)}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def events_for(kind: str, identities: list[Identity], **extra) -> list[dict]:
    """One event of ``kind`` per identity: its key in force now, its community, its standing after the change."""
    now = timezone.now()
    pubkeys = dict(
        IdentityKey.objects.filter(identity__in=identities, effective_from__lte=now)
        .order_by("identity_id", "effective_from")
        .values_list("identity_id", "public_key")
    )  # the latest effective key of each identity wins
    return [
        {
            "type": kind,
            "pubkey": pubkeys.get(identity.pk, ""),
            "community": identity.member.community.slug,
            "balance": identity.balance,
            "revoked": identity.revoked,
            **extra,
        }
        for identity in identities
    ]


def _lock_appends() -> None:
    """Serialize appends until the transaction ends. Locking the latest block row would not do: two
    first appends find no row to lock and would both write index 0. SQLite serializes writers itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_APPEND_LOCK])


@transaction.atomic
def chain_record(events: list[dict]) -> Block:
    """Append one block holding ``events``. Called inside the transaction that makes the change the
    events describe, so the block commits with it or not at all; call it last, after row locks, so
    every caller takes the chain lock at the same point and none waits on another in a cycle."""
    _lock_appends()
    last = Block.objects.order_by("-index").only("index", "block_hash").first()
    index, previous = (0, GENESIS) if last is None else (last.index + 1, last.block_hash)
    created_at = timezone.now()
    digest = block_hash(index=index, previous_hash=previous, events=events, created_at=created_at)
    return Block.objects.create(
        index=index,
        previous_hash=previous,
        events=events,
        block_hash=digest,
        signature=keys.server_sign(bytes.fromhex(digest)).hex(),
        created_at=created_at,
    )


def chain_verify() -> list[str]:
    """What is wrong with the chain, from genesis: gaps, broken links, wrong hashes, bad signatures."""
    problems: list[str] = []
    public_key = keys.server_public_key_hex()
    expected_index, previous = 0, GENESIS
    for block in Block.objects.order_by("index").iterator():
        name = f"block {block.index}"
        if block.index != expected_index:
            problems.append(f"{name}: expected index {expected_index}")
        if block.previous_hash != previous:
            problems.append(f"{name}: previous hash does not match the hash of the block before")
        digest = block_hash(
            index=block.index, previous_hash=block.previous_hash, events=block.events, created_at=block.created_at
        )
        if digest != block.block_hash:
            problems.append(f"{name}: its hash does not match its contents")
        try:
            signature = bytes.fromhex(block.signature)
        except ValueError:
            signature = b""
        if not server_signature_valid(public_key, signature, bytes.fromhex(digest)):
            problems.append(f"{name}: the server's signature does not verify")
        expected_index, previous = block.index + 1, block.block_hash
    return problems
