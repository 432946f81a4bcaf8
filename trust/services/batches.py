"""Batched settlement: a community's payments settle many to one database transaction.

Every payment of a community serializes on its books (the ledger's chain head, the commons'
lines), so what bounds throughput is how long each holds them: a whole transaction with its
commit. Here payments share that hold, the way group commit shares a log flush:

1. A payment tries its community's settlement lock (a PostgreSQL advisory lock for the
   transaction). When it is free the payment settles at once, with whatever is queued: no wait
   when the community is idle.
2. When a batch is under way, the payment commits its ``SettlementRequest`` row as queued and
   waits for the lock. The batch under way commits meanwhile; the next one takes every request
   queued by then, its own among them, or another waiter's batch did and its row is settled.

A batch (``_settle_queued``) locks each trustline it crosses once, checks the payments one by one
in queue order (a refused one is marked stale: its requester plans again, the others settle),
writes the payments, their legs, ledger entries and signed receipts, and commits once.

A process killed at any point leaves its request queued or settled, never half: a batch rolled
back leaves its rows queued for the next batch, and a settled row names its payment. A request
with an ``Idempotency-Key`` records the key's digest on its row, so its retry finds the payment
even when the process died before the answer was stored.

A batch must commit on its own, so payments settle in batches only where the caller has no
transaction open, or only that of its idempotency record (``bank.idempotency``): the batch then
runs on a connection of a settlement thread. Inside any other transaction (a test's, a caller
composing several changes) and on SQLite a payment settles alone, in the caller's transaction.
"""

import atexit
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from bank import idempotency
from core import locks
from core.rows import insert_rows
from trust.models import Account, Payment, SettlementRequest
from trust.routing.planner import Plan
from trust.services.moving import StaleRoute, pairs_of
from trust.services.settlement import finalize, replanned, settle_batch, with_retries

logger = logging.getLogger(__name__)
State = SettlementRequest.State
_threads = ThreadPoolExecutor(max_workers=settings.SETTLEMENT_THREADS, thread_name_prefix="settlement")
atexit.register(_threads.shutdown, wait=False, cancel_futures=True)


def batched() -> bool:
    """Whether a payment asked for now settles in a batch (see the module's docstring)."""
    if connection.vendor != "postgresql" or not settings.SETTLEMENT_BATCHES:
        return False
    if not connection.in_atomic_block:
        return True
    return idempotency.wraps_this_request() and len(connection.atomic_blocks) == 1


def payment_settle_batched(
    *, payer: Account, payee: Account, amount: int, memo: str, tag: str, make_plan: Callable[[], Plan]
) -> Payment:
    """Plan a new payment and settle it in its community's next batch; re-planned when found stale."""
    request = SettlementRequest(
        community_id=payer.community_id,
        key=idempotency.answered_request(),
        payer=payer,
        payee=payee,
        amount=amount,
        memo=memo,
        tag=tag,
    )

    def settle_plan(plan: Plan) -> Payment:
        request.tax, request.fees, request.legs = plan.tax, plan.fees, [list(leg) for leg in plan.legs()]
        done = with_retries(partial(_settle_outside_callers_transaction, request))
        if done.state == State.STALE:
            raise StaleRoute(done.community_id, pairs_of([tuple(leg) for leg in done.legs]))
        return done.payment  # the batch's own object where this process settled it, else read by its id

    return replanned(make_plan, settle_plan)


def _settle_outside_callers_transaction(request: SettlementRequest) -> SettlementRequest:
    if not connection.in_atomic_block:
        return _settle(request)
    return _threads.submit(_settle_on_thread, request).result()


def _settle_on_thread(request: SettlementRequest) -> SettlementRequest:
    try:
        return _settle(request)
    finally:
        connection.close()  # back to the pool; the thread may not run again for a while


def _settle(request: SettlementRequest) -> SettlementRequest:
    """Settle ``request`` in a batch: at once when the community's lock is free, else after the batch under way."""
    lock = _lock_name(request.community_id)
    earlier = _earlier_attempt(request)
    if earlier == State.SETTLED:
        return request
    if earlier in (None, State.STALE):
        with transaction.atomic():
            # The queue is read by a statement after the one that took the lock: read in the same statement, it
            # would see the queue as it was before the batch that just released the lock committed, and settle
            # that batch's requests a second time.
            if locks.try_lock_for_transaction(lock):
                _settle_queued(request.community_id, own=request)
                return request
        request.state, request.payment = State.QUEUED, None
        if request._state.adding:
            insert_rows([request])
        else:
            request.save(update_fields=["tax", "fees", "legs", "state", "payment"])
    # else queued by an earlier attempt whose process died: that plan goes first
    try:
        with transaction.atomic():
            locks.lock_for_transaction(lock)
            if _outcome(request) == State.QUEUED:
                _settle_queued(request.community_id)
                _outcome(request)
    except Exception:
        _withdraw(request)
        raise
    return request


