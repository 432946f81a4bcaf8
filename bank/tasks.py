"""Celery entry points of the platform's own housekeeping (beat runs them; see settings)."""

from celery import shared_task

from bank import idempotency


@shared_task
def forget_idempotent_answers() -> int:
    return idempotency.forget_expired()
