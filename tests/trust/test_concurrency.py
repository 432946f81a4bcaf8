"""Settlement under concurrency on PostgreSQL: threads, each with its own connection, pay over shared trustlines.

Threads start together at a barrier and run a fixed number of operations; afterwards the money
invariants must hold and no thread may have seen anything but the documented refusals.
"""

import random
import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from itertools import pairwise

import pytest
from django.db import connection

from core.errors import ApplicationError
from tests.trust.factories import community_with_commons, member_account, trust
from tests.trust.invariants import assert_invariants, assert_limits_kept, line_states
from trust import selectors
from trust.models import Account, Payment, PaymentLeg, Trustline
from trust.services import holds, settlement
from trust.services.moving import StaleRoute
from trust.services.payments import payment_change_status, payment_request, payment_send

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
UNIT = 1_000_000
# Refusals a payment may meet when others drain the same lines first; anything else is a failure.
CONTENTION_REFUSALS = {"insufficient_capacity", "route_changed"}


def in_threads(work: Callable[[int], Counter], count: int = THREADS) -> Counter:
    """Run ``work(thread_index)`` in ``count`` threads started together; sum their outcome counters.

    Any exception a thread raises (an unexpected refusal included) fails the test with its traceback.
    """
    barrier = threading.Barrier(count)
    outcomes: list[Counter] = []
    failures: list[BaseException] = []

    def main(index: int) -> None:
        try:
            barrier.wait()
            outcomes.append(work(index))
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread below
            failures.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=main, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)  # a guard against a hang, not a timing assertion
    assert not any(thread.is_alive() for thread in threads), "a thread hangs"
    if failures:
        raise failures[0]
    return sum(outcomes, Counter())


def pay(payer: Account, payee: Account, amount: int, outcome: Counter) -> Payment | None:
    """Send a payment; count it as ``paid`` or by its refusal code, which must be a contention refusal."""
    try:
        payment = payment_send(payer=payer, payee=payee, amount=amount)
    except ApplicationError as exc:
        assert exc.code in CONTENTION_REFUSALS, f"unexpected refusal {exc.code}: {exc.message}"
        outcome[exc.code] += 1
        return None
    outcome["paid"] += 1
    return payment


@pytest.fixture
def retries(monkeypatch) -> list[str]:
    """Every database error settlement considered retrying (deadlocks, serialization failures)."""
    seen: list[str] = []
    original = settlement._retryable

    def counting(exc):
        seen.append(str(exc.__cause__ or exc))
        return original(exc)

    monkeypatch.setattr(settlement, "_retryable", counting)
    return seen


@pytest.fixture
def ring() -> list[Account]:
    """Ten members of a taxed community with hop fees: a ring of trust both ways and chords three apart,
    so many multi-hop routes share lines."""
    community = community_with_commons(minimum_trust_index=Decimal("0.02"), hop_fee_ppm=5_000, commons_limit=500 * UNIT)
    members = [member_account(community, f"m{i}") for i in range(10)]
    for i, account in enumerate(members):
        for step, limit in ((1, 60 * UNIT), (3, 25 * UNIT)):
            other = members[(i + step) % len(members)]
            trust(account, other, limit)
            trust(other, account, limit)
    return members


def random_traffic(members: list[Account], *, status_changes: bool, rounds: int = 40) -> Callable[[int], Counter]:
    """Each thread: ``rounds`` random payments; with ``status_changes``, some are payees declining what they got
    and some are payment requests their payer accepts."""

    def change(payment: Payment, account: Account, action: str, outcome: Counter, *, done: str) -> None:
        try:
            payment_change_status(payment=payment, account=account, action=action)
        except ApplicationError as exc:
            assert exc.code in CONTENTION_REFUSALS, f"unexpected refusal {exc.code}: {exc.message}"
            outcome[exc.code] += 1
        else:
            outcome[done] += 1

    def work(index: int) -> Counter:
        rng = random.Random(index)
        outcome: Counter = Counter()
        received: list[Payment] = []
        for _ in range(rounds):
            payer, payee = rng.sample(members, 2)
            amount = rng.randint(1, 40) * UNIT + rng.randint(0, 999_999)
            roll = rng.random() if status_changes else 1
            if roll < 0.15 and received:  # each payment is declined at most once
                original = received.pop(rng.randrange(len(received)))
                change(original, original.payee, "decline", outcome, done="declined")
            elif roll < 0.3:
                request = payment_request(payee=payee, payer=payer, amount=amount)
                change(request, payer, "accept", outcome, done="accepted")
            elif payment := pay(payer, payee, amount, outcome):
                received.append(payment)
        return outcome

    return work


def assert_traffic_kept_the_invariants(members: list[Account], outcome: Counter, retries: list[str]) -> None:
    community = members[0].community
    assert outcome["paid"] >= 40 and outcome["insufficient_capacity"] > 0, outcome  # both really happened
    assert PaymentLeg.objects.filter(payment__community=community, hop__gte=2).exists(), "no multi-hop payment"
    assert_limits_kept({}, line_states(community))  # no limit was lowered: every debt is within its limit
    _, states = assert_invariants(community)
    finalized = sum(1 for state, *_ in states.values() if state == Payment.State.FINALIZED)
    assert finalized == outcome["paid"] + outcome["declined"] + outcome["accepted"]
    assert not retries, f"locking trustlines in primary-key order should leave nothing to retry: {retries}"


