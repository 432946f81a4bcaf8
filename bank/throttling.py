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

Every answer to a request that consulted the throttle says where it stands, in the IETF draft's
headers (``RateLimitHeadersMiddleware``): ``RateLimit-Limit`` failed attempts per window,
``RateLimit-Remaining`` of them left, ``RateLimit-Reset`` seconds until the window ends, from the
counter nearest its limit; while an account is slowed, one attempt per ``LOGIN_SLOWDOWN_SECONDS``.
"""

import hashlib
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from core.errors import Throttled


@dataclass(frozen=True)
class Quota:
    """Failed sign-ins allowed per window (``limit``), how many of them are left, and seconds until the window ends."""

    limit: int
    remaining: int
    reset: int

    @classmethod
    def of(cls, limit: int, failures: int, reset: int) -> "Quota":
        return cls(limit, max(0, limit - failures), reset)

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


# The quota of the sign-in this request attempts, for its answer's headers; set by login_guard and login_failed.
_quota: ContextVar[Quota | None] = ContextVar("sign_in_quota", default=None)


def _tightest(quotas: list[Quota]) -> Quota:
    return min(quotas, key=lambda quota: quota.remaining)


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
    quotas = [Quota.of(limit, *_failures(key)) for key, limit in _locks(account, client_address)]
    quota = _tightest(quotas)
    _quota.set(quota)
    if not quota.remaining:
        raise Throttled(
            f"Too many failed sign-in attempts. Try again in {quota.reset} seconds.",
            code="too_many_attempts",
            retry_after=quota.reset,
        )
    failures, _ = _failures(_account_key(account))
    pause = settings.LOGIN_SLOWDOWN_SECONDS
    # Past the ceiling, each attempt takes the account's turn; others wait for the next one.
    if failures >= settings.LOGIN_ATTEMPTS_BEFORE_SLOWDOWN and not cache.add(
        f"throttle:login:turn:{key_part(account)}", 1, timeout=pause
    ):
        _quota.set(Quota(limit=1, remaining=0, reset=pause))
        raise Throttled(
            f"This account has had very many failed sign-in attempts, so it takes one every {pause} seconds. "
            f"Try again in {pause} seconds.",
            code="too_many_attempts",
            retry_after=pause,
        )


def login_failed(*, account: str, client_address: str) -> None:
    timeout = settings.LOGIN_ATTEMPT_WINDOW_SECONDS + 1
    quotas = []
    for key, limit in [*_locks(account, client_address), (_account_key(account), None)]:
        bucket, reset = _bucket(key)
        cache.add(bucket, 0, timeout=timeout)
        try:
            failures = cache.incr(bucket)
        except ValueError:  # the window ended between add and incr
            failures = 1
            cache.set(bucket, failures, timeout=timeout)
        if limit is not None:
            quotas.append(Quota.of(limit, failures, reset))
    _quota.set(_tightest(quotas))


class RateLimitHeadersMiddleware:
    """The ``RateLimit-*`` headers on the answer to every request that consulted the sign-in throttle
    (the API's ``auth/login`` and ``auth/change_password``, the sign-in pages of members and of Django admin)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _quota.set(None)
        try:
            response = self.get_response(request)
            quota = _quota.get()
        finally:
            _quota.reset(token)
        if quota is not None:
            for name, value in quota.headers().items():
                response[name] = value
        return response
