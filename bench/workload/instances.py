"""Real instances for the federation tests and benchmark: each its own PostgreSQL database, web server and listener.

In the tests, the test's own instance ("here") is the test database served by pytest-django's live server,
with its listener started on that database; every other instance gets a database cloned from one migrated
template, a uvicorn and a ``runpeer`` of its own. Processes run in their own process groups, so a test can
kill -9 one and start it again; everything is stopped and dropped at the end. Databases are on the server of
``DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/postgres).
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench.workload.processes import Group
from federation import peers
from federation.errors import PeerUnreachable

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
STARTUP_SECONDS = 30


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SERVER_URL = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"


def database_url(name: str) -> str:
    return urlunsplit(urlsplit(SERVER_URL)._replace(path=f"/{name}"))


def admin_sql(statement: str) -> None:
    with psycopg.connect(database_url("postgres"), autocommit=True) as connection:
        connection.execute(statement)


def wait_for(condition: Callable[[], bool], what: str, seconds: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {seconds} s")


@dataclass
class Instance:
    """One instance's settings and processes; ``web`` is None for the test's own (the live server serves it)."""

    name: str
    database: str
    server_key: str
    web_port: int
    domain: str
    folder: Path
    ws_port: int = field(default_factory=free_port)
    udp_port: int = field(default_factory=lambda: free_port(socket.SOCK_DGRAM))
    web_host: str = "127.0.0.1"
    peer: Group | None = None
    web: Group | None = None
    settings: dict = field(default_factory=dict)  # more environment, e.g. shorter FEDERATED_* times

    @property
    def url(self) -> str:
        return f"http://{self.web_host}:{self.web_port}"

    @property
    def address(self) -> str:
        return f"{self.web_host}:{self.web_port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    def env(self) -> dict:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": f"tests-only-{self.name}",
            "SERVER_KEY": self.server_key,
            "LEDGER_KEY": "1e" * 32,
            "DATABASE_URL": database_url(self.database),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "INSTANCE_URL": self.url,
            "INSTANCE_NAME": self.name,
            "INSTANCE_DOMAIN": self.domain,
            "PEER_HOST": "127.0.0.1",
            "PEER_WS_PORT": str(self.ws_port),
            "PEER_UDP_PORT": str(self.udp_port),
            "FEDERATION_ALLOW_HTTP": "true",
            "FEDERATION_TIMEOUT_SECONDS": "3",
            "SCORE_STRENGTH": "4",
            "REDIS_URL": "",
            "LOG_LEVEL": "INFO",
            **self.settings,
        }

    def start_peer(self) -> None:
        self.peer = Group([PYTHON, "manage.py", "runpeer"], env=self.env(), log=self.folder / f"{self.name}-peer.log")
        self.peer.start()
        wait_for(self.answers_ping, f"{self.name}'s listener")

    def answers_ping(self) -> bool:
        try:
            peers.ping(self.ws)
        except PeerUnreachable:
            return False
        return True

    def start_web(self) -> None:
        command = [PYTHON, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"]
        self.web = Group(
            [*command, "--port", str(self.web_port), "--no-access-log"],
            env=self.env(),
            log=self.folder / f"{self.name}-web.log",
        )
        self.web.start()
        wait_for(self.serves_its_document, f"{self.name}'s web server")

    def serves_its_document(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}{peers.DOCUMENT_PATH}", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def manage(self, *arguments: str) -> subprocess.CompletedProcess:
        command = [PYTHON, "manage.py", *arguments]
        return subprocess.run(
            command, check=False, cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=60
        )

    def shell(self, code: str) -> str:
        """Run Python in this instance's Django (``manage.py shell -c``); its output."""
        done = self.manage("shell", "-c", code)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def sql(self, query: str, *parameters) -> list[tuple]:
        with psycopg.connect(database_url(self.database), autocommit=True) as connection:
            return connection.execute(query, parameters).fetchall()

    def stop(self) -> None:
        for group in (self.peer, self.web):
            if group is not None:
                group.stop()

    def logs(self) -> str:
        return "\n".join(group.tail(40) for group in (self.peer, self.web) if group is not None)
