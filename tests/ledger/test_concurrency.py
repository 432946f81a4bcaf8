"""The chain under concurrency on PostgreSQL: threads pay over shared trustlines while archives close segments.

Appends serialize on the locked chain head, so however the payments interleave the chain must come
out as one: receipt ids 0..n-1, each entry hashed onto the one before, the head on the last, and
the books replaying to the balances.
"""

import pytest

from ledger import formats
from ledger.models import Archive, Entry, Head
from ledger.replay import ledger_state, trustline_state
from ledger.sealed import openers, segment_lines
from tests.trust.test_concurrency import in_threads, random_traffic, retries, ring  # noqa: F401 - fixtures
from trust.models import PaymentLeg

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ARCHIVE_LENGTH = 40  # several archives during the run (each thread's task archives at its commit)


def opened_chain(community_id: int) -> list[formats.Entry]:
    """Every entry of every segment, opened, in receipt order."""
    head = Head.objects.get(community_id=community_id)
    ciphers = openers(community_id)
    return [
        formats.parse_entry(line)
        for segment in range(head.segment + 1)
        for line in segment_lines(community_id, segment, ciphers)
    ]


def test_parallel_payments_make_one_unbroken_chain(ring, retries, settings):  # noqa: F811 - fixtures
    settings.LEDGER_ARCHIVE_LENGTH = ARCHIVE_LENGTH
    community_id = ring[0].community_id

    outcome = in_threads(random_traffic(ring, status_changes=True))

    assert outcome["paid"] >= 40 and outcome["declined"] and outcome["accepted"], outcome
    stored = list(
        Entry.objects.filter(community_id=community_id).order_by("receipt_id").values_list("receipt_id", flat=True)
    )
    assert stored == list(range(len(stored))), "a receipt id is missing or taken twice"

    entries = opened_chain(community_id)
    assert [entry.receipt_id for entry in entries] == stored  # every entry sits in its segment, in order
    previous = formats.GENESIS
    for entry in entries:
        expected = formats.chain_hash(
            previous,
            entry.type,
            entry.utc,
            entry.source,
            entry.destination,
            entry.amount,
            entry.receipt_id,
            entry.receipt_hash,
        )
        assert entry.ledger_hash == expected, f"entry {entry.receipt_id} does not chain onto the one before"
        previous = entry.ledger_hash
    head = Head.objects.get(community_id=community_id)
    assert (head.next_receipt_id, head.ledger_hash) == (len(entries), entries[-1].ledger_hash)

    archives = list(Archive.objects.filter(community_id=community_id).order_by("segment"))
    assert len(archives) >= 2 and [a.segment for a in archives] == list(range(head.segment))
    for archive in archives:
        assert entries[archive.last_receipt_id].ledger_hash == archive.ledger_hash
        opening = entries[archive.last_receipt_id + 1]
        assert (opening.type, opening.receipt_hash) == (Entry.Type.ARCHIVE, archive.archive_hash)
    payments = [entry for entry in entries if entry.type != Entry.Type.ARCHIVE]
    assert len(payments) == PaymentLeg.objects.filter(payment__community_id=community_id).count()
    assert ledger_state(community_id) == trustline_state(community_id) != {}
    assert not retries, f"the head is locked after the trustlines, always: nothing to retry, got {retries}"
