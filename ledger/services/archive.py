"""Closing a live segment into an archive: state snapshot, merkle root, archive hash, archive entry."""

import hashlib

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ledger import crypto, formats
from ledger.models import Archive, Entry, Head, SealingKey
from ledger.services.append import Movement, append, head_save, locked_head
from ledger.services.keys import sealer


def archive_hash(*, segment: int, first: int, last: int, ledger_hash: str, merkle_root: str, state: str) -> str:
    return hashlib.sha256(f"{segment}|{first}|{last}|{ledger_hash}|{merkle_root}|{state}".encode()).hexdigest()


def openers(community_id: int) -> dict[int, "crypto.AESGCM"]:
    """Ciphers opening everything written for the community, by ``SealingKey`` id."""
    return {
        pk: crypto.opener(community_id, bytes(public))
        for pk, public in SealingKey.objects.filter(community_id=community_id).values_list("pk", "ephemeral_public_key")
    }


def segment_lines(community_id: int, segment: int, ciphers: dict, *, account_id: int | None = None) -> list[str]:
    """The segment's entry lines in order (only ``account_id``'s, when given), opened (raises
    ``InvalidTag`` on a changed entry)."""
    rows = Entry.objects.filter(community_id=community_id, segment=segment).order_by("receipt_id")
    if account_id is not None:
        rows = rows.filter(Q(source_id=account_id) | Q(destination_id=account_id))
    return [
        crypto.unseal(ciphers[key], bytes(sealed), crypto.position(community_id, receipt_id)).decode()
        for receipt_id, key, sealed in rows.values_list("receipt_id", "sealing_key_id", "sealed").iterator(2000)
    ]


def state_after(community_id: int, segment: int, ciphers: dict) -> formats.State:
    """Every line's balance at the end of ``segment``, from the previous archive's state and the segment."""
    state: formats.State = {}
    previous = Archive.objects.filter(community_id=community_id, segment=segment - 1).first()
    if previous is not None:
        state = formats.parse_state(open_state(previous, ciphers).decode())
    for line in segment_lines(community_id, segment, ciphers):
        entry = formats.parse_entry(line)
        if entry.type != Entry.Type.ARCHIVE:
            formats.state_move(state, entry.source, entry.destination, formats.amount_micro(entry.amount))
    return state


def open_state(archive: Archive, ciphers: dict) -> bytes:
    return crypto.unseal(
        ciphers[archive.sealing_key_id], bytes(archive.sealed_state), crypto.position(archive.community_id, archive.segment, "state")
    )


def archive_if_due(*, community_id: int) -> int | None:
    with transaction.atomic():
        head = locked_head(community_id)
        if head.live_length < settings.LEDGER_ARCHIVE_LENGTH:
            return None
        return _archive(head)


def archive_now(*, community_id: int) -> int | None:
    """Close the live segment whatever its length (admins); None when it is empty."""
    with transaction.atomic():
        head = locked_head(community_id)
        return _archive(head) if head.live_length else None


def _archive(head: Head) -> int:
    community_id, segment = head.community_id, head.segment
    ciphers = openers(community_id)
    lines = segment_lines(community_id, segment, ciphers)
    state = formats.state_text(state_after(community_id, segment, ciphers))
    root = formats.merkle_root([bytes.fromhex(formats.parse_entry(line).ledger_hash) for line in lines])
    first, last = head.next_receipt_id - len(lines), head.next_receipt_id - 1
    digest = archive_hash(segment=segment, first=first, last=last, ledger_hash=head.ledger_hash, merkle_root=root, state=state)
    sealing_key_id, cipher = sealer(community_id)
    Archive.objects.create(
        community_id=community_id, segment=segment, first_receipt_id=first, last_receipt_id=last,
        ledger_hash=head.ledger_hash, merkle_root=root, archive_hash=digest, sealing_key_id=sealing_key_id,
        sealed_state=crypto.seal(cipher, state.encode(), crypto.position(community_id, segment, "state")),
    )
    head.segment, head.live_length = segment + 1, 0
    head_save(head)
    append(community_id, [Movement(Entry.Type.ARCHIVE, None, None, 0, receipt_hash=digest)], at=timezone.now())
    return segment
