"""Celery tasks by name: services enqueue the tasks that call them without importing the task modules
(``tasks`` sit above ``services`` in each app's layers, docs/architecture.md)."""

import importlib

from celery import current_app
from celery.app.task import Task
from django.db import transaction


def task(name: str) -> Task:
    """The task registered as ``name`` (``"app.tasks.function"``), its module imported on first use."""
    importlib.import_module(name.rpartition(".")[0])
    return current_app.tasks[name]


def enqueue_on_commit(name: str, *args, **kwargs) -> None:
    """Queue the task ``name`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: task(name).delay(*args, **kwargs))
