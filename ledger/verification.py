"""Checking the books: the audit of a whole chain, the live segment alone, and members' receipts.

The audit streams every entry in receipt order (tuples, never model instances) and checks that it
opens, parses, follows the previous one, matches its public record, its chain hash, its receipt
hash and its accounts; at each archive entry it checks the closed segment's archive; at the end
the chain head and the agreement of the replayed balances with the trustlines. Signatures are not
verified here (too slow for millions of entries): ``receipt_check`` does that for one receipt.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from django.conf import settings

from bank.models import Community
from core import processes
from core.crypto import macs, p256, sealing, signatures
from core.crypto.hexes import is_hex
from core.crypto.server import server_public_key_hex
from core.numbers import whole_number
from ledger import crypto, formats
from ledger.models import Archive, Entry, Head, head_mac
from ledger.names import account_names, signing_keys
from ledger.replay import trustline_state
from ledger.sealed import archive_hash, open_state, openers
from trust.models import Account

PROGRESS_EVERY = 5000
Progress = Callable[[int, int], None]  # (entries checked, percent)
ARCHIVE = Entry.Type.ARCHIVE.value
COLUMNS = (
    "receipt_id",
    "segment",
    "record",
    "sealed",
    "sealing_key_id",
    "source_id",
    "destination_id",
    "member_signature",
    "server_signature",
)


@dataclass(frozen=True)
class Finding:
    """One thing wrong: the entry (receipt id) and/or archive segment it concerns."""

    code: str
    description: str
    receipt_id: int | None = None
    segment: int | None = None


@dataclass
class _Walk:
    """Where the walk through the chain stands."""

    community_id: int
    next_id: int
    previous: str
    segment: int
    state: formats.State
    findings: list[Finding] = field(default_factory=list)
    leaves: list[bytes] = field(default_factory=list)
    segment_first: int = 0
    checked: int = 0

    def add(self, code: str, description: str, *, receipt_id: int | None = None, segment: int | None = None) -> None:
        self.findings.append(Finding(code, description, receipt_id, segment))


def audit(community_id: int, progress: Progress | None = None) -> list[Finding]:
    """Every entry, every archive and every public record of the community, checked.

    A long chain is checked in several processes, one stretch between two archives each (see
    ``stretches``); books with findings are then walked again in one process, so that what an
    audit reports is always the one walk's findings, in chain order.
    """
    if _spread(community_id):
        total = Entry.objects.filter(community_id=community_id).count() or 1
        checked = 0

        def finished(stretch: tuple, result: tuple[list[Finding], int]) -> None:
            nonlocal checked
            checked += result[1] - (stretch[1] is not None)  # the archive entry it starts at was counted before
            if progress is not None:
                progress(checked, min(99, checked * 100 // total))

        results = processes.spread(
            audit_stretch, stretches(community_id), processes=settings.LEDGER_AUDIT_PROCESSES, finished=finished
        )
        if results is not None and not any(findings for findings, _ in results):
            if progress is not None:
                progress(checked, 100)
            return []
    walk = _walk_from(community_id, None)
    _run(walk, Entry.objects.filter(community_id=community_id), progress)
    return walk.findings


def verify_live(community_id: int, progress: Progress | None = None) -> list[Finding]:
    """The live segment only, from the last archive's state: as fast however long the history."""
    head = Head.objects.filter(community_id=community_id).first()
    last = Archive.objects.filter(community_id=community_id, segment=(head.segment - 1) if head else -1).first()
    if last is None:
        return audit(community_id, progress)
    walk = _walk_from(community_id, last)
    _run(walk, Entry.objects.filter(community_id=community_id, receipt_id__gte=walk.next_id), progress)
    return walk.findings


def stretches(community_id: int) -> list[tuple[int, int | None, int | None]]:
    """The chain cut at its archive entries: ``(community, after segment, through receipt id)``, each
    stretch walked from the archive before it (its state, its hash) through the next archive entry.

    The stretches overlap by that entry, so together they check what one walk checks: each one
    checks the archive it ends at against the entries it replayed, which is the state and hash the
    next one starts from.
    """
    ends = Archive.objects.filter(community_id=community_id).order_by("segment")
    starts = [None, *ends.values_list("segment", flat=True)]
    throughs = [*(last + 1 for last in ends.values_list("last_receipt_id", flat=True)), None]
    return [(community_id, start, through) for start, through in zip(starts, throughs, strict=True)]


