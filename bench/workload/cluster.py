"""A PostgreSQL cluster of the workload's own: initdb in a temporary directory, its own port.

PostgreSQL refuses to run as root, so as root every PostgreSQL binary runs as the ``postgres``
user (``runuser``) and the cluster's directory belongs to it.
"""

import os
import pwd
import shutil
import socket
import subprocess
import threading
from glob import glob
from pathlib import Path

DATABASE = "trustbank"
SUPERUSER = "postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _binaries() -> Path:
    found = shutil.which("initdb") or next(iter(sorted(glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)), None)
    if not found:
        raise SystemExit("initdb not found: install PostgreSQL (its binaries are in /usr/lib/postgresql/*/bin)")
    return Path(found).resolve().parent


class Cluster:
    """``initdb``, ``start``, ``restart`` (immediate: a crash and recovery), ``stop``; ``url`` to connect."""

    def __init__(self, directory: Path, *, max_connections: int) -> None:
        self.directory = directory
        self.data = directory / "pgdata"
        self.log = directory / "postgresql.log"
        self.port = free_port()
        self.max_connections = max_connections
        self.bin = _binaries()
        self.as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, binary: str, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bin / binary), *args]
        if self.as_root:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{binary} {' '.join(args)} failed:\n{done.stdout}{done.stderr}{log}")
        return done

    def initdb(self) -> None:
        if self.as_root:
            try:
                owner = pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise SystemExit(
                    f"PostgreSQL will not run as root, and there is no {SUPERUSER!r} user to run it"
                ) from None
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-sync")
        settings = {
            "port": self.port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.directory}'",
            "max_connections": self.max_connections,
            # A killed process loses nothing the kernel holds, so fsync only slows the run; commits
            # stay synchronous, or a crash of PostgreSQL itself would lose acknowledged ones.
            "fsync": "off",
            "full_page_writes": "off",
            "log_min_messages": "warning",
            "log_connections": "off",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self) -> None:
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60")

    def create_database(self) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, DATABASE)

    def restart(self) -> None:
        """Immediate shutdown (no checkpoint: recovery on start, as after a crash), then start."""
        self._run("pg_ctl", "restart", "-D", str(self.data), "-l", str(self.log), "-m", "immediate", "-w", "-t", "60")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")


class ConnectionMonitor(threading.Thread):
    """Counts client connections (``pg_stat_activity``) every ``interval`` seconds; keeps the peak."""

    def __init__(self, url: str, *, interval: float = 0.2) -> None:
        super().__init__(name="pg-connections", daemon=True)
        self.url, self.interval = url, interval
        self.peak = self.samples = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        import psycopg

        query = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
        connection = None
        while not self.stopped.wait(self.interval):
            try:
                if connection is None or connection.closed:
                    connection = psycopg.connect(self.url, autocommit=True, connect_timeout=1)
                count = connection.execute(query).fetchone()[0]
            except psycopg.Error:  # the server is restarting: count again once it is back
                connection = None
                continue
            self.samples += 1
            self.peak = max(self.peak, count)
        if connection is not None:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join()
