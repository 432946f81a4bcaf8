"""This instance's own score: grown a suffix at a time by beat, restarted before it expires."""

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from federation import documents
from federation.models import OwnScore
from federation.scores import MAX_SUFFIXES, Score

RESTART_AFTER = timedelta(hours=12)  # half the lifetime: the next score has grown by the time this one expires


def own_score() -> Score | None:
    """The score this instance shows (None before beat first made one)."""
    row = OwnScore.objects.first()
    return _read(row.shown) if row else None


def score_refresh(*, max_tries: int | None = None) -> Score | None:
    """Grow the growing score by one suffix (trying at most ``max_tries`` suffixes, so a run stays short), start
    a new one when it is half-way to expiry or this instance's address or key changed, and show whichever of
    the two is worth more now. Returns the score shown."""
    now = timezone.now()
    row = OwnScore.objects.first() or OwnScore()
    shown, growing = _read(row.shown), _read(row.growing)
    fresh = Score.start(strength=settings.SCORE_STRENGTH, now=now, **_own_place())
    if growing is None or _place(growing) != _place(fresh) or now - growing.time >= RESTART_AFTER:
        growing = fresh
    if growing.value < MAX_SUFFIXES:
        growing = growing.next(max_tries=max_tries) or growing
    if shown is None or growing.worth(now) >= shown.worth(now):
        shown = growing
    row.shown, row.growing = shown.to_text(), growing.to_text()
    with transaction.atomic():
        row.save()
    return shown


def _own_place() -> dict:
    parts = urlsplit(settings.INSTANCE_URL)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return {"host": (parts.hostname or "").lower(), "port": port, "key": documents.own_keys()["sign"]}


def _place(score: Score) -> tuple:
    return score.host, score.port, score.key, score.strength


def _read(text: str) -> Score | None:
    try:
        return Score.from_text(text) if text else None
    except ValueError:
        return None