def test_random_routed_payments_keep_every_invariant(ring, retries):
    outcome = in_threads(random_traffic(ring, status_changes=False))
    assert_traffic_kept_the_invariants(ring, outcome, retries)


def test_random_payments_with_declines_and_accepted_requests_keep_every_invariant(ring, retries):
    """Declines and accepted requests lock the payment row before settling: they must not deadlock either."""
    outcome = in_threads(random_traffic(ring, status_changes=True))
    assert outcome["declined"] and outcome["accepted"], outcome
    assert_traffic_kept_the_invariants(ring, outcome, retries)


def test_one_trustline_hammered_from_every_thread_gives_exactly_its_limit():
    community = community_with_commons(commons_limit=0)  # no way around the one line
    creditor, debtor = member_account(community, "creditor"), member_account(community, "debtor")
    line = trust(creditor, debtor, 20 * UNIT)

    def work(index: int) -> Counter:
        outcome: Counter = Counter()
        for _ in range(40):  # each thread pays until it is refused for capacity
            if pay(debtor, creditor, UNIT, outcome) is None and outcome["insufficient_capacity"]:
                break
        return outcome

    outcome = in_threads(work)

    assert outcome["paid"] == 20, outcome
    assert outcome["insufficient_capacity"] == THREADS, outcome  # every thread was refused in the end
    line.refresh_from_db()
    assert line.owed_to(creditor.pk) == 20 * UNIT == line.limit_extended_by(creditor.pk)
    net, _ = assert_invariants(community)
    assert net[debtor.pk] == -20 * UNIT and net[creditor.pk] == 20 * UNIT


def test_payments_crossing_the_same_lines_in_opposite_orders_never_deadlock(retries):
    community = community_with_commons(commons_limit=0)
    chain = [member_account(community, handle) for handle in ("a", "b", "c", "d", "e")]
    for u, v in pairwise(chain):
        trust(u, v, 1_000 * UNIT)
        trust(v, u, 1_000 * UNIT)
    # Payments only go end to end, so every one locks all four lines: half of them from each end.
    ends = [(chain[0], chain[-1]), (chain[-1], chain[0])]
    before = line_states(community)

    def work(index: int) -> Counter:
        payer, payee = ends[index % 2]
        outcome: Counter = Counter()
        for _ in range(30):
            pay(payer, payee, UNIT, outcome)
        return outcome

    outcome = in_threads(work)

    assert outcome == Counter(paid=THREADS * 30), outcome
    assert not retries, f"locking trustlines in primary-key order should leave nothing to retry: {retries}"
    assert_limits_kept(before, line_states(community))
    net, _ = assert_invariants(community)
    assert all(not balance for balance in net.values())  # as many payments each way
    assert PaymentLeg.objects.filter(payment__community=community).count() == THREADS * 30 * 4


def test_holds_and_payments_at_once_never_promise_a_line_past_its_limit():
    """Threads hold (as payments between instances do), settle, release and pay locally over one line at
    once: its holds never add up past the credit, and what settles is exactly what was held."""
    community = community_with_commons(minimum_trust_index=Decimal("0"))
    payer, payee = member_account(community, "holder"), member_account(community, "receiver")
    trust(payee, payer, 10 * UNIT)

    line_id = selectors.trustline_between(first=payer, second=payee).pk

    def promised_within_the_credit() -> None:
        line = Trustline.objects.get(pk=line_id)
        sender_holds = line.held_from_low if line.low_id == payer.pk else line.held_from_high
        assert -line.owed_to(payer.pk) + sender_holds <= 10 * UNIT, line

    def work(index: int) -> Counter:
        seen = Counter()
        rng = random.Random(index)
        for _ in range(15):
            amount = rng.randint(1, 3) * UNIT
            if index % 2:
                try:
                    payment_send(payer=payer, payee=payee, amount=amount)
                    seen["paid"] += 1
                except ApplicationError as exc:
                    assert exc.code in CONTENTION_REFUSALS, exc.code
                    seen["refused"] += 1
                continue
            try:
                plan = settlement.plan_here(payer, payee, amount, taxed=False)
                held = holds.hold_place(Payment(community=community, payer=payer, payee=payee, amount=amount), plan)
            except (ApplicationError, StaleRoute):
                seen["refused"] += 1
                continue
            promised_within_the_credit()
            if rng.random() < 0.5:
                holds.hold_settle(held)
                seen["settled"] += 1
            else:
                holds.hold_release(held, reason="test")
                seen["released"] += 1
            promised_within_the_credit()
        return seen

    outcomes = in_threads(work)

    assert outcomes["settled"] + outcomes["paid"] > 0 and outcomes["refused"] > 0
    line = Trustline.objects.get(pk=line_id)
    assert (line.held_from_low, line.held_from_high) == (0, 0)
    moved = sum(Payment.objects.filter(state=Payment.State.FINALIZED).values_list("amount", flat=True))
    assert line.owed_to(payee.pk) == moved <= 10 * UNIT
    assert not PaymentLeg.objects.filter(payment__state=Payment.State.CANCELLED).exists()
    assert_invariants(community)
