"""Settlement benchmark: routed payments per second on PostgreSQL against pgbench TPC-B on the same server.

    .venv/bin/python bench/settlement.py [--clients 1,2,4,8,16 --seconds 15 --no-ledger --no-batches]

Creates its own databases (``trustbank_bench_<random>`` and ``..._pgbench``) on the server of
``DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/postgres) and drops them at the end.

The community: payers p*, two layers of hubs a* and b*, payees q*. Payer i trusts hub a(i mod H),
every a trusts every b, and b(k) trusts the payees with k = m mod H, so every payment runs
payer -> a -> b -> payee over lines that many payments share (the H x H a-b lines above all), and
pays a 1% tax to the commons over the payer's own commons line. Each client process sends
one-unit payments between random payers and payees through ``payment_send`` until time is up,
every leg appended to the community's ledger as in use (``--no-ledger``: the money core alone).
Payments settle in batches (``trust.services.batches``; ``--no-batches``: each in a transaction of
its own, as before batches). Each client count runs for ``--seconds``, then pgbench at the same count.
"""

import argparse
import multiprocessing
import os
import random
import re
import secrets
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from glob import glob
from urllib.parse import urlsplit, urlunsplit

from common import setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"
SLUG = "bench"
UNIT = 1_000_000
WIDE = 1_000_000_000  # units of credit on every line: payments never run out of it
TARGET = 0.5
STARTUP_SECONDS = 120


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def admin_sql(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


# --- the community -------------------------------------------------------------------------------


def credit_links(payers: int, hubs: int, payees: int) -> list[str]:
    """``u v lower current upper`` lines: u can pay v WIDE units, v can pay u nothing."""
    one_way = f"-{WIDE} 0 0"
    lines = [f"p{i} a{i % hubs} {one_way}" for i in range(payers)]
    lines += [f"a{j} b{k} {one_way}" for j in range(hubs) for k in range(hubs)]
    lines += [f"b{m % hubs} q{m} {one_way}" for m in range(payees)]
    return lines


def build_community(*, payers: int, hubs: int, payees: int) -> None:
    from decimal import Decimal

    from bank.models import Community
    from trust.importing import credit_links_parse, trust_graph_import

    # Commons lines wide enough for every tax; the commons never relays, so they are no shortcut.
    Community.objects.create(
        slug=SLUG, name="Settlement bench", commons_limit=WIDE * UNIT, minimum_trust_index=Decimal("0.01")
    )
    trust_graph_import(slug=SLUG, links=credit_links_parse(credit_links(payers, hubs, payees)))
    open_identities()


def open_identities() -> None:
    """Every member has signed in once: an identity key, whose certified receipt key signs its receipts."""
    from bank.models import Member
    from identity.services.registration import identity_open

    for member in Member.objects.filter(community__slug=SLUG):
        identity_open(member=member, passphrase="bench-passphrase")


def accounts(prefix: str) -> list:
    from trust.models import Account

    return list(
        Account.objects.select_related("community", "member").filter(
            community__slug=SLUG, member__handle__startswith=prefix
        )
    )


# --- the clients ---------------------------------------------------------------------------------


def client(number: int, seconds: float, ledger: bool, start, results) -> None:
    """One process: its own Django and connection, sending payments until ``seconds`` have passed."""
    sent = refused = 0
    failures: dict[str, int] = {}
    latencies: list[float] = []
    try:
        setup_django()
        from trust.errors import RoutingError
        from trust.routing.graph import graph_for
        from trust.services.payments import payment_send
        from trust.signals import money_moved

        if not ledger:  # the money core alone: no books kept
            money_moved.disconnect(dispatch_uid="ledger.record_payments")

        rng = random.Random(number)
        payers, payees = accounts("p"), accounts("q")
        graph_for(payers[0].community_id)  # load the graph before the clock starts
    except BaseException:
        start.abort()  # nobody waits for a client that will never come
        raise
    try:
        start.wait(timeout=STARTUP_SECONDS)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                payment_send(payer=rng.choice(payers), payee=rng.choice(payees), amount=UNIT)
                sent += 1
                latencies.append(time.perf_counter() - began)
            except RoutingError:  # the route changed under it twice: counted, not retried
                refused += 1
            except Exception as exc:  # noqa: BLE001 - a benchmark reports failures instead of dying
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
    finally:
        results.put((sent, refused, failures, latencies))


@dataclass
class Point:
    """One client count's run."""

    clients: int
    sent: int
    refused: int
    failures: dict[str, int]
    elapsed: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed

    def latency_ms(self, quantile: float) -> float:
        ordered = sorted(self.latencies) or [0.0]
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000


def run_clients(clients: int, seconds: float, ledger: bool) -> Point:
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(clients + 1), context.Queue()
    processes = [context.Process(target=client, args=(n, seconds, ledger, start, results)) for n in range(clients)]
    for process in processes:
        process.start()
    try:
        start.wait(timeout=STARTUP_SECONDS)
    except threading.BrokenBarrierError:
        raise SystemExit("a client process failed to start; see its traceback above") from None
    began = time.monotonic()
    counts = [results.get(timeout=seconds + STARTUP_SECONDS) for _ in processes]
    elapsed = time.monotonic() - began
    for process in processes:
        process.join()
    failures: dict[str, int] = {}
    for _, _, each, _ in counts:
        for name, count in each.items():
            failures[name] = failures.get(name, 0) + count
    latencies = [latency for *_, each in counts for latency in each]
    return Point(clients, sum(c[0] for c in counts), sum(c[1] for c in counts), failures, elapsed, latencies)


def timezone_now():
    from django.utils import timezone

    return timezone.now()


def payments_per_transaction(since) -> float:
    """Payments settled since ``since`` per settlement transaction: a batch settles all of its payments at one time."""
    from django.db.models import Count

    from trust.models import Payment

    settled = Payment.objects.filter(settled_at__gte=since).aggregate(
        payments=Count("pk"), transactions=Count("settled_at", distinct=True)
    )
    return settled["payments"] / max(settled["transactions"], 1)


# --- one payment, looked at closely --------------------------------------------------------------


def profile_payment(samples: int = 50) -> None:
    """One client alone: wall time, this process's CPU time (Python) and SQL queries per payment."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from trust.services.payments import payment_send

    payers, payees = accounts("p"), accounts("q")
    rng = random.Random(0)
    walls, cpus = [], []
    for _ in range(samples):
        with CaptureQueriesContext(connection) as captured:
            wall, cpu = time.perf_counter(), time.process_time()
            payment_send(payer=rng.choice(payers), payee=rng.choice(payees), amount=UNIT)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
    wall, cpu = sorted(walls)[samples // 2], sorted(cpus)[samples // 2]
    print(f"One payment, one client alone (median of {samples}): {wall * 1000:.1f} ms")
    print(
        f"  Python (this process's CPU) {cpu * 1000:.1f} ms, waiting on PostgreSQL {max(0.0, wall - cpu) * 1000:.1f} ms"
    )
    print(f"  {len(captured.captured_queries)} SQL statements:")
    for query in captured.captured_queries:
        print(f"    {shorten(query['sql'])}")
    signing = signature_seconds()
    entries = 4  # three hops and the tax
    print(
        f"  Signing its receipts: {entries} entries x {signing * 1e6:.0f} µs (member P-256 + server Ed25519) = "
        f"{entries * signing * 1000:.2f} ms per payment, in the batch, under the community's lock"
    )


def signature_seconds(samples: int = 2000) -> float:
    """Seconds to sign one receipt as ``ledger.services.append`` does: the member's P-256 key, then the server's."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from core.crypto import p256
    from core.crypto.server import server_sign
    from ledger import formats

    member = ec.generate_private_key(ec.SECP256R1())
    receipt = formats.receipt_text("2026-12-03T12:00:00Z", "p1@bench", "a1@bench", "1.000000", formats.GENESIS, 7)
    began = time.perf_counter()
    for _ in range(samples):
        signature = p256.sign(member, receipt.encode())
        server_sign(formats.server_signed_bytes(receipt, signature))
    return (time.perf_counter() - began) / samples


def shorten(sql: str, width: int = 110) -> str:
    sql = re.sub(r"\s+", " ", sql)
    sql = re.sub(r"SELECT .*? FROM", "SELECT ... FROM", sql, count=1)
    return sql if len(sql) <= width else sql[: width - 3] + "..."


# --- pgbench -------------------------------------------------------------------------------------


def pgbench_binary() -> str:
    found = shutil.which("pgbench") or next(iter(sorted(glob("/usr/lib/postgresql/*/bin/pgbench"), reverse=True)), None)
    if not found:
        raise SystemExit("pgbench not found: install postgresql-client (or postgresql-contrib)")
    return found


def pgbench_init(url: str) -> None:
    """A scale-8 pgbench database."""
    conninfo = url.replace("postgres://", "postgresql://", 1)
    subprocess.run([pgbench_binary(), "-i", "-s", "8", "-q", conninfo], check=True, capture_output=True)


def pgbench(url: str, *, clients: int, seconds: int) -> float:
    """TPC-B-like transactions per second, pgbench's default script, on the scale-8 database."""
    binary, conninfo = pgbench_binary(), url.replace("postgres://", "postgresql://", 1)
    threads = min(clients, os.cpu_count() or 1)
    done = subprocess.run(
        [binary, "-c", str(clients), "-j", str(threads), "-T", str(seconds), conninfo],
        check=True,
        capture_output=True,
        text=True,
    )
    match = re.search(r"tps = ([\d.]+)", done.stdout)
    if not match:
        raise SystemExit(f"pgbench printed no tps:\n{done.stdout}\n{done.stderr}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,2,4,8,16", help="client counts to run, one after the other")
    parser.add_argument("--seconds", type=int, default=15, help="per client count, ours and pgbench's each")
    parser.add_argument("--payers", type=int, default=64)
    parser.add_argument("--hubs", type=int, default=4, help="hubs per layer: the a-b lines number hubs x hubs")
    parser.add_argument("--payees", type=int, default=64)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument(
        "--no-ledger", action="store_true", help="the money core alone: settle without appending to the ledger"
    )
    parser.add_argument("--no-batches", action="store_true", help="settle each payment in a transaction of its own")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("the settlement benchmark needs PostgreSQL: set DATABASE_URL or --database-url")
    counts = [int(count) for count in args.clients.split(",")]
    if args.no_batches:
        os.environ["SETTLEMENT_BATCHES"] = "false"  # the clients read it as they start

    name = f"trustbank_bench_{secrets.token_hex(4)}"
    ours_url, pgbench_url = with_database(args.database_url, name), with_database(args.database_url, f"{name}_pgbench")
    admin_sql(args.database_url, f'CREATE DATABASE "{name}"', f'CREATE DATABASE "{name}_pgbench"')
    try:
        setup_django(ours_url)  # children inherit DATABASE_URL from the environment
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        build_community(payers=args.payers, hubs=args.hubs, payees=args.payees)
        connections.close_all()
        print(
            f"Settlement benchmark: {args.seconds} s per point; {args.payers} payers -> {args.hubs} a-hubs -> "
            f"{args.hubs} b-hubs -> {args.payees} payees, 1% tax to the commons"
            + ("; no ledger" if args.no_ledger else "; every leg in the ledger, receipts signed")
            + ("; each payment alone" if args.no_batches else "; batched settlement")
        )
        pgbench_init(pgbench_url)
        print(
            f"{'clients':>7} {'payments/s':>10} {'pgbench tps':>11} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'per txn':>7}  refused, failures"
        )
        for clients in counts:
            since = timezone_now()
            point = run_clients(clients, args.seconds, ledger=not args.no_ledger)
            per_transaction = payments_per_transaction(since)
            tps = pgbench(pgbench_url, clients=clients, seconds=args.seconds)
            failed = "".join(f", {count} {kind}" for kind, count in sorted(point.failures.items()))
            print(
                f"{clients:7d} {point.rate:10.1f} {tps:11.1f} {point.rate / tps:6.1%} {point.latency_ms(0.5):7.1f} "
                f"{point.latency_ms(0.99):7.1f} {per_transaction:7.1f}  {point.refused}{failed}",
                flush=True,
            )
            connections.close_all()
        print(f"Target: {TARGET:.0%} of pgbench at 8 clients, rising from 1 to 16 clients.")
        profile_payment()
        connections.close_all()
    finally:
        admin_sql(
            args.database_url,
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'DROP DATABASE IF EXISTS "{name}_pgbench" WITH (FORCE)',
        )


if __name__ == "__main__":
    main()
