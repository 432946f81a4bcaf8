"""Sign-in throttling: failed attempts counted per (account, address), per address and per account.

Counts live in the cache (Redis in production, so every process sees the same numbers) in fixed
windows. Only failures count, so people who sign in often from several devices, or many members
behind one address, are never locked out by their own successes.

- An account that fails too often from one address is locked *from that address* for the window.
- An address that fails too often on any accounts is locked for the window.
- An account that fails very often from everywhere (a distributed guess) is slowed, not locked:
  it takes one attempt per ``LOGIN_SLOWDOWN_SECONDS`` from anyone. An attacker's failures thus
  never lock the real member out, as they would with a plain per-account lock (django-axes'
  per username-and-address mode, with a ceiling against botnets).
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from core.errors import Throttled


def _bucket(key: str) -> tuple[str, int]:
    """The cache key of the current window for ``key`` and the seconds until that window ends."""
    window = settings.LOGIN_ATTEMPT_WINDOW_SECONDS
    now = time.time()
    index = int(now // window)
    return f"throttle:{key}:{index}", int((index + 1) * window - now) + 1


def key_part(text: str) -> str:
    """What a cache key holds of text from a request (a typed username): a digest, any length or character."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _locks(account: str, client_address: str) -> list[tuple[str, int]]:
    account, client_address = key_part(account), key_part(client_address)
    return [
        (f"login:account:{account}:address:{client_address}", settings.LOGIN_ATTEMPTS_PER_ACCOUNT),
        (f"login:address:{client_address}", settings.LOGIN_ATTEMPTS_PER_ADDRESS),
    ]


def _account_key(account: str) -> str:
    return f"login:account:{key_part(account)}"


def _failures(key: str) -> tuple[int, int]:
    bucket, retry_after = _bucket(key)
    return cache.get(bucket) or 0, retry_after


def login_guard(*, account: str, client_address: str) -> None:
    """Raise ``Throttled`` when this attempt may not be made now (see the module's rules)."""
    for key, limit in _locks(account, client_address):
        failures, retry_after = _failures(key)
        if failures >= limit:
            raise Throttled(
                f"Too many failed sign-in attempts. Try again in {retry_after} seconds.",
                code="too_many_attempts",
                retry_after=retry_after,
            )
    failures, _ = _failures(_account_key(account))
    pause = settings.LOGIN_SLOWDOWN_SECONDS
    # Past the ceiling, each attempt takes the account's turn; others wait for the next one.
    if failures >= settings.LOGIN_ATTEMPTS_BEFORE_SLOWDOWN and not cache.add(
        f"throttle:login:turn:{key_part(account)}", 1, timeout=pause
    ):
        raise Throttled(
            f"This account has had very many failed sign-in attempts, so it takes one every {pause} seconds. "
            f"Try again in {pause} seconds.",
            code="too_many_attempts",
            retry_after=pause,
        )


def login_failed(*, account: str, client_address: str) -> None:
    timeout = settings.LOGIN_ATTEMPT_WINDOW_SECONDS + 1
    for key, _ in [*_locks(account, client_address), (_account_key(account), None)]:
        bucket, _ = _bucket(key)
        cache.add(bucket, 0, timeout=timeout)
        try:
            cache.incr(bucket)
        except ValueError:  # the window ended between add and incr
            cache.set(bucket, 1, timeout=timeout)
