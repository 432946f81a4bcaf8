"""Routed payments across three instances under faults: every instance is reached through a lossy proxy.

- Lossy links: datagrams dropped, duplicated and reordered both ways; every payment still settles exactly once.
- Kill -9 at every step: each datagram of the protocol is held at the proxy of the instance it goes to, and
  while it is held each instance of the path in turn is killed and started again; the payment then ends the
  same on all three (finalized, as nothing refuses it) and nothing is created, lost or left held.
- An instance that never returns: the others release their holds by their deadlines and lose nothing.
- hypothesis: payments, link weather and kills in any order, the books checked at rest after every step.

After every payment both copies of each cross-instance line agree, bob's net is zero and every audit is clean.
"""

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from bench.workload.instances import wait_for
from federation.protocols.datagrams import PeerCommand
from tests.federation.proxy import Faults
from tests.federation.test_routed_payments import (
    CAROL,
    LIMITS,
    LINES,
    MICRO,
    OPEN_TRANSITS,
    build_chain,
    here_lines,
    open_line,
    settled_everywhere,
)
from trust.models import Payment

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TIMING = {
    "FEDERATED_SEARCH_SECONDS": "20",
    "FEDERATED_HOLD_SECONDS": "20",
    "FEDERATED_DEADLINE_STEP_SECONDS": "3",
    "FEDERATED_VERIFY_INTERVAL_SECONDS": "1",
    "FEDERATED_ABANDON_SECONDS": "8",
}
FINAL = (Payment.State.FINALIZED, Payment.State.CANCELLED)


@pytest.fixture
def proxied_chain(here, instances, settings):
    settings.FEDERATED_PAYMENT_WAIT_SECONDS = 0
    alice, lake, sea, proxies = build_chain(here, instances, settings, proxied=True, **TIMING)
    yield alice, lake, sea, proxies
    for proxy in proxies.values():
        proxy.stop()


def pay(alice, amount: str = "1") -> int:
    sent = alice.post("user/payment", {**CAROL, "amount": amount})
    assert sent.status_code == 202, sent.content
    return sent.json()["id"]


def ended(payment_id: int) -> str | None:
    state = Payment.objects.get(pk=payment_id).state
    return state if state in FINAL else None


def books_agree(lake, sea, paid: int) -> None:
    """Both copies of both lines show ``paid`` moved, bob's net is zero, and the payee got it once."""
    assert here_lines() == [("bob@lake.there.test", -paid, 0)]
    assert lake.sql(LINES) == [("alice@river.localhost", paid, 0), ("carol@sea.third.test", -paid, 0)]
    assert sea.sql(LINES) == [("bob@lake.there.test", paid, 0)]
    received = sea.sql("SELECT coalesce(sum(amount), 0) FROM trust_payment WHERE state = 'finalized'")
    assert received == [(paid,)]


def test_payments_settle_exactly_once_over_lossy_links(proxied_chain):
    alice, lake, sea, proxies = proxied_chain
    for seed, proxy in enumerate(proxies.values()):
        proxy.faults = Faults(drop=0.2, duplicate=0.15, reorder=0.15)
        proxy.random.seed(seed)

    payments = [pay(alice) for _ in range(4)]
    for payment_id in payments:
        wait_for(lambda payment_id=payment_id: ended(payment_id), f"payment {payment_id} ending", seconds=120)

    assert [ended(payment_id) for payment_id in payments] == ["finalized"] * 4
    assert sum(proxy.counts["dropped"] for proxy in proxies.values()) > 0
    assert sum(proxy.counts["duplicated"] for proxy in proxies.values()) > 0
    settled_everywhere(lake, sea)
    books_agree(lake, sea, 4 * MICRO)


# Each datagram of a payment's way, held at the proxy of the instance it goes to.
STEPS = [
    ("sea", PeerCommand.SYNC_PAYMENT),
    ("lake", PeerCommand.FIND_PATH),
    ("sea", PeerCommand.FIND_PATH),
    ("lake", PeerCommand.PATH_FOUND),
    ("river", PeerCommand.PATH_FOUND),
    ("lake", PeerCommand.PREPARE_PATH),
    ("sea", PeerCommand.PREPARE_PATH),
    ("river", PeerCommand.COMMIT_PAYMENT),
    ("sea", PeerCommand.SEAL_PAYMENT),
    ("lake", PeerCommand.FINALIZE_PAYMENT),
    ("river", PeerCommand.FINALIZE_PAYMENT),
]


def restart(here, name: str, instance) -> None:
    """kill -9 the instance's processes, then start them again (river's web server is the test's own)."""
    if name == "river":
        here.peer.kill()
        here.start_peer()
        return
    instance.web.kill()
    instance.peer.kill()
    instance.start_web()
    instance.start_peer()


