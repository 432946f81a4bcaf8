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
from federation.protocols.datagrams import PeerCommand, PeerDatagram, Session
from federation.selectors import pair_key_of
from federation.services import lines

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
        message = PeerDatagram(
            session=Session.ACCOUNT,
            recipient=keys.remote_handle,
            sender=keys.local_handle,
            sender_server=keys.local_host,
            counter=pair.sent,
            command=command,
            arguments=arguments,
        )
        key = session_key(keys.base_key, sender=f"{keys.local_handle}@{keys.local_host}", counter=pair.sent)
        data = datagrams.encode(message, key)
        return Outbound.objects.create(
            pair=pair, counter=pair.sent, command=command, datagram=data, next_at=timezone.now()
        )


def datagram_accept(*, pair_id: int, message: PeerDatagram) -> Acceptance:
    """Record an authentic datagram once: its counter must be above the pair's last accepted one."""
    with transaction.atomic():
        pair = Pair.objects.select_for_update().get(pk=pair_id)
        if message.counter == pair.received and message.counter > 0:
            return Acceptance.DUPLICATE
        if message.counter <= pair.received:
            return Acceptance.REPLAYED
        arguments = {
            name: value.hex() if isinstance(value, bytes) else value for name, value in message.arguments.items()
        }
        Inbound.objects.create(pair=pair, counter=message.counter, command=message.command, arguments=arguments)
        pair.received = message.counter
        pair.save(update_fields=["received"])
        _apply(pair, message)
        return Acceptance.NEW


def _apply(pair: Pair, message: PeerDatagram) -> None:
    """What an accepted datagram changes here, in the transaction that accepts it (so exactly once)."""
    if message.command == PeerCommand.SYNC_TRUSTLINE:
        lines.line_mirror_limit(pair=pair, limit=message.arguments["limit"])


def outbound_acknowledged(*, pair_id: int, counter: int, status: int) -> bool:
    """Stop sending the datagram ``counter`` of the pair; False when it was not waiting (a repeated ack)."""
    with transaction.atomic():
        waiting = Outbound.objects.filter(pair_id=pair_id, counter=counter, acked_at__isnull=True)
        return waiting.update(acked_at=timezone.now(), status=status) == 1


def outbound_sent(*, outbound_ids: list[int]) -> None:
    """Count an attempt for each and schedule the next one with backoff."""
    now = timezone.now()
    with transaction.atomic():
        for outbound in Outbound.objects.select_for_update().filter(pk__in=outbound_ids, acked_at__isnull=True):
            delay = BACKOFF_SECONDS[min(outbound.attempts, len(BACKOFF_SECONDS) - 1)]
            outbound.attempts += 1
            outbound.next_at = now + timedelta(seconds=delay)
            outbound.save(update_fields=["attempts", "next_at"])
