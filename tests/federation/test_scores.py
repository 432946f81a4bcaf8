"""Zold-style scores: the work checks out, any change breaks it, and a peer's input gives a Score or ValueError."""

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from federation.scores import MAX_SUFFIXES, SCORE_LIFETIME, Score

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
KEY = "0123456789abcdef" * 4
STRENGTH = 8


def digests(score: Score) -> list[str]:
    """hash_1..hash_n recomputed from the rule, independently of the module."""
    previous = f"{score.time:%Y-%m-%dT%H:%M:%SZ} {score.host} {score.port} {score.key}"
    result = []
    for suffix in score.suffixes:
        previous = hashlib.sha256(f"{previous} {suffix}".encode()).hexdigest()
        result.append(previous)
    return result


def has_zero_bits(digest: str, strength: int) -> bool:
    return int(digest, 16) % 2**strength == 0


def grow(score: Score, times: int) -> Score:
    for _ in range(times):
        score = score.next()
    return score


@cache
def grown() -> Score:
    """Five suffixes at 8 bits: about 1,300 hashes, shared by the tests that only read it."""
    return grow(Score.start(host="bank.example.org", port=4096, key=KEY, strength=STRENGTH, now=NOW), 5)


def test_a_grown_score_is_valid_and_worth_its_suffixes():
    score = grown()

    assert score.value == len(score.suffixes) == 5
    assert score.valid(NOW)
    assert score.worth(NOW) == 5
    assert all(has_zero_bits(digest, STRENGTH) for digest in digests(score))
    assert score.hash == digests(score)[-1]


def test_each_suffix_is_the_first_hex_number_that_works():
    score = grown()
    previous = [score.prefix, *digests(score)]
    for i, suffix in enumerate(score.suffixes):
        works = [
            has_zero_bits(hashlib.sha256(f"{previous[i]} {n:x}".encode()).hexdigest(), STRENGTH)
            for n in range(int(suffix, 16) + 1)
        ]
        assert works == [False] * int(suffix, 16) + [True]


def test_a_started_score_is_worth_nothing_and_its_hash_is_the_prefix():
    score = Score.start(host="10.0.0.1", port=80, key=KEY, strength=STRENGTH, now=NOW)

    assert score.prefix == f"2024-05-01T12:00:00Z 10.0.0.1 80 {KEY}"
    assert score.hash == score.prefix
    assert (score.value, score.worth(NOW)) == (0, 0)
    assert score.valid(NOW)


def test_start_truncates_to_whole_utc_seconds():
    paris = timezone(timedelta(hours=2))
    score = Score.start(
        host="::1", port=1, key=KEY, strength=1, now=datetime(2024, 5, 1, 14, 0, 0, 999_999, tzinfo=paris)
    )

    assert score.time == NOW
    assert score.time.utcoffset() == timedelta(0)
    assert score.to_dict()["time"] == "2024-05-01T12:00:00Z"


@pytest.mark.parametrize(
    "arguments",
    [
        {"now": datetime(2024, 5, 1, 12, 0, 0)},  # naive
        {"host": "bank example.org"},
        {"host": "fe80::1%eth0"},
        {"port": 0},
        {"port": True},
        {"key": KEY.upper()},
        {"strength": 0},
        {"strength": 65},
    ],
)
def test_start_refuses_malformed_arguments(arguments):
    with pytest.raises(ValueError):
        Score.start(
            **{"host": "bank.example.org", "port": 4096, "key": KEY, "strength": STRENGTH, "now": NOW} | arguments
        )


