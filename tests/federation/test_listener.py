"""Instances on loopback, each with its own database, web server and ``runpeer``: they find and PING each
other, pin each other's documents, pair accounts with agreed keys, and deliver datagrams exactly once,
refusing forged, replayed, truncated and oversize ones, also across a kill -9 of a listener."""

import asyncio
import socket

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench.workload.instances import wait_for
from federation import peers
from federation.models import Outbound, Remote
from federation.pairing import session_key
from federation.protocols import datagrams, text
from federation.protocols.datagrams import PeerCommand, Status
from federation.protocols.results import CMResult
from federation.selectors import pair_key_of
from federation.services import outbox, pairs, remotes
from tests.factories import CommunityFactory, MemberFactory

pytestmark = [pytest.mark.postgres]

LIMIT = {"limit": 5_000_000}


def befriend(here, there) -> None:
    """Each instance adds the other as a remote: documents fetched, verified and pinned, PING answered."""
    remotes.remote_add(address=there.address)
    added = there.manage("remote", "add", here.address)
    assert added.returncode == 0, added.stderr


@pytest.fixture
def paired(here, instances):
    """alice here and bob there, paired on both sides; both listeners running."""
    there = instances("there", "there.test")
    here.start_peer()
    alice = MemberFactory(community=CommunityFactory(slug="river"), handle="alice")
    made = there.manage("create_community", "lake", "--name", "Lake", "--admin", "bob", "--password", "pw-123456-x")
    assert made.returncode == 0, made.stderr
    befriend(here, there)  # after the communities: each document lists the other's
    there.shell(
        "from bank.models import Member; from federation.services.pairs import pair_open; "
        f"pair_open(member=Member.objects.get(handle='bob'), address='alice@{alice.community.address_domain}')"
    )
    return there, pairs.pair_open(member=alice, address="bob@lake.there.test")


def delivered(pair, outbound: Outbound) -> None:
    wait_for(lambda: Outbound.objects.get(pk=outbound.pk).acked_at is not None, f"datagram {outbound.counter}'s ack")


def inbound(there) -> list[tuple]:
    return there.sql("SELECT counter, command, arguments FROM federation_inbound ORDER BY counter")


