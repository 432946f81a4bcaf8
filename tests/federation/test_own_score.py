"""This instance's own score: grown by beat, shown in the document and in PING, restarted before it expires."""

from datetime import timedelta

import pytest
from django.utils import timezone

from federation import documents
from federation.models import OwnScore
from federation.services import scores
from federation.services.remotes import shown_score
from federation.tasks import refresh_score


@pytest.fixture
def instance(db, settings):
    settings.INSTANCE_URL = "https://bank.example.org"


def test_beat_grows_the_score_a_suffix_at_a_time(instance):
    assert scores.own_score() is None
    for value in (1, 2, 3):
        assert refresh_score() == value
    score = scores.own_score()

    assert (score.host, score.port, score.key) == ("bank.example.org", 443, documents.own_keys()["sign"])
    assert score.valid(timezone.now()) and score.value == 3


def test_the_document_shows_a_score_peers_accept(instance):
    refresh_score()
    refresh_score()
    document = documents.own_document(score=scores.own_score().to_dict())

    assert shown_score(document, timezone.now())[0] == 2


def test_a_score_half_way_to_expiry_is_replaced_once_the_new_one_is_worth_as_much(instance, monkeypatch):
    for _ in range(2):
        refresh_score()
    old = scores.own_score()
    later = timezone.now() + scores.RESTART_AFTER + timedelta(minutes=1)
    monkeypatch.setattr("federation.services.scores.timezone.now", lambda: later)

    refresh_score()  # a new score of 1 grows; the old one (2) is still shown
    assert scores.own_score() == old
    refresh_score()
    shown = scores.own_score()
    assert shown != old and shown.value == 2 and shown.time > old.time


def test_a_changed_address_starts_a_new_score(instance, settings):
    refresh_score()
    settings.INSTANCE_URL = "https://other.example.org:8443"
    refresh_score()

    growing = scores._read(OwnScore.objects.get().growing)
    assert (growing.host, growing.port, growing.value) == ("other.example.org", 8443, 1)
