"""Beat's federation work: this instance's score, and the remotes' health."""

from celery import shared_task
from django.conf import settings

from core.locks import sole_run
from federation.services import remotes, scores, transits

SCORE_TRIES = 8  # times the expected tries for one suffix: a run stays short whatever luck it has


@shared_task  # sent at low priority by beat (config.settings): its work yields to payments and challenges
def refresh_score() -> int:
    with sole_run("federation.refresh_score") as alone:
        if not alone:
            return 0
        score = scores.score_refresh(max_tries=SCORE_TRIES * 2**settings.SCORE_STRENGTH)
        return score.value if score else 0


@shared_task
def update_remotes() -> int:
    with sole_run("federation.update_remotes") as alone:
        if not alone:
            return 0
        update = remotes.remote_update()
        return len(update.refreshed)


@shared_task
def transits_due() -> int:
    return transits.transits_due()
