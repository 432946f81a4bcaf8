from dataclasses import asdict

from celery import shared_task

from bank.models import Community
from trust.errors import RoutingError
from trust.models import Account
from trust.services import batches
from trust.services.income import basic_income_distribute
from trust.services.payments import payments_expire
from trust.services.settlement import plan_here


@shared_task
def distribute_basic_income() -> int:
    """Run basic income for every community; returns how many shares were paid."""
    return sum(len(basic_income_distribute(community=community)) for community in Community.objects.all())


@shared_task
def expire_payments() -> int:
    return payments_expire()


@shared_task
def settle_abandoned_requests() -> int:
    """Settle payment requests whose process died queued while their community stayed idle."""
    return batches.settle_abandoned()


@shared_task
def forget_settlement_requests() -> int:
    return batches.requests_forget()


@shared_task
def plan_route(payer_id: int, payee_id: int, amount: int, taxed: bool, direct_only: bool) -> dict:
    """Plan a payment in this worker, whose in-memory graph of the community stays warm between calls."""
    payer = Account.objects.select_related("community").get(pk=payer_id)
    payee = Account.objects.select_related("member").get(pk=payee_id)
    try:
        plan = plan_here(payer, payee, amount, taxed=taxed, direct_only=direct_only)
    except RoutingError as exc:
        return {"error": {"message": exc.message, "code": exc.code, "status": exc.status, **exc.extra}}
    return {"plan": asdict(plan)}
