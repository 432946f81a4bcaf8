"""The challenge schedule and reputation decay run by a real Celery worker over the real Redis."""

from datetime import timedelta

import pytest
from django.conf import settings as project_settings
from django.utils import timezone

from config.celery import app
from identity import tasks
from identity.chain import chain_verify
from identity.models import Block, Challenge, Identity
from identity.services import challenges
from tests.factories import MemberFactory
from tests.identity.test_challenges import identity_of
from tests.trust.test_tasks import worker  # noqa: F401 - the real-worker fixture

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_beat_schedules_the_identity_tasks():
    schedule = {entry["task"]: entry["schedule"] for entry in project_settings.CELERY_BEAT_SCHEDULE.values()}

    assert schedule["identity.tasks.issue_challenges"] == project_settings.CHALLENGE_INTERVAL_SECONDS
    assert schedule["identity.tasks.decay_reputation"] == project_settings.DECAY_INTERVAL_SECONDS
    assert schedule["identity.tasks.expire_challenges"] <= 60
    app.loader.import_default_modules()  # what a worker does when it starts: it finds every app's tasks
    assert set(schedule) <= set(app.tasks)


def test_decay_and_expiry_run_in_the_worker(worker):  # noqa: F811
    rich, poor, busy = (identity_of(MemberFactory(), balance=b) for b in (130, 10, 100))
    for identity in (poor, busy):
        challenges.challenge_issue(target=identity)
    Challenge.objects.filter(target=poor).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert tasks.decay_reputation.delay().get(timeout=30) == 1
    assert tasks.expire_challenges.delay().get(timeout=30) == 1

    balances = dict(Identity.objects.values_list("pk", "balance"))
    assert (balances[rich.pk], balances[poor.pk], balances[busy.pk]) == (128, 0, 100)
    poor.refresh_from_db()
    assert poor.revoked and poor.revoked_reason == challenges.IGNORED_REASON
    assert dict(Challenge.objects.values_list("target_id", "state")) == {poor.pk: "ignored", busy.pk: "pending"}
    assert [b.events[0]["type"] for b in Block.objects.all()] == ["decay", "ignore"]
    assert chain_verify() == []


def test_a_round_of_challenges_runs_in_the_worker(worker):  # noqa: F811
    live = identity_of(MemberFactory())
    identity_of(MemberFactory(), live=False)

    challenge_id = tasks.issue_challenges.delay().get(timeout=30)

    challenge = Challenge.objects.get(pk=challenge_id)
    assert (challenge.target_id, challenge.state) == (live.pk, "pending")
    assert challenge.difficulty_bits == project_settings.CHALLENGE_POW_BITS
    assert tasks.issue_challenges.delay().get(timeout=30) is None  # the only live identity is busy