def _outcome(request: SettlementRequest) -> str:
    """Read the request's state and payment as the database has them; returns the state."""
    request.state, request.payment_id = SettlementRequest.objects.outcome(request.pk)
    return request.state


def _withdraw(request: SettlementRequest) -> None:
    """Take back a request whose batch failed, so that it does not settle after its caller heard of the failure.

    (A caller that died cannot: its request stays queued and settles, as a request answered but not heard.)
    """
    try:
        SettlementRequest.objects.filter(pk=request.pk, state=State.QUEUED).delete()
    except DatabaseError:
        logger.warning("settlement request %s stays queued: the database is unavailable", request.pk)
    request.pk, request._state.adding = None, True


def _lock_name(community_id: int) -> str:
    return f"trust.settlement:{community_id}"


def _earlier_attempt(request: SettlementRequest) -> str | None:
    """The state of the row an earlier attempt left, now ``request``'s: this one's (retried after a deadlock,
    or planned again after being found stale), or that of an earlier request with the same idempotency key."""
    if request.pk is None and request.key is not None:
        request.pk = SettlementRequest.objects.filter(key=request.key).values_list("pk", flat=True).first()
    if request.pk is None:
        return None
    found = SettlementRequest.objects.outcome(request.pk)
    if found is None:  # the attempt's transaction rolled back
        request.pk, request._state.adding = None, True
        return None
    request._state.adding = False
    request.state, request.payment_id = found
    return request.state


def _settle_queued(
    community_id: int, own: SettlementRequest | None = None, queued: list[SettlementRequest] | None = None
) -> int:
    """One batch, under the community's settlement lock: the queued requests in order (``queued`` when the
    caller read them with the lock), then ``own``; returns how many it took."""
    requests = (
        queued
        if queued is not None
        else SettlementRequest.objects.queued(community_id, limit=settings.SETTLEMENT_BATCH_LIMIT)
    )
    if own is not None:
        requests.append(own)
    if not requests:
        return 0
    at = timezone.now()
    batch = [(_payment_of(request, at), [tuple(leg) for leg in request.legs]) for request in requests]
    moved = settle_batch(community_id, batch, at=at)
    for request, (payment, _), fits in zip(requests, batch, moved.settled, strict=True):
        request.state, request.payment = (State.SETTLED, payment) if fits else (State.STALE, None)
    queued = [request for request in requests if request is not own]
    if queued:
        SettlementRequest.objects.record_outcomes(queued)
    if own is not None and own.key is not None and own._state.adding:
        insert_rows([own])  # its retries look for it
    elif own is not None and not own._state.adding:
        SettlementRequest.objects.record_outcomes([own])
    return len(requests)


def _payment_of(request: SettlementRequest, at: datetime) -> Payment:
    payment = Payment(
        community_id=request.community_id,
        payer_id=request.payer_id,
        payee_id=request.payee_id,
        amount=request.amount,
        memo=request.memo,
        tag=request.tag,
    )
    return finalize(payment, tax=request.tax, fees=request.fees, at=at)


def settle_abandoned(*, older_than_seconds: float = 5.0) -> int:
    """Settle the requests queued longer than ``older_than_seconds``: their processes died while the
    community stayed idle, so no batch took them. Returns how many were settled or refused."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    waiting = SettlementRequest.objects.filter(state=State.QUEUED, created_at__lt=cutoff)
    taken = 0
    for community_id in sorted(set(waiting.values_list("community_id", flat=True))):
        while True:
            with transaction.atomic():
                locks.lock_for_transaction(_lock_name(community_id))
                batch = _settle_queued(community_id)
            taken += batch
            if batch < settings.SETTLEMENT_BATCH_LIMIT:
                break
    return taken


def requests_forget() -> int:
    """Delete the settled and stale requests past the idempotency lifetime; returns how many."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_LIFETIME_HOURS)
    deleted, _ = SettlementRequest.objects.exclude(state=State.QUEUED).filter(created_at__lt=cutoff).delete()
    return deleted
