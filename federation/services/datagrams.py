"""Datagrams between pairs: queued with their counters, sent again until acknowledged, accepted once."""

import enum
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from federation.errors import QueueFull
from federation.models import Inbound, Outbound, Pair
from federation.pairing import session_key
from federation.protocols import datagrams
from federation.protocols.datagrams import PeerCommand, PeerDatagram, Status
from federation.selectors import pair_key_of
from federation.services import lines
from trust.services import remote_payments

BACKOFF_SECONDS = (1, 2, 4, 8, 16)  # then every 16 s, until acknowledged
MAX_COUNTER = 2**32 - 1  # the header's 4 bytes


class Acceptance(enum.Enum):
    NEW = "new"  # applied now
    DUPLICATE = "duplicate"  # the last one accepted, sent again (its acknowledgement was lost): acknowledge again
    REPLAYED = "replayed"  # below the last one accepted: refused


def datagram_queue(*, pair: Pair, command: PeerCommand, arguments: datagrams.Arguments) -> Outbound:
    """Number, sign and queue a datagram to ``pair``'s remote account; the listener sends it."""
    with transaction.atomic():
        pair = Pair.objects.select_for_update().select_related("member__community", "remote").get(pk=pair.pk)
        if pair.outbound.filter(acked_at__isnull=True).count() >= settings.PEER_RESEND_QUEUE_LIMIT:
            raise QueueFull(f"{settings.PEER_RESEND_QUEUE_LIMIT} datagrams to {pair.remote_address} await delivery.")
        if pair.sent >= MAX_COUNTER:
            raise QueueFull(f"The counter of the pair with {pair.remote_address} is exhausted.")
        pair.sent += 1
        pair.save(update_fields=["sent"])
        keys = pair_key_of(pair)
        key = session_key(keys.base_key, sender=keys.local_address, counter=pair.sent)
        data = datagrams.encode(keys.datagram(pair.sent, command, arguments), key)
        return Outbound.objects.create(
            pair=pair, counter=pair.sent, command=command, datagram=data, next_at=timezone.now()
        )


def datagram_accept(*, pair_id: int, message: PeerDatagram) -> tuple[Acceptance, Status]:
    """Record an authentic datagram once and apply it: its counter must be above the pair's last accepted one.
    Returns how it was taken and the status to answer with (a repeated datagram gets its first answer)."""
    with transaction.atomic():
        pair = Pair.objects.select_for_update().select_related("member__community").get(pk=pair_id)
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
        return True


def outbound_sent(*, outbound_ids: list[int]) -> None:
    """Count an attempt for each and schedule the next one with backoff."""
    now = timezone.now()
    with transaction.atomic():
        for outbound in Outbound.objects.select_for_update().filter(pk__in=outbound_ids, acked_at__isnull=True):
            delay = BACKOFF_SECONDS[min(outbound.attempts, len(BACKOFF_SECONDS) - 1)]
            outbound.attempts += 1
            outbound.next_at = now + timedelta(seconds=delay)
            outbound.save(update_fields=["attempts", "next_at"])
