"""The audit finds every single-byte change to what the books store, and names the entry or archive."""

import random
from decimal import Decimal

import pytest

from ledger.models import Archive, Entry, Head
from ledger.services.archive import archive_now
from ledger.verification import Receipt, audit, receipt_check, verify_live
from tests.trust.factories import community_with_commons, member_account, trust
from trust.services.payments import payment_change_status, payment_send

UNIT = 1_000_000
ARCHIVE_FIELDS = ["sealed_state", "merkle_root", "archive_hash", "ledger_hash"]


def books(seed: int = 0, payments: int = 2):
    """A community with payments, a refund and an archive in the middle of its history."""
    rng = random.Random(seed)
    community = community_with_commons(minimum_trust_index=Decimal("0.01"))
    a, b, c = (member_account(community, handle) for handle in "abc")
    trust(b, a, 100 * UNIT)
    trust(c, b, 100 * UNIT)
    first = payment_send(payer=a, payee=c, amount=rng.randint(1, 5) * UNIT)
    payment_change_status(payment=first, account=c, action="accept")
    archive_now(community_id=community.pk)
    payment_change_status(payment=first, account=c, action="refund")
    for _ in range(payments - 1):
        payment_send(payer=a, payee=rng.choice([b, c]), amount=rng.randint(1, 3 * UNIT))
    return community


def flipped(value, position: int):
    """``value`` (bytes or an ASCII str) with its byte at ``position`` XOR 0x01."""
    raw = bytearray(value.encode() if isinstance(value, str) else bytes(value))
    raw[position] ^= 0x01
    return raw.decode() if isinstance(value, str) else bytes(raw)


def tampered(model, pk: int, field: str, position: int) -> list:
    """Audit findings with one byte of one stored field changed (restored afterwards)."""
    original = model.objects.values_list(field, flat=True).get(pk=pk)
    model.objects.filter(pk=pk).update(**{field: flipped(original, position)})
    try:
        return audit(model.objects.get(pk=pk).community_id)
    finally:
        model.objects.filter(pk=pk).update(**{field: original})


def assert_names_entry(findings: list, receipt_id: int) -> None:
    assert findings, f"a change to receipt {receipt_id} went unnoticed"
    assert {f.receipt_id for f in findings} == {receipt_id}, findings


def assert_names_segment(findings: list, segment: int) -> None:
    assert findings, f"a change to archive {segment} went unnoticed"
    assert all(f.segment == segment for f in findings), findings


@pytest.fixture
def small(db):
    return books(payments=1)


def test_clean_books_with_payments_refunds_and_an_archive_audit_clean(small):
    assert Archive.objects.filter(community=small).count() == 1
    assert Entry.objects.filter(community=small, record__startswith="refund|").exists()
    assert audit(small.pk) == [] and verify_live(small.pk) == []


def test_progress_is_reported_up_to_100_percent(small, monkeypatch):
    monkeypatch.setattr("ledger.verification.PROGRESS_EVERY", 2)
    seen = []
    audit(small.pk, progress=lambda checked, percent: seen.append((checked, percent)))
    total = Entry.objects.filter(community=small).count()
    assert seen[-1] == (total, 100) and seen[0] == (2, 2 * 100 // total)


@pytest.mark.slow
def test_every_single_byte_change_to_an_entry_or_record_is_found_and_named(small):
    for entry in Entry.objects.filter(community=small).order_by("receipt_id"):
        for field in ("sealed", "record"):
            for position in range(len(bytes(entry.sealed)) if field == "sealed" else len(entry.record)):
                assert_names_entry(tampered(Entry, entry.pk, field, position), entry.receipt_id)


def test_every_single_byte_change_to_a_stored_signature_is_found(small):
    entry = Entry.objects.filter(community=small).exclude(member_signature=b"").first()
    for field in ("member_signature", "server_signature"):
        for position in range(len(bytes(getattr(entry, field)))):
            assert_names_entry(tampered(Entry, entry.pk, field, position), entry.receipt_id)


def test_every_single_byte_change_to_an_archive_is_found_and_names_its_segment(small):
    archive = Archive.objects.get(community=small)
    for field in ARCHIVE_FIELDS:
        value = getattr(archive, field)
        for position in range(len(bytes(value)) if field == "sealed_state" else len(value)):
            assert_names_segment(tampered(Archive, archive.pk, field, position), archive.segment)


@pytest.mark.parametrize("seed", range(4))
def test_sampled_changes_across_random_histories(db, seed):
    community = books(seed=seed, payments=3 + seed)
    rng = random.Random(seed)
    entries = list(Entry.objects.filter(community=community))
    for _ in range(12):
        entry = rng.choice(entries)
        field = rng.choice(["sealed", "record"])
        size = len(bytes(entry.sealed)) if field == "sealed" else len(entry.record)
        assert_names_entry(tampered(Entry, entry.pk, field, rng.randrange(size)), entry.receipt_id)
    archive = Archive.objects.get(community=community)
    field = rng.choice(ARCHIVE_FIELDS)
    value = getattr(archive, field)
    size = len(bytes(value)) if field == "sealed_state" else len(value)
    assert_names_segment(tampered(Archive, archive.pk, field, rng.randrange(size)), archive.segment)


def test_a_changed_head_is_found(small):
    head = Head.objects.get(community=small)
    for field in ("ledger_hash", "mac"):
        codes = {f.code for f in tampered(Head, head.pk, field, 5)}
        assert "head_mac_invalid" in codes
    Head.objects.filter(pk=head.pk).update(live_length=head.live_length + 1)
    assert {f.code for f in audit(small.pk)} == {"head_mismatch", "head_mac_invalid"}


def test_a_deleted_entry_is_a_gap(small):
    Entry.objects.filter(community=small, receipt_id=1).delete()
    findings = audit(small.pk)
    assert findings[0].code == "gap" and findings[0].receipt_id == 1


def test_the_live_check_reads_only_the_live_segment(small):
    archive = Archive.objects.get(community=small)
    Entry.objects.filter(community=small, receipt_id=0).update(record="changed")
    assert verify_live(small.pk) == []
    assert [f.receipt_id for f in audit(small.pk)] == [0]
    live = Entry.objects.get(community=small, receipt_id=archive.last_receipt_id + 2)
    Entry.objects.filter(pk=live.pk).update(record=flipped(live.record, 0))
    assert [f.receipt_id for f in verify_live(small.pk)] == [live.receipt_id]


def receipt_of(entry: Entry) -> Receipt:
    previous = Entry.objects.get(community_id=entry.community_id, receipt_id=entry.receipt_id - 1).record.split("|")[4]
    _, utc, rid, amount, _, _ = entry.record.split("|")
    source, destination = (
        f"{account.member.handle if account.member_id else 'commons'}@{account.community.slug}"
        for account in (entry.source, entry.destination)
    )
    text = f"{utc}|{source}|{destination}|{amount}|{previous}|{rid}"
    return Receipt(text, bytes(entry.member_signature), bytes(entry.server_signature))


def test_a_true_receipt_verifies_and_every_single_byte_change_to_it_is_found(small):
    entry = Entry.objects.filter(community=small).exclude(member_signature=b"").order_by("-receipt_id").first()
    receipt = receipt_of(entry)
    assert receipt_check(small.pk, receipt) == []
    for field in ("text", "member_signature", "server_signature"):
        value = getattr(receipt, field)
        for position in range(len(value)):
            changed = Receipt(**{**receipt.__dict__, field: flipped(value, position)})
            assert receipt_check(small.pk, changed), (field, position)
