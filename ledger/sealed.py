"""Reading the sealed books: entry lines and archive states opened with the community's ledger key."""

import hashlib

from django.db.models import Q

from core.crypto import sealing
from ledger import crypto, formats
from ledger.models import Archive, Entry, SealingKey


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
        sealing.unseal(ciphers[key], bytes(sealed), crypto.position(community_id, receipt_id)).decode()
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
    return sealing.unseal(
        ciphers[archive.sealing_key_id],
        bytes(archive.sealed_state),
        crypto.position(archive.community_id, archive.segment, "state"),
    )
