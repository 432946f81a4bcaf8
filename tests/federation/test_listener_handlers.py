"""The listener's handlers take anything: every text frame gets an answer and every datagram an answer or
silence, and nothing escapes them (the servers' own code, in one event loop, without sockets)."""

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from federation.listener.udp import DatagramServer
from federation.listener.ws import TextServer
from federation.protocols import datagrams, text
from federation.protocols.datagrams import Notice, PeerCommand, PeerDatagram, Session
from federation.protocols.results import CMResult

PING = text.encode_request(text.Request("PING", "n1"))


class Transport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendto(self, data: bytes, address: tuple) -> None:
        self.sent.append(data)

    def is_closing(self) -> bool:
        return False


def mutations(valid: str | bytes):
    """``valid`` with slices replaced by arbitrary text or bytes."""
    pieces = st.text(max_size=20) if isinstance(valid, str) else st.binary(max_size=20)
    return st.tuples(st.integers(0, len(valid)), st.integers(0, 8), pieces).map(
        lambda change: valid[: change[0]] + change[2] + valid[change[0] + change[1] :]
    )


@settings(max_examples=400, deadline=None)
@given(frame=st.one_of(st.text(max_size=300), st.binary(max_size=300), mutations(PING)))
def test_every_text_frame_gets_an_answer(frame):
    answer = text.parse_response(asyncio.run(TextServer().answer(frame, "10.0.0.1")))

    assert answer.result in (CMResult.S_OK, CMResult.E_Invalid_Request, CMResult.E_Invalid_Action)
    if answer.result == CMResult.S_OK:
        assert text.parse_request(frame).action == "PING"
    if frame in (PING, PING.rstrip("\n")):
        assert answer.result == CMResult.S_OK


VALID = datagrams.encode(
    PeerDatagram(Session.ACCOUNT, "amy", "zed", "far.example", 1, PeerCommand.SYNC_TRUSTLINE, {"limit": 5}),
    bytes(32),
)


@settings(max_examples=400, deadline=None)
@given(data=st.one_of(st.binary(max_size=1300), mutations(VALID)))
def test_every_datagram_is_answered_or_handed_on_and_nothing_escapes(data):
    server, transport = DatagramServer(), Transport()
    server.connection_made(transport)
    handed_on = []

    async def receive() -> None:
        server._answer = lambda message, raw, address: handed_on.append(message) or asyncio.sleep(0)
        server.datagram_received(data, ("10.0.0.1", 9))

    asyncio.run(receive())
    if handed_on:
        assert isinstance(handed_on[0], PeerDatagram) and not transport.sent
    else:
        assert all(isinstance(datagrams.decode(reply), Notice) for reply in transport.sent)
        assert transport.sent or data[:1] == bytes([Session.NOTICE])  # a notice received is only logged
