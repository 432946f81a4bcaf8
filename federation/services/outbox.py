"""Datagrams to pairs: numbered with the pair's counter, signed and queued; the listener sends each until it is
acknowledged, one at a time per pair."""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from federation.errors import QueueFull
from federation.models import Outbound, Pair
from federation.pairing import session_key
from federation.protocols import datagrams
from federation.protocols.datagrams import PeerCommand, Session
from federation.selectors import pair_key_of

BACKOFF_SECONDS = (0.25, 0.5, 1, 2, 4, 8, 16)  # then every 16 s, until acknowledged
MAX_COUNTER = 2**32 - 1  # the header's 4 bytes
QUEUED_CHANNEL = "federation_outbound"  # PostgreSQL NOTIFY channel: a datagram was queued


def datagram_queue(
    *, pair: Pair, command: PeerCommand, arguments: datagrams.Arguments, session: Session = Session.ACCOUNT
) -> Outbound:
    """Number, sign and queue a datagram to ``pair``'s remote account; the listener sends it."""
    with transaction.atomic():
        pairs = Pair.objects.select_for_update(of=("self",)).select_related("member__community", "remote")
        pair = pairs.get(pk=pair.pk)
        if pair.outbound.filter(acked_at__isnull=True).count() >= settings.PEER_RESEND_QUEUE_LIMIT:
            raise QueueFull(f"{settings.PEER_RESEND_QUEUE_LIMIT} datagrams to {pair.remote_address} await delivery.")
        if pair.sent >= MAX_COUNTER:
            raise QueueFull(f"The counter of the pair with {pair.remote_address} is exhausted.")
        pair.sent += 1
        pair.save(update_fields=["sent"])
        keys = pair_key_of(pair)
        key = session_key(keys.base_key, sender=keys.local_address, counter=pair.sent)
        data = datagrams.encode(keys.datagram(pair.sent, command, arguments, session=session), key)
        outbound = Outbound.objects.create(
            pair=pair, counter=pair.sent, command=command, datagram=data, next_at=timezone.now()
        )
        if connection.vendor == "postgresql":  # the listener sends it as soon as this commits
            with connection.cursor() as cursor:
                cursor.execute(f"NOTIFY {QUEUED_CHANNEL}")
        return outbound


def outbound_sent(*, outbound_ids: list[int]) -> None:
    """Count an attempt for each and schedule the next one with backoff."""
    now = timezone.now()
    with transaction.atomic():
        for outbound in Outbound.objects.select_for_update().filter(pk__in=outbound_ids, acked_at__isnull=True):
            delay = BACKOFF_SECONDS[min(outbound.attempts, len(BACKOFF_SECONDS) - 1)]
            outbound.attempts += 1
            outbound.next_at = now + timedelta(seconds=delay)
            outbound.save(update_fields=["attempts", "next_at"])
