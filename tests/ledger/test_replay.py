"""Replaying the ledger gives every trustline's balance, after random money histories and archives.

The money core's state machine (tests/trust/test_properties.py) drives payments, status changes,
requests, basic income and trust changes; this one adds archives at random points and, with a
short ``LEDGER_ARCHIVE_LENGTH``, archives by the task at commit too. After every step the books
are replayed two ways: from the last archive's state (``ledger_state``) and from genesis through
every segment, checking each archive's sealed state on the way.
"""

import pytest
from django.test import override_settings
from hypothesis import event, settings
from hypothesis.stateful import invariant, rule, run_state_machine_as_test

from ledger import formats
from ledger.models import Archive, Entry, Head
from ledger.replay import ledger_state, trustline_state
from ledger.sealed import open_state, openers, segment_lines
from ledger.services.archive import archive_now
from tests.trust.test_properties import MoneyMachine

ARCHIVE_LENGTH = 9  # the task archives too, every few payments


def replay_from_genesis(community_id: int) -> formats.State:
    """Every entry of every segment replayed; each archive's state must be the replay up to it."""
    ciphers, state = openers(community_id), {}
    head = Head.objects.get(community_id=community_id)
    archives = {archive.segment: archive for archive in Archive.objects.filter(community_id=community_id)}
    assert sorted(archives) == list(range(head.segment)), "an archive is missing"
    for segment in range(head.segment + 1):
        for line in segment_lines(community_id, segment, ciphers):
            entry = formats.parse_entry(line)
            if entry.type != Entry.Type.ARCHIVE:
                formats.state_move(state, entry.source, entry.destination, formats.amount_micro(entry.amount))
        if segment in archives:
            snapshot = formats.parse_state(open_state(archives[segment], ciphers).decode())
            assert snapshot == {pair: amount for pair, amount in state.items() if amount}, f"archive {segment}"
    return {pair: amount for pair, amount in state.items() if amount}


class LedgerMachine(MoneyMachine):
    @rule()
    def archive(self):
        segment = archive_now(community_id=self.community.pk)
        event("archived" if segment is not None else "nothing to archive")

    @invariant()
    def ledger_agrees(self):
        if not hasattr(self, "community"):
            return
        community_id = self.community.pk
        receipt_ids = list(
            Entry.objects.filter(community_id=community_id).order_by("receipt_id").values_list("receipt_id", flat=True)
        )
        assert receipt_ids == list(range(len(receipt_ids))), "receipt ids have a gap"
        balances = trustline_state(community_id)
        assert ledger_state(community_id) == balances
        if receipt_ids:
            head = Head.objects.get(community_id=community_id)
            assert head.next_receipt_id == len(receipt_ids)
            assert replay_from_genesis(community_id) == balances


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@override_settings(LEDGER_ARCHIVE_LENGTH=ARCHIVE_LENGTH)
def test_replaying_the_ledger_gives_every_balance():
    run_state_machine_as_test(LedgerMachine, settings=settings(max_examples=30, stateful_step_count=30, deadline=None))
