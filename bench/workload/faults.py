"""Faults on a schedule, one at a time, each with its window: from the moment it strikes until the
service it hit answers again (the web API with a request that reads the database, or the Celery worker
a ping). The kinds:

- ``kill_web_worker``: kill -9 one uvicorn worker process; the master starts another.
- ``kill_web``: kill -9 the whole web server (master and workers), start it again after a pause.
- ``kill_celery``: kill -9 the Celery worker (and its pool), start it again after a pause.
- ``restart_postgres``: ``pg_ctl restart -m immediate``: no shutdown checkpoint, crash recovery on start.
"""

import os
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from workload.cluster import Cluster
from workload.processes import Web, Worker, wait_until

KINDS = ("kill_web_worker", "kill_web", "kill_celery", "restart_postgres")
OUTAGE = 1.0  # seconds a killed service stays down before it is started again
RECOVERY_TIMEOUT = 90.0


@dataclass
class Fault:
    kind: str
    start: float
    end: float | None = None
    detail: str = ""

    def overlaps(self, start: float, end: float) -> bool:
        return start <= (self.end if self.end is not None else float("inf")) and end >= self.start


def schedule(
    *, seconds: float, interval: float, warmup: float, quiet: float, rng: random.Random
) -> list[tuple[float, str]]:
    """Faults every ``interval`` seconds from ``warmup`` on, none in the last ``quiet`` seconds; the kinds
    come in rounds, each round every kind once in a random order, so a run long enough for a round has each."""
    times, at = [], warmup
    while at <= seconds - quiet:
        times.append(at)
        at += interval
    kinds: list[str] = []
    while len(kinds) < len(times):
        kinds += rng.sample(KINDS, len(KINDS))
    return list(zip(times, kinds, strict=False))  # kinds may run past times


class Nemesis(threading.Thread):
    """Strikes the scheduled faults (times on ``clock``) and records their windows in ``faults``."""

    def __init__(
        self,
        plan: list[tuple[float, str]],
        *,
        web: Web,
        worker: Worker,
        cluster: Cluster,
        web_answers: Callable[[], bool],
        worker_answers: Callable[[], bool],
        clock: Callable[[], float],
        rng: random.Random,
    ) -> None:
        super().__init__(name="nemesis", daemon=True)
        self.plan, self.web, self.worker, self.cluster = plan, web, worker, cluster
        self.web_answers, self.worker_answers, self.clock, self.rng = web_answers, worker_answers, clock, rng
        self.faults: list[Fault] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for at, kind in self.plan:
                time.sleep(max(0.0, at - self.clock()))
                fault = Fault(kind, self.clock())
                self.faults.append(fault)
                fault.detail = getattr(self, kind)()
                fault.end = self.clock()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread, which fails the run
            self.error = exc

    def recovered(self, condition: Callable[[], bool], what: str) -> None:
        wait_until(condition, timeout=RECOVERY_TIMEOUT, what=what, interval=0.05)

    def kill_web_worker(self) -> str:
        pid = self.rng.choice(self.web.worker_pids())
        os.kill(pid, signal.SIGKILL)
        self.recovered(
            lambda: pid not in self.web.worker_pids() and self.web.all_workers_up() and self.web_answers(),
            "the web server replacing its killed worker",
        )
        return f"uvicorn worker pid {pid}"

    def kill_web(self) -> str:
        self.web.kill()
        time.sleep(OUTAGE)
        self.web.start()
        self.recovered(lambda: self.web.all_workers_up() and self.web_answers(), "the restarted web server answering")
        return f"uvicorn master and {self.web.workers} workers, restarted after {OUTAGE:.0f} s"

    def kill_celery(self) -> str:
        self.worker.kill()
        time.sleep(OUTAGE)
        self.worker.start()
        self.recovered(self.worker_answers, "the restarted Celery worker answering a ping")
        return f"celery worker and its pool, restarted after {OUTAGE:.0f} s"

    def restart_postgres(self) -> str:
        self.cluster.restart()
        self.recovered(self.web_answers, "the web API answering after PostgreSQL's restart")
        return "pg_ctl restart -m immediate"
