"""The application's processes, each in a process group of its own so a fault can kill -9 all of it:
the web server (uvicorn, several worker processes under one master) and the Celery worker."""

import http.client
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent


class Group:
    """One command started in a new session (its own process group), logging to a file."""

    def __init__(self, command: list[str], *, env: dict, log: Path) -> None:
        self.command, self.env, self.log = command, env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self) -> None:
        """SIGKILL to the whole group: the master and every child, with no chance to clean up."""
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM to the group, SIGKILL after ``timeout``."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout)
            self.process = None
        except ProcessLookupError:
            self.process = None
        except subprocess.TimeoutExpired:
            self.kill()

    def children(self) -> list[int]:
        """Live child processes of the group's leader (from /proc)."""
        if self.process is None:
            return []
        try:
            pids = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except FileNotFoundError:
            return []
        return [int(pid) for pid in pids if _alive(int(pid))]

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


class Web(Group):
    """``uvicorn config.asgi:application --workers N`` on 127.0.0.1:``port``."""

    def __init__(self, *, env: dict, log: Path, port: int, workers: int) -> None:
        command = [
            str(BIN / "uvicorn"),
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "2",
        ]
        super().__init__(command, env=env, log=log)
        self.port, self.workers = port, workers

    def worker_pids(self) -> list[int]:
        """The master's worker processes (multiprocessing spawns them; its resource tracker is not one)."""
        return [pid for pid in self.children() if b"spawn_main" in _cmdline(pid)]

    def all_workers_up(self) -> bool:
        return len(self.worker_pids()) == self.workers


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


class Worker(Group):
    """``celery -A config worker``; no mingle or gossip, so a restarted worker is ready at once."""

    def __init__(self, *, env: dict, log: Path, concurrency: int = 2) -> None:
        command = [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--loglevel",
            "WARNING",
            "--concurrency",
            str(concurrency),
            "--without-mingle",
            "--without-gossip",
            "--hostname",
            f"workload{os.getpid()}@%h",
        ]
        super().__init__(command, env=env, log=log)


def http_status(port: int, path: str, *, token: str | None = None, timeout: float = 2) -> int | None:
    """The status of ``GET path``, or None when the server does not answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Authorization": f"Token {token}"} if token else {})
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def wait_until(condition, *, timeout: float, what: str, interval: float = 0.1) -> float:
    """Poll ``condition`` until it holds; returns the time it took. TimeoutError after ``timeout``."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(interval)
    return time.monotonic() - began
