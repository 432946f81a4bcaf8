"""Limits per peer address: connections open at once, and messages per second (a token bucket)."""

import time
from collections import defaultdict


class Rate:
    """At most ``per_second`` messages a second from each address on average, bursts up to one second's worth."""

    def __init__(self, per_second: int, *, tracked: int = 100_000) -> None:
        self.per_second, self.tracked = per_second, tracked
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, at)

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        tokens, at = self._buckets.get(address, (float(self.per_second), now))
        tokens = min(float(self.per_second), tokens + (now - at) * self.per_second)
        if len(self._buckets) >= self.tracked and address not in self._buckets:
            self._buckets.clear()  # a flood from many addresses: forget them rather than grow without bound
        allowed = tokens >= 1.0
        self._buckets[address] = (tokens - 1.0 if allowed else tokens, now)
        return allowed


class Connections:
    """Open connections per address, at most ``limit`` each."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: defaultdict[str, int] = defaultdict(int)

    def open(self, address: str) -> bool:
        if self._open[address] >= self.limit:
            return False
        self._open[address] += 1
        return True

    def close(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]
