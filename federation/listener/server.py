"""Running the listener: both servers and the resender, until SIGTERM or SIGINT."""

import asyncio
import contextlib
import logging
import signal

import psycopg
from django.db import connection
from django.utils import timezone
from websockets.asyncio.server import serve as serve_websocket

from federation import selectors
from federation.listener.threads import in_thread
from federation.listener.udp import DatagramServer
from federation.listener.ws import TextServer
from federation.protocols.text import MAX_MESSAGE_BYTES
from federation.services import outbox, transits

logger = logging.getLogger("federation.listener")
RESEND_POLL_SECONDS = 0.2
TRANSITS_POLL_SECONDS = 1.0


@in_thread
def due() -> list[selectors.Due]:
    return selectors.outbound_due(now=timezone.now())


@in_thread
def sent(outbound_ids: list[int]) -> None:
    outbox.outbound_sent(outbound_ids=outbound_ids)


@in_thread
def transits_due() -> int:
    return transits.transits_due()


async def serve(*, host: str, udp_port: int, ws_port: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    transport, datagram_server = await loop.create_datagram_endpoint(DatagramServer, local_addr=(host, udp_port))
    text_server = TextServer()
    async with serve_websocket(text_server.serve, host, ws_port, max_size=MAX_MESSAGE_BYTES) as websocket_server:
        ws_bound = websocket_server.sockets[0].getsockname()[1]
        udp_bound = transport.get_extra_info("sockname")[1]
        logger.info("event=listening host=%s ws=%s udp=%s", host, ws_bound, udp_bound)
        background = [
            asyncio.create_task(resend(datagram_server)),
            asyncio.create_task(text_server.keep_fresh()),
            asyncio.create_task(sweep_transits()),
        ]
        if connection.vendor == "postgresql":
            background.append(asyncio.create_task(listen_for_queued(datagram_server)))
        await stop.wait()
        logger.info("event=stopping datagrams=%s messages=%s", datagram_server.handled, text_server.handled)
        for task in background:
            task.cancel()
    transport.close()


async def resend(server: DatagramServer) -> None:
    """Send each pair's first unacknowledged datagram when it is due, again and again with backoff: at every
    poll, and at once when something was queued (a datagram applied here, or a NOTIFY from a web process)."""
    while True:
        server.wake.clear()
        try:
            waiting = await due()
            for datagram in waiting:
                server.send(datagram.datagram, datagram.destination)
            if waiting:
                await sent([datagram.outbound_id for datagram in waiting])
        except asyncio.CancelledError:
            raise
        except Exception:  # the database gone a moment: try again at the next poll
            logger.exception("event=resend_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wake.wait(), RESEND_POLL_SECONDS)


async def sweep_transits() -> None:
    """Move on the routed payments whose time has come (as beat's ``transits_due`` does where beat runs)."""
    while True:
        try:
            await transits_due()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("event=transits_failed")
        await asyncio.sleep(TRANSITS_POLL_SECONDS)


async def listen_for_queued(server: DatagramServer) -> None:
    """Wake the resender whenever another process queues a datagram (PostgreSQL LISTEN/NOTIFY)."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(_conninfo(), autocommit=True) as listening:
                await listening.execute(f"LISTEN {outbox.QUEUED_CHANNEL}")
                async for _ in listening.notifies():
                    server.wake.set()
        except asyncio.CancelledError:
            raise
        except Exception:  # the database gone a moment: the poll carries on meanwhile
            logger.exception("event=listen_failed")
            await asyncio.sleep(1)


def _conninfo() -> str:
    settings = connection.settings_dict
    parts = {"dbname": settings["NAME"], "user": settings["USER"], "password": settings["PASSWORD"]}
    parts |= {"host": settings["HOST"], "port": settings["PORT"]}
    return psycopg.conninfo.make_conninfo(**{key: str(value) for key, value in parts.items() if value})
