"""The audit's paths agree: on clean and tampered books alike, an audit that takes the fast path
(``_well_formed``) wherever it can finds exactly what an audit that checks every entry the slow way
(``_check_entry``) finds, and the stretches between archives that the audit's processes walk find
something wherever one walk does (an audit whose stretches find anything walks the chain again in
one process, so what it reports is that walk's findings)."""

import pytest

from ledger import verification
from ledger.models import Archive, Entry
from ledger.verification import audit, audit_stretch, stretches, verify_live
from tests.ledger.test_audit import ARCHIVE_FIELDS, books, flipped

ENTRY_FIELDS = ["sealed", "record", "member_signature", "server_signature"]
SAMPLES = 6  # positions per field, spread over it; every byte has its own test in test_audit


def positions(value) -> range:
    size = len(value.encode() if isinstance(value, str) else bytes(value))
    return range(0, size, max(1, size // SAMPLES))


def slow_only(monkeypatch) -> None:
    monkeypatch.setattr(verification, "_well_formed", lambda *args: lambda row: False)


def found_by_stretches(community_id: int) -> list:
    """The stretches' findings, each stretch walked here as an audit process walks it."""
    return [finding for stretch in stretches(community_id) for finding in audit_stretch(*stretch)[0]]


def both_ways(community_id: int, monkeypatch, check=audit) -> tuple[list, list]:
    fast = check(community_id)
    with monkeypatch.context() as patch:
        slow_only(patch)
        slow = check(community_id)
    if check is audit:
        assert bool(found_by_stretches(community_id)) == bool(slow), "the stretches and the walk disagree"
    return fast, slow


@pytest.fixture
def community(db):
    return books(seed=3, payments=2)


def test_clean_books_agree(community, monkeypatch):
    for check in (audit, verify_live):
        assert both_ways(community.pk, monkeypatch, check) == ([], [])


def test_the_stretches_cover_every_entry_once_with_their_shared_archive_entries(community):
    cut = stretches(community.pk)
    checked = sum(audit_stretch(*stretch)[1] for stretch in cut)

    assert len(cut) == Archive.objects.filter(community=community).count() + 1 > 1
    assert checked == Entry.objects.filter(community=community).count() + len(cut) - 1


def test_the_slow_path_alone_is_used_when_the_fast_one_declines(community, monkeypatch):
    """Guards the test itself: with the fast path declining, the slow path sees every entry."""
    seen = []
    original = verification._check_entry
    monkeypatch.setattr(
        verification, "_check_entry", lambda walk, row, *rest: seen.append(row[0]) or original(walk, row, *rest)
    )
    slow_only(monkeypatch)

    assert audit(community.pk) == []
    assert sorted(seen) == sorted(Entry.objects.filter(community=community).values_list("receipt_id", flat=True))


@pytest.mark.parametrize("field", ENTRY_FIELDS)
def test_tampered_entries_give_the_same_findings_both_ways(community, monkeypatch, field):
    compared = 0
    for entry in Entry.objects.filter(community=community).order_by("receipt_id"):
        original = getattr(entry, field)
        for position in positions(original):
            Entry.objects.filter(pk=entry.pk).update(**{field: flipped(original, position)})
            fast, slow = both_ways(community.pk, monkeypatch)
            Entry.objects.filter(pk=entry.pk).update(**{field: original})
            assert fast == slow and fast, (entry.receipt_id, field, position)
            compared += 1
    assert compared > 0


def test_moved_and_missing_entries_give_the_same_findings_both_ways(community, monkeypatch):
    entries = list(Entry.objects.filter(community=community).order_by("receipt_id"))
    payment = next(e for e in entries if e.source_id and e.destination_id)
    Entry.objects.filter(pk=payment.pk).update(source=payment.destination_id, destination=payment.source_id)
    swapped = both_ways(community.pk, monkeypatch)
    Entry.objects.filter(pk=payment.pk).update(source=payment.source_id, destination=payment.destination_id)
    Entry.objects.filter(pk=entries[-2].pk).delete()
    missing = both_ways(community.pk, monkeypatch)

    for fast, slow in (swapped, missing):
        assert fast == slow and fast


@pytest.mark.parametrize("field", ARCHIVE_FIELDS)
def test_tampered_archives_give_the_same_findings_both_ways(community, monkeypatch, field):
    archive = Archive.objects.get(community=community)
    original = getattr(archive, field)
    for position in positions(original):
        Archive.objects.filter(pk=archive.pk).update(**{field: flipped(original, position)})
        fast, slow = both_ways(community.pk, monkeypatch)
        Archive.objects.filter(pk=archive.pk).update(**{field: original})
        assert fast == slow and fast, (field, position)


@pytest.mark.postgres
def test_a_long_chain_is_audited_in_processes_with_one_walks_findings(transactional_db, settings, monkeypatch):
    community = books(seed=5, payments=3)
    settings.LEDGER_AUDIT_PROCESSES, settings.LEDGER_AUDIT_PROCESSES_ABOVE = 2, 0
    spread_results = []
    spread = verification.processes.spread
    monkeypatch.setattr(
        verification.processes, "spread", lambda *a, **k: spread_results.append(spread(*a, **k)) or spread_results[-1]
    )
    seen = []

    assert audit(community.pk, progress=lambda checked, percent: seen.append(percent)) == []
    (results,) = spread_results
    assert results is not None and len(results) == 2 and seen[-1] == 100  # two processes' stretches, clean

    entry = Entry.objects.filter(community=community, receipt_id=1).get()
    Entry.objects.filter(pk=entry.pk).update(record=flipped(entry.record, 3))
    found = audit(community.pk)
    settings.LEDGER_AUDIT_PROCESSES = 1
    assert found == audit(community.pk) and found and spread_results[-1] is not None
