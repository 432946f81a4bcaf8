"""The Resilience datagrams: decoded in the event loop, answered on the Django side in a thread."""

import asyncio
import logging

from django.conf import settings

from federation.listener import answers
from federation.listener.limits import Rate
from federation.listener.threads import in_thread
from federation.protocols import datagrams
from federation.protocols.datagrams import DatagramError, Notice, PeerDatagram, Status

logger = logging.getLogger("federation.listener")
PENDING_LIMIT = 512  # datagrams being answered at once; past it new ones are refused, not queued

answer_peer_datagram = in_thread(answers.peer_datagram)


class DatagramServer(asyncio.DatagramProtocol):
    """One UDP socket for every pair: anything that arrives is answered or refused, never fatal."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.rate = Rate(settings.PEER_MESSAGES_PER_SECOND)
        self.pending: set[asyncio.Task] = set()
        self.handled = 0
        self.wake = asyncio.Event()  # something was queued: it goes out now, not at the next poll

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, address: tuple) -> None:
        self.handled += 1
        try:
            self._received(data, address)
        except Exception:  # a bug must cost one datagram, never the listener
            logger.exception("event=datagram_failed source=%s", address[0])

    def error_received(self, exc: Exception) -> None:
        logger.info("event=udp_error error=%s", exc)

    def send(self, data: bytes, address: tuple) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, address)

    def _received(self, data: bytes, address: tuple) -> None:
        if not self.rate.allow(address[0]):
            return  # dropped: answering a flood would feed it
        try:
            message = datagrams.decode(data)
        except DatagramError as exc:
            self.send(datagrams.encode_notice(exc.notice()), address)
            return
        if isinstance(message, Notice):
            logger.info("event=notice source=%s status=%s", address[0], message.status.name)
            return
        if not isinstance(message, PeerDatagram):
            self.send(answers.refusal(Status.NOT_SUPPORTED, "user session"), address)
            return
        if len(self.pending) >= PENDING_LIMIT:
            self.send(answers.refusal(Status.RATE_LIMITED, f"{len(self.pending)} pending"), address)
            return
        task = asyncio.get_running_loop().create_task(self._answer(message, data, address))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _answer(self, message: PeerDatagram, data: bytes, address: tuple) -> None:
        try:
            reply = await answer_peer_datagram(message, data)
        except Exception:
            logger.exception("event=datagram_failed source=%s", address[0])
            return
        if reply is not None:
            self.send(reply, address)
        self.wake.set()  # applying the datagram may have queued the next one
