"""Datagrams from pairs: each accepted once and applied in the transaction that accepts it; the
acknowledgements of this instance's own datagrams acted on once (``outbox`` queues and sends those)."""

import enum

from django.db import transaction
from django.utils import timezone

from federation.models import Inbound, Outbound, Pair
from federation.protocols import datagrams
from federation.protocols.datagrams import PeerCommand, PeerDatagram, Status
from federation.services import lines, transits
from trust.services import remote_payments


class Acceptance(enum.Enum):
    NEW = "new"  # applied now
    DUPLICATE = "duplicate"  # the last one accepted, sent again (its acknowledgement was lost): acknowledge again
    REPLAYED = "replayed"  # below the last one accepted: refused


def datagram_accept(*, pair_id: int, message: PeerDatagram) -> tuple[Acceptance, Status]:
    """Record an authentic datagram once and apply it: its counter must be above the pair's last accepted one.
    Returns how it was taken and the status to answer with (a repeated datagram gets its first answer)."""
    with transaction.atomic():
        pair = Pair.objects.select_for_update(of=("self",)).select_related("member__community").get(pk=pair_id)
        if message.counter == pair.received and message.counter > 0:
            first = Inbound.objects.filter(pair=pair, counter=message.counter).values_list("status", flat=True).first()
            return Acceptance.DUPLICATE, Status(first or Status.OK)
        if message.counter <= pair.received:
            return Acceptance.REPLAYED, Status.REPLAYED
        arguments = {
            name: value.hex() if isinstance(value, bytes) else value for name, value in message.arguments.items()
        }
        status = _apply(pair, message)
        Inbound.objects.create(
            pair=pair, counter=message.counter, command=message.command, arguments=arguments, status=status
        )
        pair.received = message.counter
        pair.save(update_fields=["received"])
        return Acceptance.NEW, status


def _apply(pair: Pair, message: PeerDatagram) -> Status:
    """What an accepted datagram changes here, in the transaction that accepts it (so exactly once)."""
    if message.command == PeerCommand.SYNC_TRUSTLINE:
        lines.line_mirror_limit(pair=pair, limit=message.arguments["limit"])
    elif message.command == PeerCommand.DIRECT_PAYMENT:
        member_account, remote, _ = lines.line_open(pair=pair)
        received = remote_payments.remote_payment_receive(
            payer=remote, payee=member_account, amount=message.arguments["amount"]
        )
        return Status.OK if received is not None else Status.REFUSED
    elif message.command in transits.COMMANDS:
        return transits.handle(pair, message)
    return Status.OK


def outbound_acknowledged(*, pair_id: int, message: PeerDatagram) -> bool:
    """Stop sending the datagram the acknowledgement ``message`` answers and act on its answer, once; False
    when it was not waiting (a repeated acknowledgement)."""
    status = message.arguments.get("status", Status.OK)
    with transaction.atomic():
        waiting = Outbound.objects.filter(pair_id=pair_id, counter=message.counter, acked_at__isnull=True)
        if waiting.update(acked_at=timezone.now(), status=status) != 1:
            return False
        if message.command == PeerCommand.ACK_PAYMENT:
            remote_payments.remote_payment_answered(
                payment_id=message.arguments["counter"], accepted=status == Status.OK
            )
        elif message.command in (PeerCommand.ACK_SYNC, PeerCommand.ACK_COMMIT, PeerCommand.ACK_PREIMAGE):
            outbound = Outbound.objects.select_related("pair").get(pair_id=pair_id, counter=message.counter)
            sent = datagrams.decode(bytes(outbound.datagram))
            transits.acknowledged(outbound=outbound, sent=sent, answer=message)
        return True
