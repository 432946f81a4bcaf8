"""The listener's limits per peer address."""

from federation.listener import limits
from federation.listener.limits import Connections, Rate


def test_a_rate_allows_a_second_of_burst_then_refills(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(limits.time, "monotonic", lambda: now[0])
    rate = Rate(5)

    assert [rate.allow("10.0.0.1") for _ in range(6)] == [True] * 5 + [False]
    assert rate.allow("10.0.0.2")  # another address has its own bucket
    now[0] += 0.4  # two tokens back
    assert [rate.allow("10.0.0.1") for _ in range(3)] == [True, True, False]


def test_a_flood_from_many_addresses_does_not_grow_the_buckets_without_bound():
    rate = Rate(5, tracked=100)
    for number in range(1000):
        rate.allow(f"10.0.{number // 256}.{number % 256}")

    assert len(rate._buckets) <= 100


def test_connections_are_limited_per_address():
    connections = Connections(2)

    assert [connections.open("10.0.0.1") for _ in range(3)] == [True, True, False]
    assert connections.open("10.0.0.2")
    connections.close("10.0.0.1")
    assert connections.open("10.0.0.1") and not connections.open("10.0.0.1")
