"""The Civil Money text protocol over WebSocket: one request, one answer, the connection kept open."""

import asyncio
import logging

from django.conf import settings
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from federation.listener import answers
from federation.listener.limits import Connections, Rate
from federation.listener.threads import in_thread
from federation.protocols import text
from federation.protocols.results import CMResult

logger = logging.getLogger("federation.listener")
POLICY_VIOLATION = 1008

read_snapshot = in_thread(answers.snapshot)


class TextServer:
    def __init__(self) -> None:
        self.connections = Connections(settings.PEER_MAX_CONNECTIONS_PER_ADDRESS)
        self.rate = Rate(settings.PEER_MESSAGES_PER_SECOND)
        self.handled = 0
        self.known = answers.Snapshot()
        self.handlers = {"PING": self.ping, "GET": in_thread(answers.account_get)}

    async def keep_fresh(self) -> None:
        """Read what PING tells again every second (a PING is answered in the event loop, no database)."""
        while True:
            try:
                self.known = await read_snapshot()
            except Exception:  # the database gone a moment: PING tells the last snapshot meanwhile
                logger.exception("event=snapshot_failed")
            await asyncio.sleep(answers.SNAPSHOT_SECONDS)

    async def ping(self, request: text.Request, address: str) -> text.Response:
        return answers.ping(request, address, self.known)

    async def serve(self, websocket: ServerConnection) -> None:
        address = websocket.remote_address[0] if websocket.remote_address else "unknown"
        if not self.connections.open(address):
            await websocket.close(POLICY_VIOLATION, "too many connections from your address")
            return
        try:
            while True:
                try:
                    message = await asyncio.wait_for(websocket.recv(), settings.PEER_IDLE_SECONDS)
                except TimeoutError:
                    await websocket.close(reason="idle")
                    return
                self.handled += 1
                if not self.rate.allow(address):
                    await websocket.close(POLICY_VIOLATION, "too many messages")
                    return
                await websocket.send(await self.answer(message, address))
        except ConnectionClosed:
            pass
        finally:
            self.connections.close(address)

    async def answer(self, message: str | bytes, address: str) -> str:
        if isinstance(message, bytes):
            return _refused(text.Response(CMResult.E_Invalid_Request, "0"), "binary frames are not the text protocol")
        try:
            request = text.parse_request(message)
        except text.ProtocolError as exc:
            return _refused(text.error_response(exc), str(exc))
        handler = self.handlers.get(request.action)
        if handler is None:
            return _refused(text.Response(CMResult.E_Invalid_Action, request.nonce), f"unknown action {request.action}")
        try:
            return text.encode_response(await handler(request, address))
        except Exception:
            logger.exception("event=request_failed action=%s source=%s", request.action, address)
            return _refused(text.Response(CMResult.E_General_Failure, request.nonce), "the request failed here")


def _refused(response: text.Response, reason: str) -> str:
    """``response`` with a REASON header a person can read (printable, bounded)."""
    shown = "".join(character if character.isprintable() else "?" for character in reason)[:200]
    return text.encode_response(text.Response(response.result, response.nonce, headers=(("REASON", shown),)))