def test_a_payment_survives_any_instance_killed_at_any_step(here, proxied_chain):
    alice, lake, sea, proxies = proxied_chain
    open_line(lake, "bob", "alice@river.localhost", 100 * MICRO)  # room for the 33 payments
    open_line(sea, "carol", "bob@lake.there.test", 100 * MICRO)
    wait_for(lambda: alice.accounts()["bob"]["limit_in"] == "100.000000", "bob's credit reaching river")
    wait_for(lambda: (0, 100 * MICRO) in [row[1:] for row in lake.sql(LIMITS)], "carol's credit reaching lake")
    instances = {"river": None, "lake": lake, "sea": sea}
    paid = 0
    for at, command in STEPS:
        for victim in instances:
            proxies[at].hold(command)
            payment_id = pay(alice)
            where = f"{command.name} to {at}, {victim} killed"
            wait_for(lambda at=at, command=command: command in proxies[at].held_commands(), f"{where}: held")
            restart(here, victim, instances[victim])
            proxies[at].release()
            wait_for(lambda payment_id=payment_id: ended(payment_id), f"{where}: the payment ending", seconds=60)
            assert ended(payment_id) == "finalized", where
            paid += MICRO
            for instance in (lake, sea):
                wait_for(lambda instance=instance: instance.sql(OPEN_TRANSITS) == [(0,)], f"{instance.name} done")
            books_agree(lake, sea, paid)
    settled_everywhere(lake, sea)


def test_an_instance_that_never_returns_costs_the_others_nothing(proxied_chain):
    alice, lake, sea, proxies = proxied_chain
    proxies["river"].hold(PeerCommand.COMMIT_PAYMENT)  # every hold is placed; sea is about to tell river
    payment_id = pay(alice)
    wait_for(lambda: PeerCommand.COMMIT_PAYMENT in proxies["river"].held_commands(), "COMMIT_PAYMENT held")
    assert lake.sql("SELECT sum(held_from_low + held_from_high) FROM trust_trustline") == [(2 * MICRO,)]
    sea.web.kill()
    sea.peer.kill()  # and it never comes back
    proxies["river"].release()

    wait_for(lambda: ended(payment_id), "the payment ending by its deadline", seconds=90)
    assert ended(payment_id) == "cancelled"
    wait_for(lambda: lake.sql(OPEN_TRANSITS) == [(0,)], "lake releasing its holds", seconds=60)
    assert here_lines() == [("bob@lake.there.test", 0, 0)]
    assert lake.sql(LINES) == [("alice@river.localhost", 0, 0), ("carol@sea.third.test", 0, 0)]
    assert alice.accounts()["commons"]["balance"] == "0.000000"


WEATHER = st.tuples(st.sampled_from([0.0, 0.1, 0.3]), st.sampled_from([0.0, 0.2]), st.sampled_from([0.0, 0.2]))
FAULTS = st.one_of(st.none(), WEATHER.map(lambda shares: Faults(*shares)), st.sampled_from(["river", "lake", "sea"]))


class FederationMachine(RuleBasedStateMachine):
    """Payments sent while links lose, duplicate and reorder datagrams and instances are killed and started
    again (while the payment is in flight), as hypothesis picks them; once everything has come to rest, after
    every step: each payment ended the same on all three instances, the copies of both lines agree with what
    settled, and nothing is held."""

    chain = None  # (here, alice, lake, sea, proxies), built once for every example

    @initialize()
    def start(self):
        self.here, self.alice, self.lake, self.sea, self.proxies = FederationMachine.chain
        self.sent: list[int] = []

    @rule(amount=st.sampled_from(["0.5", "1", "2.25"]), fault=FAULTS)
    def pay_meanwhile(self, amount, fault):
        self.sent.append(pay(self.alice, amount))
        if isinstance(fault, Faults):
            for proxy in self.proxies.values():
                proxy.faults = fault
        elif fault is not None:
            restart(self.here, fault, {"river": None, "lake": self.lake, "sea": self.sea}[fault])

    @invariant()
    def books_agree_at_rest(self):
        if not self.sent:
            return
        for payment_id in self.sent:
            wait_for(lambda payment_id=payment_id: ended(payment_id), f"payment {payment_id} ending", seconds=120)
        for instance in (self.lake, self.sea):
            wait_for(lambda instance=instance: instance.sql(OPEN_TRANSITS) == [(0,)], f"{instance.name} at rest")
        finalized = Payment.objects.filter(payer__kind="member", payee__kind="remote", state="finalized")
        books_agree(self.lake, self.sea, sum(finalized.values_list("amount", flat=True)))


def test_random_payments_faults_and_kills_keep_the_books(here, proxied_chain):
    alice, lake, sea, proxies = proxied_chain
    FederationMachine.chain = (here, alice, lake, sea, proxies)
    run_state_machine_as_test(
        FederationMachine, settings=settings(max_examples=4, stateful_step_count=8, deadline=None)
    )
