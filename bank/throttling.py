"""Sign-in throttling: failed attempts counted per account and per client address.

Counts live in the cache (Redis in production, so every process sees the same numbers) in fixed
windows. Only failures count, so people who sign in often from several devices, or many members
behind one address, are never locked out by their own successes; once the failures reach the
limit, every attempt is refused until the window ends, the right password included.
"""

import time

from django.conf import settings
from django.core.cache import cache

from bank.errors import Throttled


def _bucket(key: str) -> tuple[str, int]:
    """The cache key of the current window for ``key`` and the seconds until that window ends."""
    window = settings.LOGIN_ATTEMPT_WINDOW_SECONDS
    now = time.time()
    index = int(now // window)
    return f"throttle:{key}:{index}", int((index + 1) * window - now) + 1


def _keys(account: str, client_address: str) -> list[tuple[str, int]]:
    return [
        (f"login:account:{account}", settings.LOGIN_ATTEMPTS_PER_ACCOUNT),
        (f"login:address:{client_address}", settings.LOGIN_ATTEMPTS_PER_ADDRESS),
    ]


def login_guard(*, account: str, client_address: str) -> None:
    """Raise ``Throttled`` when the account or the address has failed too often in this window."""
    for key, limit in _keys(account, client_address):
        bucket, retry_after = _bucket(key)
        if (cache.get(bucket) or 0) >= limit:
            raise Throttled(
                f"Too many failed sign-in attempts. Try again in {retry_after} seconds.",
                code="too_many_attempts",
                retry_after=retry_after,
            )


def login_failed(*, account: str, client_address: str) -> None:
    timeout = settings.LOGIN_ATTEMPT_WINDOW_SECONDS + 1
    for key, _ in _keys(account, client_address):
        bucket, _ = _bucket(key)
        cache.add(bucket, 0, timeout=timeout)
        try:
            cache.incr(bucket)
        except ValueError:  # the window ended between add and incr
            cache.set(bucket, 1, timeout=timeout)
