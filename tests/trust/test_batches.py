"""Batched settlement on PostgreSQL: payments that arrive while a batch is under way settle together in the
next, a refused one does not fail its batch, and no request is lost or settled twice when a batch fails
or a process dies with its request queued.

"A batch under way" is the community's settlement lock held by a test thread, the way a batch holds it.
"""

import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from bank.models import IdempotentRequest
from core import locks
from core.errors import ApplicationError
from ledger.models import Entry
from ledger.verification import audit
from tests.bank.helpers import ApiUser, api
from tests.trust.factories import community_with_commons, member_account, trust
from tests.trust.invariants import assert_invariants
from trust import selectors
from trust.models import Payment, SettlementRequest
from trust.services import batches
from trust.services.payments import payment_send
from trust.signals import money_moved

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

UNIT = 1_000_000
State = SettlementRequest.State


@pytest.fixture
def star():
    """A hub every payer trusts, trusted by the payee: every payment crosses hub -> payee."""
    community = community_with_commons(minimum_trust_index=Decimal("0.01"), commons_limit=1_000 * UNIT)
    hub, payee = member_account(community, "hub"), member_account(community, "payee")
    payers = [member_account(community, f"p{i}") for i in range(6)]
    for payer in payers:
        trust(hub, payer, 100 * UNIT)
    trust(payee, hub, 30 * UNIT)
    return community, payers, payee


class BatchUnderWay:
    """Holds the community's settlement lock from another connection until ``release()``."""

    def __init__(self, community_id: int) -> None:
        self.held, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, args=(community_id,))
        self.thread.start()
        assert self.held.wait(10)

    def _hold(self, community_id: int) -> None:
        try:
            with transaction.atomic():
                locks.lock_for_transaction(f"trust.settlement:{community_id}")
                self.held.set()
                self.done.wait(30)
        finally:
            connection.close()

    def release(self) -> None:
        self.done.set()
        self.thread.join(10)


def send_in_threads(sends) -> tuple[list, list[threading.Thread]]:
    """Start each ``send()`` in a thread of its own; returns the outcomes (a payment, a refusal's code or an
    exception, filled in as they end) and the threads."""
    outcomes: list = []

    def run(send) -> None:
        try:
            outcomes.append(send())
        except ApplicationError as exc:
            outcomes.append(exc.code)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(send,)) for send in sends]
    for thread in threads:
        thread.start()
    return outcomes, threads


def wait_for(condition, message: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.02)


def test_outside_a_transaction_payments_settle_in_batches_and_inside_one_alone(star):
    _, payers, payee = star
    assert batches.batched()
    with transaction.atomic():
        assert not batches.batched()  # the caller's transaction must hold the payment: it settles alone
    payment = payment_send(payer=payers[0], payee=payee, amount=UNIT)
    assert Payment.objects.get(pk=payment.pk).state == Payment.State.FINALIZED
    assert not SettlementRequest.objects.exists()  # an idle community: settled at once, nothing queued


def test_payments_arriving_during_a_batch_settle_together_in_the_next(star):
    community, payers, payee = star
    before = Entry.objects.filter(community=community).count()
    under_way = BatchUnderWay(community.pk)
    outcomes, threads = send_in_threads(
        [lambda payer=payer: payment_send(payer=payer, payee=payee, amount=2 * UNIT) for payer in payers]
    )
    wait_for(lambda: SettlementRequest.objects.filter(state=State.QUEUED).count() == len(payers), "not all queued")
    under_way.release()
    for thread in threads:
        thread.join(30)

    assert len(outcomes) == len(payers) and all(isinstance(outcome, Payment) for outcome in outcomes), outcomes
    payments = Payment.objects.filter(community=community)
    assert payments.count() == len(payers)
    assert len(set(payments.values_list("settled_at", flat=True))) == 1  # one batch, one transaction
    assert set(SettlementRequest.objects.values_list("state", flat=True)) == {State.SETTLED}
    assert {request.payment_id for request in SettlementRequest.objects.all()} == {p.pk for p in outcomes}
    entries = Entry.objects.filter(community=community).order_by("receipt_id")
    assert entries.count() - before == 2 * len(payers) + len(payers)  # two hops and the tax each
    assert len({entry.payment_id for entry in entries[before:]}) == len(payers)
    assert audit(community.pk) == []
    assert_invariants(community)


def test_a_refused_payment_does_not_fail_its_batch(star):
    """Planned on the same graph, three payments of 12 over a hub -> payee line of 30: the third no longer
    fits when its turn in the batch comes; the others settle, and it is planned again and refused."""
    community, payers, payee = star
    under_way = BatchUnderWay(community.pk)
    outcomes, threads = send_in_threads(
        [lambda payer=payer: payment_send(payer=payer, payee=payee, amount=12 * UNIT) for payer in payers[:3]]
    )
    wait_for(lambda: SettlementRequest.objects.filter(state=State.QUEUED).count() == 3, "not all queued")
    under_way.release()
    for thread in threads:
        thread.join(30)

    kinds = Counter("paid" if isinstance(outcome, Payment) else outcome for outcome in outcomes)
    assert kinds == Counter(paid=2, insufficient_capacity=1), outcomes
    assert Counter(SettlementRequest.objects.values_list("state", flat=True)) == Counter(settled=2, stale=1)
    assert_invariants(community)


