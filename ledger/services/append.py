"""Appending to a community's chain, in the transaction that moves the money."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from core import jobs
from core.crypto import macs, p256, sealing
from core.crypto.server import server_sign
from core.errors import ApplicationError
from ledger import crypto, formats
from ledger.models import Entry, Head, head_mac
from ledger.names import account_names
from ledger.services.keys import sealer, signers
from trust.models import Payment, PaymentLeg

PAYMENT_TYPES = {Payment.Kind.REQUEST: Entry.Type.PAYMENT}


class LedgerHeadInvalid(ApplicationError):
    status = 503
    code = "ledger_head_invalid"


@dataclass(frozen=True)
class Movement:
    """What one entry records. An archive entry has no accounts; its receipt hash is the archive's hash."""

    type: str
    source: int | None
    destination: int | None
    amount: int
    receipt_hash: str | None = None
    payment: int | None = None


def locked_head(community_id: int) -> Head:
    """The community's chain head, locked, its MAC checked (a new chain starts at the genesis hash)."""
    head = Head.objects.lock(community_id)
    if head is None:
        mac = head_mac(community_id, 0, formats.GENESIS, 0, 0)
        Head.objects.bulk_create(
            [Head(community_id=community_id, ledger_hash=formats.GENESIS, mac=mac)], ignore_conflicts=True
        )
        head = Head.objects.lock(community_id)
    expected = head_mac(community_id, head.next_receipt_id, head.ledger_hash, head.segment, head.live_length)
    if not macs.same(expected, head.mac):
        raise LedgerHeadInvalid(
            "The ledger's head fails its check; an admin must audit the ledger before it takes entries."
        )
    return head


def head_sign(head: Head) -> None:
    head.mac = head_mac(head.community_id, head.next_receipt_id, head.ledger_hash, head.segment, head.live_length)


def head_save(head: Head) -> None:
    head_sign(head)
    Head.objects.store(head)


def append(community_id: int, movements: list[Movement], *, at: datetime) -> list[Entry]:
    """Chain, sign, seal and store one entry per movement. Call inside the money's transaction."""
    accounts = {m.source for m in movements} | {m.destination for m in movements}
    accounts.discard(None)
    names = account_names(accounts)
    signed_by = signers({m.source for m in movements if m.receipt_hash is None}, at=at)
    sealing_key_id, cipher = sealer(community_id)
    utc = formats.utc_text(at)

    head = locked_head(community_id)
    previous, receipt_id = head.ledger_hash, head.next_receipt_id
    entries = []
    for movement in movements:
        source, destination = names.get(movement.source, ""), names.get(movement.destination, "")
        amount = formats.amount_text(movement.amount)
        member_signature = server_signature = b""
        receipt_hash, receipt_key_id = movement.receipt_hash, None
        if receipt_hash is None:
            receipt = formats.receipt_text(utc, source, destination, amount, previous, receipt_id)
            signer = signed_by[movement.source]
            member_signature, receipt_key_id = p256.sign(signer.private, receipt.encode()), signer.identity_key_id
            server_signature = server_sign(formats.server_signed_bytes(receipt, member_signature))
            receipt_hash = formats.receipt_hash(receipt, member_signature, server_signature)
        ledger_hash = formats.chain_hash(
            previous, movement.type, utc, source, destination, amount, receipt_id, receipt_hash
        )
        entry = formats.Entry(movement.type, utc, source, destination, amount, ledger_hash, receipt_id, receipt_hash)
        entries.append(
            Entry(
                community_id=community_id,
                receipt_id=receipt_id,
                segment=head.segment,
                record=entry.record(),
                sealed=sealing.seal(cipher, entry.line().encode(), crypto.position(community_id, receipt_id)),
                sealing_key_id=sealing_key_id,
                source_id=movement.source,
                destination_id=movement.destination,
                payment_id=movement.payment,
                member_signature=member_signature,
                server_signature=server_signature,
                receipt_key_id=receipt_key_id,
            )
        )
        previous, receipt_id = ledger_hash, receipt_id + 1
    head.ledger_hash, head.next_receipt_id = previous, receipt_id
    head.live_length += len(entries)
    head_sign(head)
    Entry.objects.append_rows(entries, head=head)
    if head.live_length >= settings.LEDGER_ARCHIVE_LENGTH:
        jobs.enqueue_on_commit("ledger.tasks.archive_live_segment", community_id)
    return entries


def record_payments(*, moved: list[tuple[Payment, list[tuple]]], at: datetime, **_) -> None:
    """``trust.signals.money_moved`` receiver: one entry per leg (tax and fees as ``tax``), a batch in one append."""
    movements = []
    for payment, legs in moved:
        payment_type = PAYMENT_TYPES.get(payment.kind, payment.kind)
        movements += [
            Movement(
                Entry.Type.TAX if purpose == PaymentLeg.Purpose.TAX else payment_type,
                sender,
                receiver,
                amount,
                payment=payment.pk,
            )
            for purpose, _, _, sender, receiver, amount in legs
        ]
    append(moved[0][0].community_id, movements, at=at)