def _spread(community_id: int) -> bool:
    """Whether this audit runs in several processes: a chain past ``LEDGER_AUDIT_PROCESSES_ABOVE`` entries."""
    if not processes.can_spread(settings.LEDGER_AUDIT_PROCESSES):
        return False
    length = Head.objects.filter(community_id=community_id).values_list("next_receipt_id", flat=True).first()
    return (length or 0) > settings.LEDGER_AUDIT_PROCESSES_ABOVE


def audit_stretch(community_id: int, after_segment: int | None, through: int | None) -> tuple[list[Finding], int]:
    """One stretch of ``stretches``, in a process of its own: its findings and how many entries it checked."""
    archive = None
    rows = Entry.objects.filter(community_id=community_id)
    if after_segment is not None:
        archive = Archive.objects.get(community_id=community_id, segment=after_segment)
        rows = rows.filter(receipt_id__gte=archive.last_receipt_id + 1)
    if through is not None:
        rows = rows.filter(receipt_id__lte=through)
    walk = _walk_from(community_id, archive)
    _run(walk, rows, None, to_the_end=through is None)
    return walk.findings, walk.checked


def _walk_from(community_id: int, archive: Archive | None) -> _Walk:
    """A walk from the chain's start, or from ``archive``'s entry with the state and hash it closed with."""
    if archive is None:
        return _Walk(community_id, 0, formats.GENESIS, 0, {})
    walk = _Walk(community_id, archive.last_receipt_id + 1, archive.ledger_hash, archive.segment, {})
    walk.segment_first = archive.first_receipt_id
    if not is_hex(archive.ledger_hash, 64):
        walk.add("archive_ledger_hash_invalid", "The archive's ledger hash is not a hash.", segment=archive.segment)
        walk.previous = formats.GENESIS
    try:
        walk.state = formats.parse_state(open_state(archive, openers(community_id)).decode())
    except (InvalidTag, ValueError):
        walk.add("archive_state_invalid", "The archive's sealed state does not open.", segment=archive.segment)
    # The walk closes ``archive`` again at its entry; its merkle leaves are not re-read, so only the
    # entry's link to the archive hash is checked there.
    walk.leaves = None
    return walk