def test_a_request_queued_by_a_process_that_died_is_settled_by_the_next_batch(star):
    community, payers, payee = star
    orphan = queued_request(community, payers[0], payee)
    payment_send(payer=payers[1], payee=payee, amount=UNIT)

    orphan.refresh_from_db()
    assert orphan.state == State.SETTLED and orphan.payment.amount == 3 * UNIT
    assert Payment.objects.filter(community=community).count() == 2
    assert_invariants(community)


def test_a_request_a_batch_has_taken_cannot_be_withdrawn_under_it(star):
    """A withdrawal (its caller's wait failed) racing a batch that read the request would leave its payment
    settled and its row deleted, so the caller's retry would pay again: the batch locks what it takes."""
    community, payers, payee = star
    orphan = queued_request(community, payers[0], payee)
    taken, finish = threading.Event(), threading.Event()

    def batch() -> None:
        try:
            with transaction.atomic():
                locks.lock_for_transaction(f"trust.settlement:{community.pk}")
                assert [r.pk for r in SettlementRequest.objects.queued(community.pk, limit=10)] == [orphan.pk]
                taken.set()
                finish.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=batch)
    thread.start()
    assert taken.wait(10)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
            with pytest.raises(OperationalError), transaction.atomic():
                SettlementRequest.objects.filter(pk=orphan.pk, state=State.QUEUED).delete()
    finally:
        finish.set()
        thread.join(10)
    assert SettlementRequest.objects.filter(pk=orphan.pk).exists()


def test_an_idle_community_settles_abandoned_requests_from_the_beat(star):
    community, payers, payee = star
    orphan = queued_request(community, payers[0], payee)
    assert batches.settle_abandoned(older_than_seconds=60) == 0  # too recent: its process may be alive
    SettlementRequest.objects.update(created_at=timezone.now() - timedelta(seconds=61))

    assert batches.settle_abandoned(older_than_seconds=60) == 1
    orphan.refresh_from_db()
    assert orphan.state == State.SETTLED
    assert batches.settle_abandoned(older_than_seconds=60) == 0  # settled once
    assert Payment.objects.filter(community=community).count() == 1


def test_a_batch_that_fails_settles_nothing_and_its_requests_wait_for_the_next(star, monkeypatch):
    community, payers, payee = star
    orphan = queued_request(community, payers[0], payee)

    money_moved.connect(broken_books, dispatch_uid="test.broken", weak=False)
    try:
        with pytest.raises(RuntimeError):
            payment_send(payer=payers[1], payee=payee, amount=UNIT)
    finally:
        money_moved.disconnect(dispatch_uid="test.broken")

    assert not Payment.objects.exists()
    assert list(SettlementRequest.objects.values_list("pk", "state")) == [(orphan.pk, State.QUEUED)]
    payment_send(payer=payers[1], payee=payee, amount=UNIT)
    assert Payment.objects.count() == 2
    assert_invariants(community)


def test_a_request_whose_own_batch_fails_is_withdrawn_not_settled_later(star):
    """A payment queued behind a batch leads the next one; that fails: the caller hears of it, so its request must
    not stay queued to settle in some later batch."""
    community, payers, payee = star
    under_way = BatchUnderWay(community.pk)
    outcomes, threads = send_in_threads([lambda: payment_send(payer=payers[0], payee=payee, amount=UNIT)])
    wait_for(lambda: SettlementRequest.objects.filter(state=State.QUEUED).exists(), "the payment was not queued")
    money_moved.connect(broken_books, dispatch_uid="test.broken", weak=False)
    try:
        under_way.release()
        threads[0].join(30)
    finally:
        money_moved.disconnect(dispatch_uid="test.broken")

    assert [type(outcome) for outcome in outcomes] == [RuntimeError]
    assert not SettlementRequest.objects.exists() and not Payment.objects.exists()
    payment_send(payer=payers[1], payee=payee, amount=UNIT)
    assert Payment.objects.count() == 1


def test_an_idempotent_payment_whose_answer_was_lost_is_found_by_its_retry(star, monkeypatch):
    """The batch commits the payment apart from the request's idempotency record: when the request then fails,
    its retry with the same key must find that payment, not pay again."""
    community, payers, _ = star
    user = ApiUser(payers[0].member)
    user.client.raise_request_exception = False
    url, body, key = api(community, "user/payment"), {"username": "payee", "amount": "5"}, str(uuid.uuid4())
    answer = selectors.payment_of

    def lost(**kwargs):
        raise RuntimeError("the process died before answering")

    monkeypatch.setattr(selectors, "payment_of", lost)
    assert user.client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 500
    assert Payment.objects.count() == 1 and not IdempotentRequest.objects.filter(status__isnull=False).exists()

    monkeypatch.setattr(selectors, "payment_of", answer)
    retry = user.client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert retry.status_code == 201, retry.content
    assert Payment.objects.count() == 1 and retry.json()["id"] == Payment.objects.get().pk
    assert_invariants(community)


def broken_books(**_) -> None:
    raise RuntimeError("the books are unavailable")


def queued_request(community, payer, payee) -> SettlementRequest:
    """The row of a request whose process died after queueing it: planned, committed, never settled."""
    return SettlementRequest.objects.create(
        community=community,
        payer=payer,
        payee=payee,
        amount=3 * UNIT,
        legs=[
            ["payment", 0, 0, payer.pk, hub_of(community).pk, 3 * UNIT],
            ["payment", 0, 1, hub_of(community).pk, payee.pk, 3 * UNIT],
        ],
    )


def hub_of(community):
    return selectors.account_find(community=community, handle="hub")