CHANGES = {
    "time": lambda s: replace(s, time=s.time - timedelta(seconds=1)),
    "host": lambda s: replace(s, host="bank.example.com"),
    "port": lambda s: replace(s, port=4097),
    "key": lambda s: replace(s, key="f" + s.key[1:]),
    "strength up": lambda s: replace(s, strength=s.strength + 4),
    "first suffix": lambda s: replace(s, suffixes=("0" + s.suffixes[0], *s.suffixes[1:])),
    "last suffix": lambda s: replace(s, suffixes=(*s.suffixes[:-1], f"{int(s.suffixes[-1], 16) + 1:x}")),
    "suffix order": lambda s: replace(s, suffixes=s.suffixes[::-1]),
    "suffix dropped": lambda s: replace(s, suffixes=s.suffixes[1:]),
    "suffix added": lambda s: replace(s, suffixes=(*s.suffixes, "0")),
    "port as string": lambda s: replace(s, port="4096"),
    "naive time": lambda s: replace(s, time=s.time.replace(tzinfo=None)),
    "time with microseconds": lambda s: replace(s, time=s.time.replace(microsecond=1)),
    "suffix upper case": lambda s: replace(s, suffixes=(*s.suffixes[:-1], s.suffixes[-1].upper() + "A")),
    "suffixes as list": lambda s: replace(s, suffixes=list(s.suffixes)),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_any_change_invalidates_the_score(change):
    changed = change(grown())

    assert not changed.valid(NOW)
    assert changed.worth(NOW) == 0


def test_a_score_expires_after_24_hours():
    score = grown()

    assert not score.expired(NOW + SCORE_LIFETIME)
    assert score.worth(NOW + SCORE_LIFETIME) == 5
    assert score.expired(NOW + SCORE_LIFETIME + timedelta(seconds=1))
    assert score.worth(NOW + SCORE_LIFETIME + timedelta(seconds=1)) == 0
    assert score.valid(NOW + SCORE_LIFETIME + timedelta(seconds=1))  # still valid, only worthless


def test_a_score_dated_more_than_5_minutes_ahead_is_refused():
    score = grown()

    assert score.worth(NOW - timedelta(minutes=5)) == 5
    assert not score.valid(NOW - timedelta(minutes=5, seconds=1))
    assert score.worth(NOW - timedelta(minutes=5, seconds=1)) == 0


def test_next_gives_up_after_max_tries():
    score = Score.start(host="bank.example.org", port=4096, key=KEY, strength=64, now=NOW)

    assert score.next(max_tries=1) is None
    assert score.next(max_tries=0) is None


def test_next_refuses_a_full_or_malformed_score():
    with pytest.raises(ValueError, match="at most 64"):
        replace(grown(), suffixes=("0",) * MAX_SUFFIXES).next()
    with pytest.raises(ValueError, match="port"):
        replace(grown(), port=0).next()


hosts = st.from_regex(r"[A-Za-z0-9.-]{1,253}", fullmatch=True) | st.ip_addresses().map(str)
keys = st.binary(min_size=32, max_size=32).map(bytes.hex)
times = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)).map(
    lambda t: t.replace(microsecond=0)
)
suffixes = st.lists(st.from_regex(r"[0-9a-f]{1,16}", fullmatch=True), max_size=MAX_SUFFIXES).map(tuple)
scores = st.builds(
    Score, time=times, host=hosts, port=st.integers(1, 65535), key=keys, strength=st.integers(1, 64), suffixes=suffixes
)


@settings(max_examples=100, deadline=None)
@given(score=scores)
def test_json_and_text_forms_round_trip(score):
    assert Score.from_dict(json.loads(json.dumps(score.to_dict()))) == score
    assert Score.from_text(score.to_text()) == score


@settings(max_examples=40, deadline=None)
@given(
    host=hosts, port=st.integers(1, 65535), key=keys, strength=st.integers(1, 6), grown_by=st.integers(0, 3), now=times
)
def test_grown_scores_round_trip_and_stay_valid(host, port, key, strength, grown_by, now):
    score = grow(Score.start(host=host, port=port, key=key, strength=strength, now=now), grown_by)

    for copy in (Score.from_dict(score.to_dict()), Score.from_text(score.to_text())):
        assert copy == score
        assert copy.worth(now) == grown_by


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=15,
)
FIELDS = list(grown().to_dict())


def parsed_or_refused(parse, data):
    """The Score that parse gives, or None when it raises ValueError; any other exception fails the test."""
    try:
        score = parse(data)
    except ValueError:
        return None
    assert isinstance(score, Score)
    return score


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=json_like
    | st.fixed_dictionaries({field: json_like for field in FIELDS})
    | st.builds(
        lambda field, value: grown().to_dict() | {field: value},
        st.sampled_from(FIELDS),
        json_like | st.sampled_from([1, 65535, 5, 64, "::1", "a-b.c", "1999-12-31T23:59:59Z", ["0"] * 5]),
    )
)
def test_from_dict_gives_a_score_or_value_error(data):
    score = parsed_or_refused(Score.from_dict, data)
    if score is not None:
        assert score.to_dict() == data


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "changes, word",
    [
        ({"suffixes": [nested(100_000)], "value": 1}, "suffix"),
        ({"time": nested(100_000)}, "time"),
        ({"port": 10**5000}, "port"),
        ({"host": "x" * 1_000_000}, "host"),
    ],
    ids=["deeply nested suffix", "deeply nested time", "huge int", "huge string"],
)
def test_from_dict_refuses_hostile_values_with_a_short_value_error(changes, word):
    with pytest.raises(ValueError, match=word) as refused:
        Score.from_dict(grown().to_dict() | changes)
    assert len(str(refused.value)) < 200


text_edits = st.builds(
    lambda text, start, length, insert: text[:start] + insert + text[start + length :],
    st.just(grown().to_text()),
    st.integers(0, len(grown().to_text())),
    st.integers(0, 3),
    st.text(max_size=3) | st.sampled_from([" ", "  ", "0", "\n", "Z", "-"]),
)


@settings(max_examples=200)
@given(text=st.text() | text_edits | json_like)
def test_from_text_gives_a_score_or_value_error(text):
    score = parsed_or_refused(Score.from_text, text)
    if score is not None:
        assert score.to_text() == text


@settings(max_examples=100)
@given(
    score=st.builds(
        Score,
        time=times | json_like,
        host=json_like,
        port=json_like,
        key=json_like,
        strength=json_like,
        suffixes=json_like,
    )
)
def test_valid_and_worth_say_no_rather_than_raise_on_malformed_fields(score):
    assert score.valid(NOW) in (True, False)
    assert score.worth(NOW) in range(MAX_SUFFIXES + 1)
