"""Fixed-window attempt counters in the cache (Redis in production), shared by all processes."""

import time

from django.conf import settings
from django.core.cache import cache

from bank.errors import Throttled


def _hit(key: str, *, window: int) -> tuple[int, int]:
    """Count one attempt under ``key``; returns (attempts in this window, seconds until it ends)."""
    now = time.time()
    window_index = int(now // window)
    bucket = f"throttle:{key}:{window_index}"
    cache.add(bucket, 0, timeout=window + 1)
    try:
        count = cache.incr(bucket)
    except ValueError:  # the bucket expired between add and incr
        cache.set(bucket, 1, timeout=window + 1)
        count = 1
    return count, int((window_index + 1) * window - now) + 1


def login_attempt_register(*, account: str, client_address: str) -> None:
    """Count a login attempt; raise ``Throttled`` when the account or the address has had too many."""
    window = settings.LOGIN_ATTEMPT_WINDOW_SECONDS
    account_count, retry_after = _hit(f"login:account:{account}", window=window)
    address_count, _ = _hit(f"login:address:{client_address}", window=window)
    if account_count > settings.LOGIN_ATTEMPTS_PER_ACCOUNT or address_count > settings.LOGIN_ATTEMPTS_PER_ADDRESS:
        raise Throttled(
            f"Too many sign-in attempts. Try again in {retry_after} seconds.",
            code="too_many_attempts",
            retry_after=retry_after,
        )
