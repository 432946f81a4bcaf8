"""Runs that must not overlap: a job redelivered to a second worker while the first still runs it."""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


def lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def sole_run(name: str) -> Iterator[bool]:
    """Whether this run is the only one named ``name`` now; the claim lasts for the block.

    On PostgreSQL it is a session advisory lock: it outlives the block's own transactions, and the
    server drops it with the connection when the process holding it dies, so no dead worker keeps
    it. Elsewhere (SQLite, one process) every run is the sole one.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    key = lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        (held,) = cursor.fetchone()
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def try_lock_for_transaction(name: str) -> bool:
    """Take the lock ``name`` until the current transaction ends, if no other transaction holds it.

    PostgreSQL only (a transaction-level advisory lock, dropped with the transaction or the connection).
    Read what the lock guards in a later statement: this one's snapshot may predate the release it saw.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_key(name)])
        return cursor.fetchone()[0]


def lock_for_transaction(name: str) -> None:
    """Take the lock ``name`` until the current transaction ends, waiting for the transaction that holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(name)])
