"""Celery entry points, run by a real worker over the real Redis (not eager mode)."""

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from celery.contrib.testing.worker import start_worker
from celery.exceptions import TimeoutError as CeleryTimeoutError

from config.celery import app
from tests.trust.factories import community_with_commons, member_account, trust
from trust import selectors, tasks
from trust.errors import RoutingError
from trust.models import Payment
from trust.services.payments import payment_send
from trust.services.settlement import ROUTING_ANSWER_GRACE_SECONDS

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _rebuild_from_conf() -> None:
    """Make the app build its broker pool and result backend again, from ``app.conf``, on next use.

    Celery builds both once and keeps them (the backend per thread); it never re-reads ``broker_url``
    or ``result_backend``. A task run eagerly by an earlier test (a ledger ticket run on commit, say)
    builds them from the test settings, the memory broker and no backend: this test's tasks would
    then never reach the worker, and ``.get()`` would fail with "No result backend is configured".
    """
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    vars(app._local).pop("backend", None)


@contextmanager
def _queue_on_redis(settings) -> Iterator[str]:
    """Tasks go to a queue of this test's own on the real Redis; yields the queue's name."""
    queue = f"test-{uuid.uuid4().hex}"
    saved = {key: app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager", "task_default_queue")}
    app.conf.update(
        broker_url=settings.TEST_REDIS_URL,
        result_backend=settings.TEST_REDIS_URL,
        task_always_eager=False,
        task_default_queue=queue,
    )
    _rebuild_from_conf()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        yield queue
    finally:
        app.conf.update(saved)
        _rebuild_from_conf()  # and later eager tests get the memory broker back


@pytest.fixture
def worker(settings):
    """A Celery worker thread consuming a queue of this test's own on the real Redis."""
    with (
        _queue_on_redis(settings) as queue,
        start_worker(app, queues=[queue], perform_ping_check=False, shutdown_timeout=10),
    ):
        yield


@pytest.fixture
def no_worker(settings):
    """The real Redis, with nobody consuming the test's queue (every worker is down)."""
    with _queue_on_redis(settings):
        yield


def _chain(**community_fields):
    """alice -> bob -> carol, 100 units of credit on each hop, and the commons."""
    community = community_with_commons(**community_fields)
    alice, bob, carol = (member_account(community, handle) for handle in ("alice", "bob", "carol"))
    trust(bob, alice, 100_000_000)
    trust(carol, bob, 100_000_000)
    return community, alice, bob, carol


def test_basic_income_runs_in_the_worker(worker):
    community, alice, _, carol = _chain(minimum_trust_index="0.1")
    payment_send(payer=alice, payee=carol, amount=50_000_000)  # alice owes 50 + 5 tax

    shares = tasks.distribute_basic_income.delay().get(timeout=30)

    assert shares == 1
    income = Payment.objects.get(kind=Payment.Kind.INCOME)
    assert (income.payee_id, income.amount) == (alice.pk, 5_000_000)
    balances = selectors.net_balances(community=community)
    assert balances[alice.pk] == -50_000_000 and sum(balances.values()) == 0


def test_large_communities_route_in_the_worker(worker, settings):
    settings.ROUTE_IN_WORKER_ABOVE_TRUSTLINES = 0
    _, alice, bob, carol = _chain()

    payment = payment_send(payer=alice, payee=carol, amount=30_000_000)

    assert [leg.receiver_id for leg in payment.legs.order_by("hop")] == [bob.pk, carol.pk]
    with pytest.raises(RoutingError) as refused:
        payment_send(payer=alice, payee=carol, amount=90_000_000)
    assert refused.value.code == "insufficient_capacity"
    assert refused.value.extra["max_sendable"] == "70.000000"


def test_expired_requests_are_cancelled_by_the_task(worker):
    community, alice, bob, _ = _chain()
    request = Payment.objects.create(
        community=community,
        kind=Payment.Kind.REQUEST,
        payer=alice,
        payee=bob,
        amount=1,
        hashlock="00" * 32,
        payer_status=Payment.PayerStatus.NOT_SET,
        deadline="2000-01-01T00:00:00Z",
    )

    assert tasks.expire_payments.delay().get(timeout=30) == 1

    request.refresh_from_db()
    assert (request.state, request.cancel_reason) == ("cancelled", "expired")


def test_routing_fails_over_to_the_web_process_when_no_worker_takes_it(no_worker, settings):
    settings.ROUTE_IN_WORKER_ABOVE_TRUSTLINES = 0
    settings.ROUTING_PICKUP_SECONDS = 0.5
    _, alice, bob, carol = _chain()

    started = time.monotonic()
    payment = payment_send(payer=alice, payee=carol, amount=30_000_000)

    assert time.monotonic() - started < settings.ROUTING_PICKUP_SECONDS + 5
    assert [leg.receiver_id for leg in payment.legs.order_by("hop")] == [bob.pk, carol.pk]


def test_a_route_a_worker_took_and_never_answered_is_a_clear_timeout(settings, monkeypatch):
    """The worker died after it started the search: the caller gets routing_timeout, not a server error."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.ROUTE_IN_WORKER_ABOVE_TRUSTLINES = 0
    _, alice, _, carol = _chain()
    waits = []

    class TakenThenLost:
        state = "STARTED"

        def get(self, timeout):
            waits.append(timeout)
            raise CeleryTimeoutError("The operation timed out.")

    monkeypatch.setattr(tasks.plan_route, "delay", lambda *args: TakenThenLost())
    with pytest.raises(RoutingError) as refused:
        payment_send(payer=alice, payee=carol, amount=1)
    assert refused.value.code == "routing_timeout"
    assert not Payment.objects.exists()
    # It waits for the search's own time limit and a little more, not half a minute beyond it.
    assert waits == [settings.ROUTING_PICKUP_SECONDS, settings.ROUTING_TIMEOUT_SECONDS + ROUTING_ANSWER_GRACE_SECONDS]
