"""Settle planned payments: every hop, the tax and the fees of each in one database transaction."""

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TypeVar

from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, transaction
from django.utils import timezone

from bank import idempotency
from core import jobs
from trust.errors import RoutingError, RoutingTimeout
from trust.models import Account, Payment, Trustline
from trust.routing.graph import graph_for, lines_changed
from trust.routing.planner import Plan, Wording, plan_payment
from trust.services.accounts import commons_of, trust_index_ppm
from trust.services.moving import Leg, Moved, StaleRoute, move_batch, pairs_of
from trust.signals import money_moved

logger = logging.getLogger(__name__)
T = TypeVar("T")

# PostgreSQL's deadlock_detected and serialization_failure: the transaction did nothing; run it again.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
ATTEMPTS = 5
PLAN_ATTEMPTS = 4
# Seconds beyond ROUTING_TIMEOUT_SECONDS that a worker's search may take to come back (queueing, results).
ROUTING_ANSWER_GRACE_SECONDS = 2


def new_hashlock() -> tuple[str, str]:
    """A preimage chosen on the payee's side and its hashlock ``SHA256(preimage)``, both hex."""
    preimage = secrets.token_bytes(32)
    return preimage.hex(), hashlib.sha256(preimage).hexdigest()


def _retryable(exc: OperationalError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES or "database is locked" in str(exc)


def with_retries(action: Callable[[], T]) -> T:
    """Run a top-level transaction again when the database chose it as a deadlock or serialization victim."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return action()
        except OperationalError as exc:
            if attempt == ATTEMPTS or not _retryable(exc):
                raise
            logger.info("settlement retry %s after %s", attempt, exc.__cause__ or exc)
            time.sleep(0.005 * 2**attempt * secrets.randbelow(100) / 100)
    raise AssertionError("unreachable")


def plan_for(payer: Account, payee: Account, amount: int, *, taxed: bool = True, direct_only: bool = False) -> Plan:
    """Plan a payment here, or in a Celery worker (which keeps large graphs warm) for large communities."""
    if _routes_in_worker(payer.community_id):
        return _plan_in_worker(payer, payee, amount, taxed=taxed, direct_only=direct_only)
    return plan_here(payer, payee, amount, taxed=taxed, direct_only=direct_only)


def _plan_in_worker(payer: Account, payee: Account, amount: int, *, taxed: bool, direct_only: bool) -> Plan:
    """Plan in a worker; when none has taken the search within ``ROUTING_PICKUP_SECONDS`` (every worker
    is down or busy), plan here instead. A worker that took it and dies gives the search back to the
    queue (``task_reject_on_worker_lost``); past the search's own time limit the payment is refused.
    """
    search = jobs.task("trust.tasks.plan_route").delay(payer.pk, payee.pk, amount, taxed, direct_only)
    try:
        result = search.get(timeout=settings.ROUTING_PICKUP_SECONDS)
    except CeleryTimeoutError:
        if search.state == "PENDING":
            search.revoke()
            logger.warning("no routing worker took the search for community %s; routing here", payer.community_id)
            return plan_here(payer, payee, amount, taxed=taxed, direct_only=direct_only)
        try:
            result = search.get(timeout=settings.ROUTING_TIMEOUT_SECONDS + ROUTING_ANSWER_GRACE_SECONDS)
        except CeleryTimeoutError:
            logger.error("the routing worker of community %s did not answer", payer.community_id)
            raise RoutingTimeout("The routing service did not answer in time; please try again later.") from None
    if "error" in result:
        raise RoutingError(**result["error"])
    return Plan(**result["plan"])


def _routes_in_worker(community_id: int) -> bool:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return False
    lines = cache.get_or_set(
        f"trust:trustline-count:{community_id}",
        lambda: Trustline.objects.filter(community_id=community_id).count(),
        timeout=300,
    )
    return lines >= settings.ROUTE_IN_WORKER_ABOVE_TRUSTLINES


def plan_here(payer: Account, payee: Account, amount: int, *, taxed: bool = True, direct_only: bool = False) -> Plan:
    """Plan on this process's graph; a refusal is confirmed on a freshly synced graph before it stands."""
    community = payer.community
    for fresh in (False, True):
        graph = graph_for(community.pk, fresh=fresh)
        if graph.commons_id is None:
            graph.commons_id = commons_of(community).pk
        try:
            with graph.lock:
                return plan_payment(
                    graph.out,
                    payer=payer.pk,
                    payee=payee.pk,
                    amount=amount,
                    max_hops=community.max_hops,
                    commons=graph.commons_id,
                    relays_not=graph.remote_ids,
                    tax_ppm=trust_index_ppm(payer) if taxed else 0,
                    hop_fee_ppm=community.hop_fee_ppm if taxed else 0,
                    timeout=settings.ROUTING_TIMEOUT_SECONDS,
                    direct_only=direct_only,
                    wording=Wording(payee=payee.name, currency=community.currency_code),
                )
        except RoutingTimeout:
            raise  # searching again would only double the wait
        except RoutingError:
            if fresh:
                raise
    raise AssertionError("unreachable")


def finalize(payment: Payment, *, tax: int, fees: int, at: datetime) -> Payment:
    """Mark ``payment`` settled at ``at`` with its tax and fees (a new one gets its hashlock)."""
    payment.tax, payment.fees = tax, fees
    payment.state, payment.settled_at = Payment.State.FINALIZED, at
    if payment.pk is None:
        payment.created_at = at
    if not payment.hashlock:
        payment.preimage, payment.hashlock = new_hashlock()
    return payment


def settle_batch(community_id: int, batch: list[tuple[Payment, list[Leg]]], *, at: datetime) -> Moved:
    """Settle what fits of ``batch`` (finalized payments and their legs) in its order, in the caller's
    transaction: the lines move, the ledger records them (``money_moved``), the graph learns of them."""
    moved = move_batch(community_id, batch, at=at)
    settled = [item for item, fits in zip(batch, moved.settled, strict=True) if fits]
    if settled:
        money_moved.send(sender=Payment, moved=settled, at=at)
        transaction.on_commit(lambda: lines_changed(community_id, moved.lines))
    return moved


def settle(payment: Payment, plan: Plan) -> Payment:
    """Settle one payment on its plan, rechecking every trustline under lock; saves ``payment`` finalized.

    Raises ``StaleRoute`` (changing nothing) when a leg lacks capacity.
    """
    now = timezone.now()
    legs = plan.legs()
    finalize(payment, tax=plan.tax, fees=plan.fees, at=now)
    moved = settle_batch(payment.community_id, [(payment, legs)], at=now)
    if not moved.settled[0]:
        raise StaleRoute(payment.community_id, pairs_of(legs))
    return payment


def _refresh_graph(stale: StaleRoute) -> None:
    """Show this process's graph the lines a plan found stale, as they are now."""
    lows, highs = zip(*stale.pairs, strict=True)
    candidates = Trustline.objects.filter(community_id=stale.community_id, low_id__in=lows, high_id__in=highs)
    lines_changed(stale.community_id, [line for line in candidates if (line.low_id, line.high_id) in stale.pairs])


def replanned(make_plan: Callable[[], Plan], settle_plan: Callable[[Plan], Payment]) -> Payment:
    """Plan, then settle; a stale plan is re-made from the fresh rows.

    Each re-plan sees the lines that were found stale as they really are, so under contention a
    few rounds converge; ``PLAN_ATTEMPTS`` bounds them.
    """
    for attempt in range(1, PLAN_ATTEMPTS + 1):
        plan = make_plan()
        try:
            return settle_plan(plan)
        except StaleRoute as stale:
            _refresh_graph(stale)
            if attempt == PLAN_ATTEMPTS:
                raise RoutingError(
                    "Balances changed while the payment was being routed; please try again.", code="route_changed"
                ) from None
    raise AssertionError("unreachable")


def plan_and_settle(make_payment: Callable[[], Payment], make_plan: Callable[[], Plan]) -> Payment:
    """Plan, then settle in one durable transaction of its own (``make_payment`` runs inside it)."""

    def attempt_settlement(plan: Plan) -> Payment:
        with transaction.atomic(durable=not idempotency.wraps_this_request()):
            return settle(make_payment(), plan)

    return replanned(make_plan, lambda plan: with_retries(partial(attempt_settlement, plan)))
