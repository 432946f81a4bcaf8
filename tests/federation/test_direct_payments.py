"""Direct payments between instances, each side's step in one process: a DIRECT_PAYMENT is applied once (a
repeat gets the first answer, a replay nothing), refused changing nothing when the line cannot carry it;
the sender's payment ends on the first acknowledgement, finalized or undone with its tax."""

from decimal import Decimal

import pytest

from core.money import MICRO
from federation.models import Outbound
from federation.protocols.datagrams import PeerCommand, PeerDatagram, Session, Status
from federation.services import datagrams, lines, pairs, remotes
from federation.services.datagrams import Acceptance
from tests.factories import CommunityFactory, MemberFactory
from tests.federation.peers import FakeNetwork, FakePeer
from tests.trust.helpers import account
from trust import selectors
from trust.models import Payment
from trust.services import accounts, remote_payments

LAKE = "lake.lake.example"


@pytest.fixture
def line(db, monkeypatch):
    """alice here, bob on lake: alice extends bob 10 and bob extends alice 10."""
    peer = FakePeer("lake.example", communities=[{"slug": "lake", "host": LAKE, "name": "Lake"}])
    FakeNetwork(monkeypatch, peer)
    remotes.remote_add(address=peer.address)
    alice = MemberFactory(community=CommunityFactory(slug="river", minimum_trust_index=Decimal("0.01")), handle="alice")
    pair = pairs.pair_open(member=alice, address=f"bob@{LAKE}")
    mine, bob, _ = lines.line_open(pair=pair)
    accounts.trustline_set_limit(owner=mine, other=bob, limit=10 * MICRO)
    lines.line_mirror_limit(pair=pair, limit=10 * MICRO)
    return pair, mine, bob


def direct_payment(pair, counter: int, amount: int) -> PeerDatagram:
    arguments = {"amount": amount, "tax": 0, "counter": 1000 + counter}
    return PeerDatagram(Session.ACCOUNT, "alice", "bob", LAKE, counter, PeerCommand.DIRECT_PAYMENT, arguments)


def owed_to_alice(mine, bob) -> int:
    return selectors.trustline_between(first=mine, second=bob).owed_to(mine.pk)


def test_a_received_payment_is_applied_once_and_a_repeat_gets_the_first_answer(line):
    pair, mine, bob = line

    assert datagrams.datagram_accept(pair_id=pair.pk, message=direct_payment(pair, 1, 3 * MICRO)) == (
        Acceptance.NEW,
        Status.OK,
    )
    again = datagrams.datagram_accept(pair_id=pair.pk, message=direct_payment(pair, 1, 3 * MICRO))
    assert again == (Acceptance.DUPLICATE, Status.OK)
    assert owed_to_alice(mine, bob) == 3 * MICRO  # bob paid alice 3 on the credit she extends him
    refused = datagrams.datagram_accept(pair_id=pair.pk, message=direct_payment(pair, 2, 100 * MICRO))
    assert refused == (Acceptance.NEW, Status.REFUSED)
    assert datagrams.datagram_accept(pair_id=pair.pk, message=direct_payment(pair, 2, 100 * MICRO)) == (
        Acceptance.DUPLICATE,
        Status.REFUSED,
    )
    assert datagrams.datagram_accept(pair_id=pair.pk, message=direct_payment(pair, 1, 3 * MICRO))[0] == (
        Acceptance.REPLAYED
    )
    assert owed_to_alice(mine, bob) == 3 * MICRO
    received = Payment.objects.filter(payer=bob, payee=mine)
    assert [(p.amount, p.tax, p.state) for p in received] == [(3 * MICRO, 0, Payment.State.FINALIZED)]


def acknowledgement(outbound: Outbound, payment: Payment, status: Status) -> PeerDatagram:
    arguments = {"counter": payment.pk, "status": status}
    return PeerDatagram(Session.ACCOUNT, "alice", "bob", LAKE, outbound.counter, PeerCommand.ACK_PAYMENT, arguments)


@pytest.mark.parametrize("status", [Status.OK, Status.REFUSED])
def test_a_sent_payment_ends_on_the_first_answer(line, status):
    pair, mine, bob = line
    commons = selectors.account_find(community=mine.community, handle="commons")
    before = (owed_to_alice(mine, bob), selectors.net_balance(account=commons))

    sent = remote_payments.remote_payment_send(payer=account(pair.member), payee=bob, amount=4 * MICRO)
    outbound = Outbound.objects.get(command=PeerCommand.DIRECT_PAYMENT)
    assert (sent.state, sent.tax, outbound.counter) == (Payment.State.COMMITTED, 40_000, 2)  # after alice's limit
    assert owed_to_alice(mine, bob) == before[0] - 4 * MICRO

    assert datagrams.outbound_acknowledged(pair_id=pair.pk, message=acknowledgement(outbound, sent, status))
    assert not datagrams.outbound_acknowledged(pair_id=pair.pk, message=acknowledgement(outbound, sent, status))

    sent.refresh_from_db()
    if status == Status.OK:
        assert sent.state == Payment.State.FINALIZED and owed_to_alice(mine, bob) == before[0] - 4 * MICRO
        assert selectors.net_balance(account=commons) == before[1] + 40_000
    else:
        assert sent.state == Payment.State.CANCELLED and sent.cancel_reason
        assert (owed_to_alice(mine, bob), selectors.net_balance(account=commons)) == before
        given_back = sorted((p.kind, p.amount) for p in sent.followups.all())
        assert given_back == [(Payment.Kind.REFUND, 40_000), (Payment.Kind.RETURN, 4 * MICRO)]
