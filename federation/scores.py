"""Zold-style scores: the proof of work an instance shows its peers.

Federated Trustbank instances rank each other ("remotes") by score. A score is work done for one address and
one key at one time, so a peer cannot borrow another's score, and every fake instance someone would add to
the federation has to pay for its own work, which keeps such instances costly.

The hash rule (the contract; peers check it):

- the prefix is ``f"{time:%Y-%m-%dT%H:%M:%SZ} {host} {port} {key}"``: the time (UTC, whole seconds) at which
  the instance started the score, its host and port, and its Ed25519 signing public key (64 lowercase hex);
- the suffixes s_1..s_n are lowercase hex strings of 1 to 16 characters;
- hash_0 is the prefix, and hash_i is the SHA-256 hex digest of ``f"{hash_(i-1)} {s_i}"``;
- every hash_i (i >= 1) must end with ``strength`` zero bits: the digest read as an integer is divisible by
  ``2**strength``.

The value of a score is its number of suffixes. Finding a suffix takes 2**strength hashes on average. A score
is worth its value for 24 hours after its time (``SCORE_LIFETIME``), then nothing: an instance keeps working
to stay ranked. A score dated more than 5 minutes in the future (``FUTURE_TOLERANCE``) is invalid.

Pure Python: no Django, no database. ``Score.from_dict`` and ``Score.from_text`` read what a peer sends and
raise nothing but ``ValueError``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

SCORE_LIFETIME = timedelta(hours=24)
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_SUFFIXES = 64
MIN_STRENGTH, MAX_STRENGTH = 1, 64
MAX_PORT = 65535

_HOSTNAME = re.compile(r"[A-Za-z0-9.-]{1,253}")
_KEY = re.compile(r"[0-9a-f]{64}")
_SUFFIX = re.compile(r"[0-9a-f]{1,16}")
_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")
_NUMBER = re.compile(r"[1-9][0-9]{0,4}")  # a port or a strength in the text form: no sign, no leading zero
_SUFFIX_SPACE = 16**16  # the suffixes of 1 to 16 hex characters are the numbers below this
_FIELDS = frozenset({"time", "host", "port", "key", "strength", "suffixes", "value"})


def _show(value: object) -> str:
    """A peer's value for an error message. Containers and huge integers are only described: their repr may be
    megabytes long, overflow the stack (deep nesting) or be refused (an int of more than 4300 digits)."""
    if isinstance(value, list | tuple | dict):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an int of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_host(value: object) -> bool:
    """A host name of 1-253 characters of [A-Za-z0-9.-], or an IPv4/IPv6 literal without a zone ("%eth0")."""
    if not isinstance(value, str):
        return False
    if _HOSTNAME.fullmatch(value):
        return True
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return "%" not in value


def _format_time(time: datetime) -> str:
    return f"{time:%Y-%m-%dT%H:%M:%SZ}"


def _parse_time(value: object) -> datetime:
    if not isinstance(value, str) or not (match := _TIME.fullmatch(value)):
        raise ValueError(f"score time must be a string like 2024-01-31T12:00:00Z, got {_show(value)}")
    try:
        return datetime(*map(int, match.groups()), tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"score time {_show(value)} is not a date and time: {exc}") from exc


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Score:
    """A score as the instance ``host:port`` with the signing key ``key`` made it at ``time``.

    Any field may be malformed (a peer sent it, a test changed it): ``valid()`` says whether the score holds.
    ``time`` must be timezone-aware UTC with whole seconds; the ``now`` given to the methods must be aware.
    """

    time: datetime
    host: str
    port: int
    key: str
    strength: int
    suffixes: tuple[str, ...] = ()

    @classmethod
    def start(cls, *, host: str, port: int, key: str, strength: int, now: datetime) -> Score:
        """A score of value 0 dated ``now`` (truncated to whole seconds, in UTC), to grow with ``next()``.

        Raises ValueError if ``now`` is naive or any other argument is malformed.
        """
        if now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        time = now.astimezone(UTC).replace(microsecond=0)
        return cls(time=time, host=host, port=port, key=key, strength=strength)._checked()

    @property
    def prefix(self) -> str:
        return f"{_format_time(self.time)} {self.host} {self.port} {self.key}"

    @property
    def hash(self) -> str:
        """hash_n of the rule: the last suffix's hash, or, with no suffix, hash_0, which is the prefix itself
        (not a digest of it), so the next suffix is always found in ``f"{hash} {suffix}"``."""
        return self._chain()[-1]

    @property
    def value(self) -> int:
        return len(self.suffixes)

    def _chain(self) -> list[str]:
        """hash_0 (the prefix), hash_1, ..., hash_n."""
        chain = [self.prefix]
        for suffix in self.suffixes:
            chain.append(_sha256_hex(f"{chain[-1]} {suffix}"))
        return chain

    def expired(self, now: datetime) -> bool:
        """Whether the score is older than ``SCORE_LIFETIME`` at ``now``."""
        return now - self.time > SCORE_LIFETIME

    def valid(self, now: datetime) -> bool:
        """Whether every field is well-formed, the time is at most ``FUTURE_TOLERANCE`` after ``now`` and every
        suffix's hash ends with ``strength`` zero bits. An expired score may be valid; ``worth()`` counts both."""
        if self._form_error() is not None or self.time - now > FUTURE_TOLERANCE:
            return False
        mask = (1 << self.strength) - 1
        return all(not int(digest, 16) & mask for digest in self._chain()[1:])

    def worth(self, now: datetime) -> int:
        """The value if the score is valid and not expired at ``now``, else 0."""
        return self.value if self.valid(now) and not self.expired(now) else 0

    def next(self, max_tries: int | None = None) -> Score | None:
        """This score with one more suffix: the first of ``format(n, "x")`` for n = 0, 1, 2, ... whose hash ends
        with ``strength`` zero bits, or None if none of the first ``max_tries`` does (None: until one does).

        Raises ValueError if the score is malformed or already has ``MAX_SUFFIXES`` suffixes.
        """
        self._checked()
        if self.value >= MAX_SUFFIXES:
            raise ValueError(f"a score has at most {MAX_SUFFIXES} suffixes")
        mask = (1 << self.strength) - 1
        tries = _SUFFIX_SPACE if max_tries is None else min(max_tries, _SUFFIX_SPACE)
        # The SHA-256 state after f"{hash} " is computed once and copied for each try: those bytes (65 after a
        # hash, more after the prefix) fill one or more 64-byte blocks that no try compresses again.
        fresh = hashlib.sha256(f"{self.hash} ".encode()).copy
        for n in range(tries):
            attempt = fresh()
            attempt.update(b"%x" % n)
            if not int.from_bytes(attempt.digest(), "big") & mask:
                return replace(self, suffixes=(*self.suffixes, format(n, "x")))
        return None

    def _form_error(self) -> str | None:
        """What is malformed in the fields, or None; the time relative to now and the work are not checked."""
        time = self.time
        if not isinstance(time, datetime) or time.utcoffset() != timedelta(0) or time.microsecond:
            return f"score time must be an aware UTC datetime in whole seconds, got {_show(time)}"
        if time.year < 1000:
            return f"score time must have a four-digit year, got {_show(time)}"
        if not _is_host(self.host):
            return f"score host must be a host name of [A-Za-z0-9.-] or an IP address, got {_show(self.host)}"
        if not _is_int(self.port) or not 1 <= self.port <= MAX_PORT:
            return f"score port must be an integer 1-{MAX_PORT}, got {_show(self.port)}"
        if not isinstance(self.key, str) or not _KEY.fullmatch(self.key):
            return f"score key must be 64 lowercase hex characters, got {_show(self.key)}"
        if not _is_int(self.strength) or not MIN_STRENGTH <= self.strength <= MAX_STRENGTH:
            return f"score strength must be an integer {MIN_STRENGTH}-{MAX_STRENGTH}, got {_show(self.strength)}"
        if not isinstance(self.suffixes, tuple) or len(self.suffixes) > MAX_SUFFIXES:
            return f"score suffixes must be a tuple of at most {MAX_SUFFIXES}, got {_show(self.suffixes)}"
        for suffix in self.suffixes:
            if not isinstance(suffix, str) or not _SUFFIX.fullmatch(suffix):
                return f"score suffix must be 1-16 lowercase hex characters, got {_show(suffix)}"
        return None

    def _checked(self) -> Score:
        """This score if it is well-formed (see ``_form_error()``); raises ValueError if not."""
        if (error := self._form_error()) is not None:
            raise ValueError(error)
        return self

    def to_dict(self) -> dict[str, object]:
        """The JSON form: ``{"time": "...Z", "host", "port", "key", "strength", "suffixes": [...], "value"}``."""
        return {
            "time": _format_time(self.time),
            "host": self.host,
            "port": self.port,
            "key": self.key,
            "strength": self.strength,
            "suffixes": list(self.suffixes),
            "value": self.value,
        }

    @classmethod
    def from_dict(cls, data: object) -> Score:
        """The well-formed score that ``to_dict()`` gave, from any JSON-like value; raises ValueError, and only
        ValueError, on anything else (a missing or extra key, a wrong type, a bool for an int, a value that is
        not the number of suffixes). The work is not checked: ask ``valid()``."""
        if not isinstance(data, dict):
            raise ValueError(f"a score must be a JSON object, got {type(data).__name__}")
        if data.keys() != _FIELDS:
            missing = sorted(_FIELDS - data.keys())
            extra = sorted(map(_show, data.keys() - _FIELDS))
            raise ValueError(f"score keys are wrong: missing {missing}, unexpected {extra}")
        suffixes, value = data["suffixes"], data["value"]
        if not isinstance(suffixes, list):
            raise ValueError(f"score suffixes must be a list, got {_show(suffixes)}")
        if not _is_int(value) or value != len(suffixes):
            raise ValueError(f"score value must be the number of suffixes ({len(suffixes)}), got {_show(value)}")
        return cls(
            time=_parse_time(data["time"]),
            host=data["host"],
            port=data["port"],
            key=data["key"],
            strength=data["strength"],
            suffixes=tuple(suffixes),
        )._checked()

    def to_text(self) -> str:
        """The one-line form: ``"{strength} {time} {host} {port} {key} {suffix} {suffix}..."``."""
        return " ".join(
            (str(self.strength), _format_time(self.time), self.host, str(self.port), self.key, *self.suffixes)
        )

    @classmethod
    def from_text(cls, text: object) -> Score:
        """The well-formed score that ``to_text()`` gave: tokens separated by single spaces, numbers in decimal
        without sign or leading zero; raises ValueError, and only ValueError, on anything else. The work is not
        checked: ask ``valid()``."""
        if not isinstance(text, str):
            raise ValueError(f"a score text must be a string, got {type(text).__name__}")
        # At most one token more than a score can have: a longer text is refused without splitting all of it.
        tokens = text.split(" ", 5 + MAX_SUFFIXES)
        if len(tokens) < 5:
            raise ValueError(f"a score text has at least 5 space-separated fields, got {_show(text)}")
        strength, time, host, port, key, *suffixes = tokens
        for name, number in (("strength", strength), ("port", port)):
            if not _NUMBER.fullmatch(number):
                raise ValueError(f"score {name} must be a positive decimal integer, got {_show(number)}")
        return cls(
            time=_parse_time(time), host=host, port=int(port), key=key, strength=int(strength), suffixes=tuple(suffixes)
        )._checked()
