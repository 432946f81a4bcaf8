"""Reads of the books: public records, members' signed receipts, balances by the ledger, receipt checks."""

from collections.abc import Iterator

from django.db.models import Q

from bank.models import Community
from core.crypto.server import server_public_key_hex
from ledger import formats
from ledger.formats import parse_receipt, parse_record
from ledger.models import Entry
from ledger.names import account_names, signing_keys
from ledger.offline import receipt_problem
from ledger.replay import ledger_state
from trust import selectors as trust_selectors
from trust.models import COMMONS_NAME, Account


def records_page(*, community: Community, after: int | None, limit: int) -> list[str]:
    """Public records in receipt order, those after receipt ``after`` (all when None)."""
    entries = Entry.objects.filter(community=community)
    if after is not None:
        entries = entries.filter(receipt_id__gt=after)
    return list(entries.order_by("receipt_id").values_list("record", flat=True)[:limit])


def records_lines(*, community: Community) -> Iterator[str]:
    """Every public record of the community, in order, read in chunks."""
    records = Entry.objects.filter(community=community).order_by("receipt_id").values_list("record", flat=True)
    return records.iterator(chunk_size=2000)


def _receipts(entries: list[Entry], *, account: Account | None = None) -> list[dict]:
    """Signed receipts of these entries (all of one community), in a constant number of queries."""
    if not entries:
        return []
    community_id = entries[0].community_id
    previous = dict(
        Entry.objects.filter(community_id=community_id, receipt_id__in=[e.receipt_id - 1 for e in entries]).values_list(
            "receipt_id", "record"
        )
    )
    names = account_names({e.source_id for e in entries} | {e.destination_id for e in entries})
    keys = signing_keys((e.source_id, e.receipt_key_id) for e in entries)
    server_key = server_public_key_hex()
    receipts = []
    for entry in entries:
        record = parse_record(entry.record)
        before = parse_record(previous[entry.receipt_id - 1]).ledger_hash if entry.receipt_id else formats.GENESIS
        text = formats.receipt_text(
            record.utc, names[entry.source_id], names[entry.destination_id], record.amount, before, record.receipt_id
        )
        out = account is None or entry.source_id == account.pk
        key = keys[entry.source_id, entry.receipt_key_id]
        receipts.append(
            {
                "receipt_id": entry.receipt_id,
                "text": text,
                "member_signature": bytes(entry.member_signature).hex(),
                "server_signature": bytes(entry.server_signature).hex(),
                "member_public_key": key.public_key,
                "identity_public_key": key.identity_public_key,
                "key_certificate": key.certificate.hex(),
                "server_public_key": server_key,
                "type": record.type,
                "utc": record.utc,
                "amount": record.amount,
                "direction": "out" if out else "in",
                "counterpart": _other_party(entry, record.type, out=out),
                "hop": (entry.destination if out else entry.source).name,
                "payment": entry.payment_id,
                "record": entry.record,
            }
        )
    return receipts


def _other_party(entry: Entry, entry_type: str, *, out: bool) -> str:
    """The payment's other party: where the money ends up (``out``) or where it came from.

    The payee of a tax entry is the commons; an account that only relayed the payment sees the
    payer and the payee too.
    """
    if not out:
        return entry.payment.payer.name
    return COMMONS_NAME if entry_type == Entry.Type.TAX else entry.payment.payee.name


def _with_parties(entries):
    return entries.select_related(
        "source__member", "destination__member", "payment__payer__member", "payment__payee__member"
    )


def _entries_of(account: Account):
    entries = Entry.objects.filter(Q(source=account) | Q(destination=account), community_id=account.community_id)
    return _with_parties(entries).order_by("-receipt_id")


def receipts_page(*, account: Account, before: int | None, limit: int) -> list[dict]:
    """The account's signed receipts (paid, received or routed through it), newest first."""
    entries = _entries_of(account)
    if before is not None:
        entries = entries.filter(receipt_id__lt=before)
    return _receipts(list(entries[:limit]), account=account)


def receipts_all(*, account: Account) -> list[dict]:
    return _receipts(list(_entries_of(account)), account=account)


def balance_rows(*, account: Account) -> list[dict]:
    """``trust.selectors.account_rows`` with each balance as the ledger tells it."""
    me = account_names({account.pk})[account.pk]
    slug = account.community.slug
    state = ledger_state(account.community_id, account_id=account.pk)
    rows = trust_selectors.account_rows(account=account)
    for row in rows:
        other = f"{row['username']}@{slug}"
        # The state holds what the second name owes the first.
        row["balance"] = state.get((me, other), 0) if me < other else -state.get((other, me), 0)
    return rows


def receipt_verify(
    *, community: Community, text: str, member_signature: bytes, server_signature: bytes
) -> tuple[int, bool]:
    """``(receipt_id, valid)``: the receipt is the one the ledger holds, and both signatures hold.

    Raises ValueError when ``text`` is not a receipt.
    """
    receipt_id = parse_receipt(text).receipt_id
    entries = Entry.objects.filter(community=community, receipt_id=receipt_id, source__isnull=False)
    entry = _with_parties(entries).first()
    if entry is None:
        return receipt_id, False
    rebuilt = _receipts([entry])[0]
    previous = (
        Entry.objects.filter(community=community, receipt_id=receipt_id - 1).values_list("record", flat=True).first()
    )
    problem = receipt_problem(
        text,
        member_signature,
        server_signature,
        member_key=rebuilt["member_public_key"],
        identity_key=rebuilt["identity_public_key"],
        certificate=bytes.fromhex(rebuilt["key_certificate"]),
        server_key=rebuilt["server_public_key"],
        record=parse_record(entry.record),
        previous=parse_record(previous) if previous else None,
    )
    return receipt_id, problem is None and text == rebuilt["text"]
