"""Closing a live segment into an archive: state snapshot, merkle root, archive hash, archive entry."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.crypto import sealing
from ledger import crypto, formats
from ledger.models import Archive, Entry, Head
from ledger.sealed import archive_hash, openers, segment_lines, state_after
from ledger.services.append import Movement, append, head_save, locked_head
from ledger.services.keys import sealer


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
    digest = archive_hash(
        segment=segment, first=first, last=last, ledger_hash=head.ledger_hash, merkle_root=root, state=state
    )
    sealing_key_id, cipher = sealer(community_id)
    Archive.objects.create(
        community_id=community_id,
        segment=segment,
        first_receipt_id=first,
        last_receipt_id=last,
        ledger_hash=head.ledger_hash,
        merkle_root=root,
        archive_hash=digest,
        sealing_key_id=sealing_key_id,
        sealed_state=sealing.seal(cipher, state.encode(), crypto.position(community_id, segment, "state")),
    )
    head.segment, head.live_length = segment + 1, 0
    head_save(head)
    append(community_id, [Movement(Entry.Type.ARCHIVE, None, None, 0, receipt_hash=digest)], at=timezone.now())
    return segment
