"""Bank workload with faults: the whole stack under concurrent clients while processes are killed, then checked.

    .venv/bin/python bench/bank_workload.py [--seconds 120 --clients 16 --members 30 --seed 1]
    .venv/bin/python bench/bank_workload.py --short      # about a minute in all, each fault once (CI)

In the manner of Jepsen's bank test. The run sets up everything it uses, in a temporary directory:

- a PostgreSQL cluster of its own (``initdb``, its own free port, ``max_connections`` 100; as root it
  runs as the ``postgres`` user), so restarting it touches nobody else; Redis at ``--redis-url``
  (a database of its own, flushed at the start) as Celery's broker and the cache;
- the schema (``migrate``), a community (``manage.py create_community``) of ``--members`` members on
  a random trust graph (``bank.services``, ``trust.services.accounts``), 1% tax and hop fees to the
  commons, each member signed in with ``auth/login`` for its API token;
- the production processes with production settings (``DEBUG=false``, generated keys):
  ``uvicorn config.asgi:application --workers 4`` and ``celery -A config worker``, each in its own
  process group.

Then ``--clients`` threads send random operations over HTTP for ``--seconds`` (workload/operations.py):
payments, payment requests and their payment or cancellation, accepts, declines, refunds, disputes,
the same decline or refund twice at once, a request sent again with the same ``Idempotency-Key``
(and the same key with another body), reads. Every state-changing request carries a fresh
``Idempotency-Key`` and is retried with it after a network error or a 5xx; every payment's memo
carries its operation's id. Meanwhile faults strike on a schedule (workload/faults.py): kill -9 of
one uvicorn worker, of the whole web server, of the Celery worker, and an immediate restart of
PostgreSQL, each window recorded until the service answers again. Each operation's outcome is
``ok`` (acknowledged), ``failed`` (definitely refused) or ``indeterminate``.

Afterwards the checker (workload/checks.py) reads the database with the ORM and the API; each check
prints PASS or FAIL with its figures, and the exit code is 1 if any failed:

- both sides' views of every trustline agree (``user/accounts`` of each member, mirrored, and
  ``ledger/balance`` the same); net balances sum to zero and the ledger's replay agrees with the
  trustlines; no debt exceeds the credit its creditor extended;
- every acknowledged payment or request applied exactly once (found by its memo, with the id it was
  answered), none definitely refused applied, indeterminate ones at most once; each settled
  payment's legs carry its amount and its tax; every status change as answered, a doubled one
  acknowledged at most once, a declined or refunded payment sent back exactly once;
- a replayed key answers the first response, a reused key with another body 422;
- one ledger entry per leg; ``ledger.verification.audit`` finds nothing, nor does an audit motion
  run by the Celery worker; every entry's receipt is served to both accounts and verifies offline;
- no 5xx (nor request without an answer) outside the fault windows; the peak of client connections
  (``pg_stat_activity`` every 0.2 s) within ``max_connections``.

It prints throughput (acknowledged ops/s, payments/s), p50/p99 latency per operation kind and the
faults with their windows. ``--keep`` keeps the directory for a look afterwards: the logs, the cluster, and
``history.jsonl`` (every operation with its attempts and outcome, and the faults).
"""

