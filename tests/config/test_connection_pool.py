"""Under the documented ASGI server, every process keeps its PostgreSQL connections within its pool.

Before the pool, each request under uvicorn left its connection open (sync views run in a thread
of their own per request), so a few hundred requests exhausted the server's connections.
"""

import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from tests.factories import CommunityFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 3
POOL_SIZE = 2
REQUESTS = 300
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _wait_until_serving(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read().decode()
        try:
            _get(url)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("uvicorn did not start serving in 60 s")


class ConnectionCounter(threading.Thread):
    """Polls PostgreSQL for the connections to one database opened since it started, and keeps the peak."""

    def __init__(self, url: str, database: str) -> None:
        super().__init__(daemon=True)
        self.url, self.database, self.peak = url, database, 0
        self.since = time.time()
        self.done = threading.Event()

    def run(self) -> None:
        query = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = %s AND backend_start > to_timestamp(%s) AND pid <> pg_backend_pid()"
        )
        with psycopg.connect(self.url, autocommit=True) as watcher:
            while not self.done.is_set():
                (count,) = watcher.execute(query, [self.database, self.since]).fetchone()
                self.peak = max(self.peak, count)
                time.sleep(0.02)


@pytest.fixture
def served_database_url() -> str:
    """The test database's URL, with a community in it that the server can answer about."""
    CommunityFactory(slug="pool")
    base = settings.TEST_POSTGRES_URL.rsplit("/", 1)[0]
    return f"{base}/{connection.settings_dict['NAME']}"


@pytest.fixture
def counter() -> ConnectionCounter:
    """Started before the server, so it counts every connection the server opens."""
    counter = ConnectionCounter(settings.TEST_POSTGRES_URL, connection.settings_dict["NAME"])
    counter.start()
    yield counter
    counter.done.set()
    counter.join()


@pytest.fixture
def server(counter: ConnectionCounter, served_database_url: str):
    port = _free_port()
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "SERVER_KEY": "5e" * 32,
        "LEDGER_KEY": "1e" * 32,
        "DATABASE_URL": served_database_url,
        "DATABASE_POOL_MAX_SIZE": str(POOL_SIZE),
        "ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", str(WORKERS)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/c/pool/api/public/records"
    try:
        _wait_until_serving(url, process)
        yield url
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def test_concurrent_requests_stay_within_the_pools(server: str, counter: ConnectionCounter) -> None:
    with ThreadPoolExecutor(max_workers=32) as clients:
        statuses = list(clients.map(_get, [server] * REQUESTS))
    time.sleep(0.2)

    assert statuses == [200] * REQUESTS, counter.peak
    assert 0 < counter.peak <= WORKERS * POOL_SIZE
