"""The trust graph of a community, kept in memory per process and updated incrementally.

The graph is a hint for routing, never the authority: settlement rechecks every hop under lock
with the same ``capacity`` function, and a route found stale is re-planned from fresh rows.
"""

import threading
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from trust.models import Account, Trustline, capacity

# Rows committed out of timestamp order (a transaction that began earlier commits later) are
# caught by re-reading this much before the last sync; anything later still is caught by settlement.
SYNC_OVERLAP = timedelta(seconds=5)
LINE_FIELDS = (
    "low_id",
    "high_id",
    "limit_from_low",
    "limit_from_high",
    "balance",
    "held_from_low",
    "held_from_high",
    "closed_at",
    "updated_at",
)


class TrustGraph:
    def __init__(self) -> None:
        self.out: dict[int, dict[int, int]] = {}
        self.synced_at: datetime | None = None
        self.commons_id: int | None = None  # the community's commons never changes: looked up once
        self.remote_ids: frozenset[int] = frozenset()  # accounts on other instances: they never relay here
        self.lock = threading.RLock()

    @classmethod
    def from_lines(cls, lines: Iterable[tuple[int, int, int, int, int]]) -> "TrustGraph":
        """Build from ``(low, high, limit_from_low, limit_from_high, balance)`` tuples (benchmarks, imports)."""
        graph = cls()
        for line in lines:
            graph.set_line(*line)
        return graph

    def set_line(
        self,
        low: int,
        high: int,
        limit_from_low: int,
        limit_from_high: int,
        balance: int,
        held_from_low: int = 0,
        held_from_high: int = 0,
    ) -> None:
        out = self.out
        out.setdefault(low, {})[high] = capacity(
            limit_from_receiver=limit_from_high, owed_by_receiver=balance, held_by_sender=held_from_low
        )
        out.setdefault(high, {})[low] = capacity(
            limit_from_receiver=limit_from_low, owed_by_receiver=-balance, held_by_sender=held_from_high
        )

    def drop_line(self, low: int, high: int) -> None:
        self.out.get(low, {}).pop(high, None)
        self.out.get(high, {}).pop(low, None)

    def apply_rows(self, rows: Iterable[tuple]) -> None:
        """Apply ``LINE_FIELDS`` tuples: closed lines leave the graph, the others are (re)set."""
        with self.lock:
            for *line, closed_at, _ in rows:
                if closed_at is None:
                    self.set_line(*line)
                else:
                    self.drop_line(*line[:2])

    def sync(self, community_id: int, *, force: bool = False) -> None:
        """Load the community's lines on first use, afterwards the ones changed since the last sync.

        Between syncs at most ``GRAPH_SYNC_INTERVAL_SECONDS`` pass: a plan made on a graph that
        much behind other processes' payments is caught by settlement and re-made from fresh rows.
        """
        now = timezone.now()
        recent = (
            self.synced_at is not None and (now - self.synced_at).total_seconds() < settings.GRAPH_SYNC_INTERVAL_SECONDS
        )
        if recent and not force:
            return
        lines = Trustline.objects.filter(community_id=community_id).values_list(*LINE_FIELDS)
        if self.synced_at is None:
            self.apply_rows(lines.iterator(chunk_size=20_000))  # a server-side cursor for the one big read
        else:
            self.apply_rows(list(lines.filter(updated_at__gte=self.synced_at - SYNC_OVERLAP)))
        remote = Account.objects.filter(community_id=community_id, kind=Account.Kind.REMOTE)
        self.remote_ids = frozenset(remote.values_list("pk", flat=True))
        self.synced_at = now


_graphs: dict[int, TrustGraph] = {}
_registry_lock = threading.Lock()


def graph_for(community_id: int, *, fresh: bool = False) -> TrustGraph:
    """This process's graph of the community, synced (``fresh``: now, even if it synced a moment ago)."""
    with _registry_lock:
        graph = _graphs.setdefault(community_id, TrustGraph())
    with graph.lock:
        graph.sync(community_id, force=fresh)
    return graph


def lines_changed(community_id: int, lines: Iterable[Trustline]) -> None:
    """Settlement's word on lines it just wrote, so this process routes on them at once."""
    graph = _graphs.get(community_id)
    if graph is not None:
        graph.apply_rows(tuple(getattr(line, name) for name in LINE_FIELDS) for line in lines)


def forget_all() -> None:
    """Drop every cached graph (tests start from the database)."""
    with _registry_lock:
        _graphs.clear()