def _run(walk: _Walk, rows, progress: Progress | None, *, to_the_end: bool = True) -> None:
    community_id = walk.community_id
    ciphers = openers(community_id)
    names = account_names(set(Account.objects.filter(community_id=community_id).values_list("pk", flat=True)))
    archives = {a.segment: a for a in Archive.objects.filter(community_id=community_id)}
    total = (rows.count() or 1) if progress is not None else 1
    well_formed = _well_formed(walk, ciphers, names)
    for row in rows.stream(COLUMNS):
        if not well_formed(row):
            _check_entry(walk, row, ciphers, names, archives)
        walk.checked += 1
        if progress is not None and walk.checked % PROGRESS_EVERY == 0:
            progress(walk.checked, walk.checked * 100 // total)
    if to_the_end:
        _check_end(walk, archives)
    if progress is not None:
        progress(walk.checked, 100)


def _well_formed(walk: _Walk, ciphers: dict, names: dict) -> Callable[[tuple], bool]:
    """The audit's fast path: ``check(row)`` applies an ordinary entry that passes every check of
    ``_check_entry`` and returns True; anything else (archive entries, any doubt) returns False and
    is left to ``_check_entry``, which names what is wrong. Measured by ``bench/ledger.py``."""
    community_id, archive = walk.community_id, ARCHIVE
    unseal, position, chain_hash, receipt_hash = (
        sealing.unseal,
        crypto.position,
        formats.chain_hash,
        formats.receipt_hash,
    )

    def check(row: tuple) -> bool:
        receipt_id, segment, record, sealed, key_id, source_id, destination_id, member_sig, server_sig = row
        cipher = ciphers.get(key_id)
        if receipt_id != walk.next_id or segment != walk.segment or cipher is None:
            return False
        try:
            entry = formats.Entry._make(unseal(cipher, sealed, position(community_id, receipt_id)).decode().split("|"))
            micro = formats.amount_micro(entry.amount)
        except (InvalidTag, UnicodeDecodeError, TypeError, ValueError):
            return False
        type_, utc, source, destination, amount, ledger_hash, text_id, entry_receipt_hash = entry
        previous = walk.previous
        if not (
            type_ != archive
            and text_id == str(receipt_id)
            and record == entry.record()
            and names.get(source_id) == source
            and names.get(destination_id) == destination
            and ledger_hash
            == chain_hash(previous, type_, utc, source, destination, amount, text_id, entry_receipt_hash)
            and entry_receipt_hash == receipt_hash(entry.receipt(previous), member_sig, server_sig)
        ):
            return False
        formats.state_move(walk.state, source, destination, micro)
        if walk.leaves is not None:
            walk.leaves.append(bytes.fromhex(ledger_hash))
        walk.previous, walk.next_id = ledger_hash, receipt_id + 1
        return True

    return check


def _check_entry(walk: _Walk, row: tuple, ciphers: dict, names: dict, archives: dict) -> None:
    receipt_id, segment, record, sealed, key_id, source_id, destination_id, member_sig, server_sig = row
    add = walk.add
    if receipt_id != walk.next_id:
        add("gap", f"Receipts {walk.next_id} to {receipt_id - 1} are missing.", receipt_id=walk.next_id)
    walk.next_id = receipt_id + 1
    try:
        line = sealing.unseal(ciphers[key_id], bytes(sealed), crypto.position(walk.community_id, receipt_id)).decode()
    except (InvalidTag, KeyError, UnicodeDecodeError):
        add("entry_sealed_invalid", "The sealed entry does not open (changed or moved).", receipt_id=receipt_id)
        line = None
    try:
        entry = (
            formats.parse_entry(line) if line is not None else _from_record(record, names, source_id, destination_id)
        )
    except ValueError as exc:
        add("entry_unparsable", f"The entry does not parse: {exc}.", receipt_id=receipt_id)
        return
    if line is not None:
        if entry.receipt_id != receipt_id:
            add("receipt_id_mismatch", f"The entry says receipt {entry.receipt_id}.", receipt_id=receipt_id)
        if record != entry.record():
            add("record_mismatch", "The public record differs from the entry.", receipt_id=receipt_id)
    expected = formats.chain_hash(
        walk.previous,
        entry.type,
        entry.utc,
        entry.source,
        entry.destination,
        entry.amount,
        entry.receipt_id,
        entry.receipt_hash,
    )
    if expected != entry.ledger_hash:
        add("chain_broken", "The ledger hash does not follow from the previous entry.", receipt_id=receipt_id)
    if entry.type == ARCHIVE:
        _close_segment(walk, entry, archives)
        if member_sig or server_sig or source_id or destination_id or entry.source or entry.destination:
            add("archive_entry_invalid", "An archive entry names accounts or signatures.", receipt_id=receipt_id)
    else:
        receipt = entry.receipt(walk.previous)
        if formats.receipt_hash(receipt, bytes(member_sig), bytes(server_sig)) != entry.receipt_hash:
            add(
                "receipt_hash_mismatch",
                "The stored receipt and signatures do not hash to the receipt hash.",
                receipt_id=receipt_id,
            )
        if names.get(source_id, "") != entry.source or names.get(destination_id, "") != entry.destination:
            add(
                "accounts_mismatch",
                "The entry's accounts differ from the accounts it is filed under.",
                receipt_id=receipt_id,
            )
        try:
            formats.state_move(walk.state, entry.source, entry.destination, formats.amount_micro(entry.amount))
        except ValueError:
            add("amount_invalid", f"The amount {entry.amount!r} is not an amount.", receipt_id=receipt_id)
    if segment != walk.segment:
        add("segment_mismatch", f"Filed under segment {segment}, belongs to {walk.segment}.", receipt_id=receipt_id)
    if walk.leaves is not None:
        walk.leaves.append(bytes.fromhex(entry.ledger_hash))
    walk.previous = entry.ledger_hash


def _from_record(record: str, names: dict, source_id: int | None, destination_id: int | None) -> formats.Entry:
    """The best reading of an entry that does not open: its public record and the accounts it is filed under."""
    fields = record.split("|")
    if len(fields) != 6:
        raise ValueError("the entry does not open and its record has not 6 fields")
    type_, utc, receipt_id, amount, ledger_hash, receipt_hash = fields
    return formats.Entry(
        type_,
        utc,
        names.get(source_id, ""),
        names.get(destination_id, ""),
        amount,
        ledger_hash,
        int(receipt_id),
        receipt_hash,
    )


def _close_segment(walk: _Walk, entry: formats.Entry, archives: dict) -> None:
    """At an archive entry: the segment before it must have an archive that matches it."""
    segment, last = walk.segment, entry.receipt_id - 1
    archive = archives.get(segment)
    if archive is None:
        walk.add(
            "archive_missing", f"No archive closes segment {segment}.", receipt_id=entry.receipt_id, segment=segment
        )
    else:
        if entry.receipt_hash != archive.archive_hash:
            walk.add(
                "archive_entry_mismatch",
                f"The archive entry does not name segment {segment}'s archive hash.",
                receipt_id=entry.receipt_id,
                segment=segment,
            )
        _check_archive(walk, archive, last)
    walk.segment, walk.segment_first, walk.leaves = segment + 1, entry.receipt_id, []


def _check_archive(walk: _Walk, archive: Archive, last: int) -> None:
    segment = archive.segment

    def add(code: str, description: str) -> None:
        walk.add(code, f"Archive of segment {segment}: {description}", segment=segment)

    if (archive.first_receipt_id, archive.last_receipt_id) != (walk.segment_first, last):
        add(
            "archive_range_mismatch",
            f"it covers {archive.first_receipt_id}-{archive.last_receipt_id}, the chain {walk.segment_first}-{last}.",
        )
    if walk.leaves is not None and formats.merkle_root(walk.leaves) != archive.merkle_root:
        add("archive_merkle_mismatch", "its merkle root is not that of the segment's entries.")
    if archive.ledger_hash != walk.previous:
        add("archive_ledger_hash_mismatch", "its ledger hash is not the segment's last entry hash.")
    replayed = formats.state_text(walk.state)
    try:
        state = open_state(archive, openers(walk.community_id)).decode()
    except (InvalidTag, KeyError, UnicodeDecodeError):
        add("archive_state_invalid", "its sealed state does not open.")
        state = replayed
    else:
        if walk.leaves is not None and state != replayed:
            add("archive_state_mismatch", "its state differs from the replayed state.")
    digest = archive_hash(
        segment=segment,
        first=archive.first_receipt_id,
        last=archive.last_receipt_id,
        ledger_hash=archive.ledger_hash,
        merkle_root=archive.merkle_root,
        state=state,
    )
    if not macs.same(digest, archive.archive_hash):
        add("archive_hash_mismatch", "its hash does not match its contents.")


def _check_end(walk: _Walk, archives: dict) -> None:
    for segment in sorted(s for s in archives if s >= walk.segment):
        walk.add(
            "archive_without_entry", f"The archive of segment {segment} has no archive entry after it.", segment=segment
        )
    head = Head.objects.filter(community_id=walk.community_id).first()
    last_id = walk.next_id - 1 if walk.next_id else None
    if head is None:
        if walk.next_id:
            walk.add("head_missing", "The chain has entries but no head.", receipt_id=last_id)
        return
    live_length = walk.next_id - walk.segment_first
    actual = (head.next_receipt_id, head.ledger_hash, head.segment, head.live_length)
    if actual != (walk.next_id, walk.previous, walk.segment, live_length):
        walk.add("head_mismatch", f"The head {actual} does not stand at the chain's last entry.", receipt_id=last_id)
    if not macs.same(head.mac, head_mac(head.community_id, *actual)):
        walk.add("head_mac_invalid", "The head's MAC does not match it.", receipt_id=last_id)
    replayed = {pair: amount for pair, amount in walk.state.items() if amount}
    if replayed != trustline_state(walk.community_id):
        walk.add("ledger_disagrees", "The balances replayed from the ledger differ from the trustlines.")


# --- one receipt, as a member holds it -------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    text: str
    member_signature: bytes
    server_signature: bytes

    @property
    def receipt_id(self) -> int | None:
        return whole_number(self.text.rpartition("|")[2], minimum=0)


def _between_members_of(community_id: int, text: str) -> bool:
    """Whether a receipt names two accounts of this community (``handle@slug``), not another community's."""
    slug = Community.objects.values_list("slug", flat=True).get(pk=community_id)
    _, source, destination, *_ = text.split("|")
    return source.endswith(f"@{slug}") and destination.endswith(f"@{slug}")


def receipt_check(community_id: int, receipt: Receipt) -> list[Finding]:
    """A receipt's two signatures, and that the ledger holds it at its receipt id."""
    receipt_id = receipt.receipt_id
    if len(receipt.text.split("|")) != 6 or receipt_id is None:
        return [
            Finding("receipt_malformed", "The receipt is not UTC|SOURCE|DESTINATION|AMOUNT|LEDGER_HASH|RECEIPT_ID.")
        ]
    row = (
        Entry.objects.filter(community_id=community_id, receipt_id=receipt_id)
        .values_list("record", "source_id", "receipt_key_id")
        .first()
    )
    signed = formats.server_signed_bytes(receipt.text, receipt.member_signature)
    server_signed = signatures.server_signature_valid(server_public_key_hex(), receipt.server_signature, signed)
    if row is None:
        if server_signed and _between_members_of(community_id, receipt.text):  # the ledger lost a receipt it gave out
            description = f"The server signed receipt {receipt_id}, but the ledger has no such entry."
            return [Finding("receipt_missing", description, receipt_id)]
        description = f"The ledger has no receipt {receipt_id}, and the server did not sign this one."
        return [Finding("receipt_unknown", description, receipt_id)]
    record, source_id, receipt_key_id = row
    findings = []
    key = signing_keys([(source_id, receipt_key_id)])[source_id, receipt_key_id]
    if not p256.signature_valid(key.public_key, receipt.member_signature, receipt.text.encode()):
        findings.append(Finding("member_signature_invalid", "The member's signature does not verify.", receipt_id))
    elif key.certificate and not signatures.receipt_key_certified(
        key.identity_public_key, key.public_key, key.certificate
    ):
        findings.append(
            Finding(
                "receipt_key_uncertified", "The member's identity key did not certify the key that signed.", receipt_id
            )
        )
    if not server_signed:
        findings.append(Finding("server_signature_invalid", "The server's signature does not verify.", receipt_id))
    digest = formats.receipt_hash(receipt.text, receipt.member_signature, receipt.server_signature)
    if digest != record.rpartition("|")[2]:
        findings.append(Finding("receipt_not_in_ledger", "The ledger's record names another receipt hash.", receipt_id))
    return findings


def record_check(community_id: int, receipt_id: int) -> list[Finding]:
    """One public record against its sealed entry."""
    row = (
        Entry.objects.filter(community_id=community_id, receipt_id=receipt_id)
        .values_list("record", "sealed", "sealing_key_id")
        .first()
    )
    if row is None:
        return [Finding("record_unknown", f"The ledger has no record {receipt_id + 1}.", receipt_id)]
    opened = opened_entry(community_id, receipt_id, row[1], row[2])
    if opened is None:
        return [Finding("entry_sealed_invalid", "The sealed entry does not open (changed or moved).", receipt_id)]
    if opened.record() != row[0]:
        return [Finding("record_mismatch", "The public record differs from the entry.", receipt_id)]
    return []


def opened_entry(community_id: int, receipt_id: int, sealed: bytes, sealing_key_id: int) -> formats.Entry | None:
    try:
        cipher = openers(community_id)[sealing_key_id]
        return formats.parse_entry(
            sealing.unseal(cipher, bytes(sealed), crypto.position(community_id, receipt_id)).decode()
        )
    except (InvalidTag, KeyError, UnicodeDecodeError, ValueError):
        return None
