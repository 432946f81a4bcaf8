from celery import shared_task

from bank.models import Community
from trust.services.income import basic_income_distribute
from trust.services.payments import payments_expire


@shared_task
def distribute_basic_income() -> int:
    """Run basic income for every community; returns how many shares were paid."""
    return sum(len(basic_income_distribute(community=community)) for community in Community.objects.all())


@shared_task
def expire_payments() -> int:
    return payments_expire()
