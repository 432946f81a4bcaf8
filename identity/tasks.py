"""Celery entry points for the challenge schedule and reputation decay (beat runs them; see settings)."""

from celery import shared_task

from identity.services import challenges


@shared_task
def issue_challenges() -> int | None:
    """One round of challenges; returns the new challenge's id, or None when nobody could be challenged."""
    challenge = challenges.challenges_issue_round()
    return challenge.pk if challenge else None


@shared_task
def expire_challenges() -> int:
    return challenges.challenges_expire()


@shared_task
def decay_reputation() -> int:
    return challenges.reputation_decay()