def udp(instance, data: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(data, ("127.0.0.1", instance.udp_port))
        return sock.recv(2048)


def test_two_instances_ping_and_pin_each_other(here, instances):
    there = instances("there", "there.test")
    there.shell("from federation.tasks import refresh_score; refresh_score(); refresh_score()")
    here.start_peer()

    befriend(here, there)

    remote = Remote.objects.get()
    document = peers.fetch_document("127.0.0.1", there.web_port)
    assert (remote.url, remote.sign_key, remote.score) == (there.url, document["keys"]["sign"], 2)
    held = there.sql("SELECT host, port, sign_key, score FROM federation_remote")
    assert held == [
        (here.web_host, here.web_port, peers.fetch_document(here.web_host, here.web_port)["keys"]["sign"], 0)
    ]
    wait_for(lambda: peers.ping(there.ws).header("SEEN") == here.address, "there's PING telling it has seen here")
    answer = peers.ping(there.ws)  # what PING tells is read again every second
    assert (answer.result, answer.header("YOUR-IP")) == (CMResult.S_OK, "127.0.0.1")
    assert answer.header("SCORE").split(" ")[0] == "4"  # there's score, made at its strength
    shown = there.manage("remote", "show").stdout
    assert here.address in shown and "never" not in shown
    wait_for(lambda: peers.ping(here.ws).header("SEEN") == there.address, "here's PING telling it has seen there")


def test_a_datagram_is_delivered_once_and_acknowledged(paired):
    there, pair = paired

    outbound = outbox.datagram_queue(pair=pair, command=PeerCommand.SYNC_TRUSTLINE, arguments=LIMIT)
    delivered(pair, outbound)

    assert inbound(there) == [(1, PeerCommand.SYNC_TRUSTLINE, LIMIT)]
    assert Outbound.objects.get(pk=outbound.pk).status == Status.OK
    again = datagrams.decode(udp(there, bytes(outbound.datagram)))  # a retransmission: acknowledged again, not applied
    assert (again.command, again.counter, again.arguments) == (PeerCommand.ACK_TRUSTLINE, 1, LIMIT)
    assert len(inbound(there)) == 1


def test_forged_replayed_truncated_and_oversize_datagrams_are_refused_and_change_nothing(paired):
    there, pair = paired
    first = outbox.datagram_queue(pair=pair, command=PeerCommand.SYNC_TRUSTLINE, arguments=LIMIT)
    second = outbox.datagram_queue(
        pair=pair, command=PeerCommand.DIRECT_PAYMENT, arguments={"amount": 7, "tax": 0, "counter": 1}
    )
    delivered(pair, second)
    before = inbound(there)
    keys = pair_key_of(pair)  # the next datagram, signed as the outbox would, but never queued: sent forged
    key = session_key(keys.base_key, sender=keys.local_address, counter=3)
    forged = bytearray(datagrams.encode(keys.datagram(3, PeerCommand.SYNC_TRUSTLINE, LIMIT), key))
    forged[-1] ^= 1

    for data, status in (
        (forged, Status.BAD_SIGNATURE),
        (bytes(first.datagram), Status.REPLAYED),
        (bytes(first.datagram)[:-40], Status.MALFORMED),
        (bytes(1201), Status.TOO_LARGE),
        (b"\x09", Status.UNKNOWN_SESSION),
    ):
        answer = datagrams.decode(udp(there, data))
        assert isinstance(answer, datagrams.Notice) and answer.status == status, (status, answer)
    assert (
        inbound(there)
        == before
        == [
            (1, PeerCommand.SYNC_TRUSTLINE, LIMIT),
            (2, PeerCommand.DIRECT_PAYMENT, {"amount": 7, "tax": 0, "counter": 1}),
        ]
    )


def test_retransmission_delivers_exactly_once_across_a_kill_of_both_listeners(here, paired):
    there, pair = paired
    here.peer.kill()
    there.peer.kill()
    outbound = outbox.datagram_queue(pair=pair, command=PeerCommand.SYNC_TRUSTLINE, arguments=LIMIT)

    here.start_peer()  # the queue outlived the sender's listener; the receiver is down
    wait_for(lambda: Outbound.objects.get(pk=outbound.pk).attempts >= 2, "two attempts unanswered")
    there.start_peer()
    delivered(pair, outbound)

    sent = Outbound.objects.get(pk=outbound.pk)
    assert sent.attempts >= 3 and inbound(there) == [(1, PeerCommand.SYNC_TRUSTLINE, LIMIT)]


def test_the_text_protocol_refuses_bad_frames_and_stays_usable(here, instances):
    there = instances("there", "there.test")

    async def converse() -> list:
        async with connect(there.ws, max_size=None) as socket_:
            answers = []
            for frame in ("CMD HELLO n1\nEND n1\n", "garbage", b"\x00binary", "CMD PING n2\nEND n2\n"):
                await socket_.send(frame)
                answers.append(text.parse_response(await socket_.recv()))
            await socket_.send("CMD PING big\nX: " + "x" * 70_000 + "\nEND big\n")
            with pytest.raises(ConnectionClosed) as closed:
                await socket_.recv()
            return [*answers, closed.value.rcvd.code if closed.value.rcvd else None]

    unknown, malformed, binary, ping, closed_with = asyncio.run(converse())
    assert (unknown.result, unknown.nonce) == (CMResult.E_Invalid_Action, "n1")
    assert malformed.result == binary.result == CMResult.E_Invalid_Request and malformed.header("REASON")
    assert (ping.result, ping.nonce) == (CMResult.S_OK, "n2")
    assert closed_with == 1009  # message too big: the peer is dropped, the listener goes on
    assert peers.ping(there.ws).result == CMResult.S_OK
    process = there.peer.process
    there.peer.stop()  # SIGTERM: a clean stop, not a kill
    assert process.returncode == 0 and "event=stopping" in (there.folder / "there-peer.log").read_text()


def test_three_instances_find_each_other_through_the_seen_lists(here, instances, settings):
    settings.REMOTES_MIN_SCORE_SUM = 1  # every remote here has score 0: the sum stays below it
    second, third = instances("second", "second.test"), instances("third", "third.test")
    here.start_peer()  # three listeners
    remotes.remote_add(address=second.address)
    assert second.manage("remote", "add", third.address).returncode == 0
    wait_for(lambda: peers.ping(second.ws).header("SEEN") == third.address, "second's PING telling it has seen third")

    update = remotes.remote_update()

    assert (update.refreshed, update.added) == ([second.address], [third.address])
    assert set(Remote.objects.values_list("port", flat=True)) == {second.web_port, third.web_port}
    assert third.manage("remote", "add", here.address).returncode == 0  # and the third finds this one back
    assert all(peers.ping(instance.ws).result == CMResult.S_OK for instance in (here, second, third))