import argparse
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import setup_django
from workload import checks, report
from workload.client import Http
from workload.cluster import Cluster, ConnectionMonitor, free_port
from workload.community import SLUG, create, sign_in
from workload.faults import Nemesis, schedule
from workload.operations import run_clients
from workload.processes import Web, Worker, http_status, wait_until

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
STARTUP_TIMEOUT = 90.0
SHORT = {"seconds": 30.0, "fault_interval": 6.0}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="how long the clients run")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--members", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--short",
        action="store_true",
        help=f"{SHORT['seconds']:.0f} s of clients, each fault once: about a minute in all (CI)",
    )
    parser.add_argument("--fault-interval", type=float, default=10.0, help="seconds between the starts of faults")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--max-connections", type=int, default=100)
    parser.add_argument(
        "--archive-length",
        type=int,
        default=800,
        help="LEDGER_ARCHIVE_LENGTH: the Celery worker archives the live segment this often",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("WORKLOAD_REDIS_URL") or DEFAULT_REDIS_URL,
        help="a Redis database for this run alone: it is flushed (default %(default)s)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    args = parser.parse_args(argv)
    if args.short:
        args.seconds, args.fault_interval = SHORT["seconds"], SHORT["fault_interval"]
    if args.members < 3:
        parser.error("--members must be at least 3")
    return args


def workload_env(*, cluster: Cluster, redis_url: str, directory: Path, archive_length: int) -> dict[str, str]:
    """Production settings (see README, "Production") pointing at this run's own services."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SERVER_KEY": secrets.token_hex(32),
        "LEDGER_KEY": secrets.token_hex(32),
        "DATABASE_URL": cluster.url,
        # Persistent connections exhaust PostgreSQL under ASGI (every request runs in a thread of its own).
        "DATABASE_CONN_MAX_AGE": "0",
        "REDIS_URL": redis_url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LEDGER_ARCHIVE_LENGTH": str(archive_length),
        "TRUSTBANK_VAR_DIR": str(directory / "var"),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def celery_answers() -> bool:
    from config.celery import app

    return bool(app.control.ping(timeout=0.5))


def start_services(env: dict, directory: Path, args: argparse.Namespace) -> tuple[Web, Worker]:
    web = Web(env=env, log=directory / "web.log", port=free_port(), workers=args.web_workers)
    worker = Worker(env=env, log=directory / "celery.log")
    web.start()
    worker.start()
    try:
        wait_until(
            lambda: web.all_workers_up() and http_status(web.port, f"/c/{SLUG}/api/auth/whoami") is not None,
            timeout=STARTUP_TIMEOUT,
            what="the web server answering",
        )
        wait_until(celery_answers, timeout=STARTUP_TIMEOUT, what="the Celery worker answering a ping")
    except TimeoutError:
        print(f"web log:\n{web.tail()}\ncelery log:\n{worker.tail()}", file=sys.stderr)
        raise
    return web, worker


def run(args: argparse.Namespace, directory: Path) -> int:
    began = time.monotonic()
    cluster = Cluster(directory, max_connections=args.max_connections)
    web = worker = None
    try:
        cluster.initdb()
        cluster.start()
        cluster.create_database()
        env = workload_env(
            cluster=cluster, redis_url=args.redis_url, directory=directory, archive_length=args.archive_length
        )
        os.environ.update(env)
        flush_redis(args.redis_url)
        setup_django()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        handles, password, trustlines = create(members=args.members, seed=args.seed)
        connections.close_all()
        web, worker = start_services(env, directory, args)
        tokens = sign_in(port=web.port, handles=handles, password=password)
        print(
            f"Bank workload: {args.clients} clients for {args.seconds:.0f} s; {args.members} members, "
            f"{trustlines} trustlines; uvicorn with {args.web_workers} workers, a Celery worker, PostgreSQL "
            f"(max_connections {args.max_connections}) on port {cluster.port}; seed {args.seed}; "
            f"set up in {time.monotonic() - began:.1f} s"
        )

        probe = f"/c/{SLUG}/api/user/accounts"
        monitor = ConnectionMonitor(cluster.url)
        http = Http(port=web.port, origin=time.monotonic(), tokens=tokens)
        rng = random.Random(args.seed)
        plan = schedule(seconds=args.seconds, interval=args.fault_interval, warmup=3.0, quiet=5.0, rng=rng)
        nemesis = Nemesis(
            plan,
            web=web,
            worker=worker,
            cluster=cluster,
            clock=http.now,
            rng=rng,
            web_answers=lambda: http_status(web.port, probe, token=tokens[handles[0]]) == 200,
            worker_answers=celery_answers,
        )
        monitor.start()
        nemesis.start()
        ops = run_clients(
            count=args.clients, http=http, slug=SLUG, handles=handles, seed=args.seed, deadline=args.seconds
        )
        elapsed = http.now()
        nemesis.join()
        monitor.stop()
        if nemesis.error is not None:
            raise nemesis.error

        report.history(directory / "history.jsonl", ops, nemesis.faults)
        report.operations(ops, elapsed)
        report.faults(nemesis.faults)
        results = checks.run_checks(
            checks.Run(
                ops=ops,
                faults=nemesis.faults,
                slug=SLUG,
                port=web.port,
                tokens=tokens,
                peak_connections=monitor.peak,
                connection_samples=monitor.samples,
                max_connections=args.max_connections,
            )
        )
        report.checks(results)
        print(f"Done in {time.monotonic() - began:.1f} s")
        return 0 if all(check.passed for check in results) else 1
    finally:
        for group in (web, worker):
            if group is not None:
                group.stop()
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        cluster.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    directory = Path(tempfile.mkdtemp(prefix="trustbank-workload-"))
    try:
        return run(args, directory)
    finally:
        if args.keep:
            print(f"Kept {directory} (history.jsonl, postgresql.log, web.log, celery.log, pgdata)")
        else:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
