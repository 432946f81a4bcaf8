"""Work spread over processes of their own, for the long walks that one core cannot speed up.

Each process is spawned (never forked: a fork would share the caller's pooled database sockets and
its threads' locks), sets Django up and reads the caller's database. Workers see only what is
committed, so ``spread`` declines inside a transaction, as it does where no process can be started
(SQLite, a daemonic worker such as Celery's prefork children) or where one process is asked for.
"""

import logging
import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

import django
from django.db import connection, connections

logger = logging.getLogger(__name__)
Result = TypeVar("Result")


def can_spread(processes: int) -> bool:
    """Whether ``spread`` would run work in ``processes`` processes now."""
    return (
        processes > 1
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and not multiprocessing.current_process().daemon
    )


def spread(
    function: Callable[..., Result],
    tasks: Iterable[tuple],
    *,
    processes: int,
    finished: Callable[[tuple, Result], None] | None = None,
) -> list[Result] | None:
    """``function(*task)`` for each task, in task order, computed by up to ``processes`` processes;
    None when it cannot (see ``can_spread``) or its processes died. ``finished(task, result)`` is
    called in this process as each task finishes.

    ``function`` must be importable by name (a module's top-level function), its arguments and
    results picklable. An error raised by a task is raised here.
    """
    tasks = list(tasks)
    if not can_spread(processes) or not tasks:
        return None
    context = multiprocessing.get_context("spawn")
    name = connection.settings_dict["NAME"]
    try:
        with ProcessPoolExecutor(
            max_workers=min(processes, len(tasks)), mp_context=context, initializer=_start, initargs=(name,)
        ) as pool:
            futures = {pool.submit(function, *task): task for task in tasks}
            for future in as_completed(futures):
                if finished is not None:
                    finished(futures[future], future.result())
            return [future.result() for future in futures]
    except BrokenProcessPool:
        logger.warning("worker processes died; %s runs in this process", function.__qualname__)
        return None


def _start(database_name: str) -> None:
    """In each new process: Django, reading the caller's database (a test run's has its own name)."""
    django.setup()
    connections["default"].settings_dict["NAME"] = database_name
