"""Payments across three instances against a local three-hop payment, in the same run.

    .venv/bin/python bench/federation.py [--payments 100 --seconds 15 --clients 8]

Starts three instances on loopback, river, lake and sea, each with its own PostgreSQL database (cloned from
one migrated template on the server of ``DATABASE_URL``), a uvicorn web server and a ``runpeer`` listener;
trust runs alice (river) ~ bob (lake) ~ carol (sea), and on river alone alice ~ m1 ~ m2 ~ m3. Then, through
the API as an app would:

- latency: ``--payments`` payments one after the other, alice -> carol@sea through bob (A->B->C across the
  three), and as many alice -> m3 on river (three hops, one instance); p50 and p99 of each and their ratio;
- throughput: ``--clients`` clients paying for ``--seconds`` each way, payments per second and the ratio.

Every federated payment must answer 201 finalized; the books are checked at the end (both copies of each
line agree, nothing held). Goal: federated p50 <= 100 ms.
"""

import argparse
import json
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from common import ROOT, percentile, setup_django

P50_GOAL_MS = 100
LIMIT = "1000000"
ADD_MEMBERS = """
from bank import selectors, services
community = selectors.community_get_by_slug(slug="river")
for handle in ("m1", "m2", "m3"):
    services.member_create(community=community, handle=handle, password="pw-123456-x")
"""
LINES = (
    ("river", "alice", "bob@lake.lake.test"),
    ("lake", "bob", "alice@river.river.test"),
    ("lake", "bob", "carol@sea.sea.test"),
    ("sea", "carol", "bob@lake.lake.test"),
    *(("river", giver, taker) for giver, taker in (("m1", "alice"), ("m2", "m1"), ("m3", "m2"))),
)
HELD = "SELECT coalesce(sum(held_from_low + held_from_high), 0) FROM trust_trustline"


class Api:
    """A member signed in to one instance's API by token."""

    def __init__(self, instance, slug: str, handle: str) -> None:
        self.base = f"{instance.url}/c/{slug}/api/"
        self.token = self.call("auth/login", {"username": handle, "password": "pw-123456-x"})[1]["token"]

    def call(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Token {self.token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def credit_from(self, address: str) -> str:
        rows = self.call("user/accounts")[1]["accounts"]
        return next((row["limit_in"] for row in rows if f"{row['username']}@{row['server']}" == address), "")


def start(folder: Path):
    from bench.workload.instances import Instance, admin_sql, free_port, wait_for

    template = f"trustbank_bench_federation_{uuid.uuid4().hex[:8]}"
    admin_sql(f'CREATE DATABASE "{template}"')
    created = [template]
    migrated = Instance("template", template, "00" * 32, free_port(), "template.test", folder).manage("migrate")
    assert migrated.returncode == 0, migrated.stderr
    instances = {}
    for name in ("river", "lake", "sea"):
        database = f"{template}_{name}"
        admin_sql(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
        created.append(database)
        settings = {"LOG_LEVEL": "WARNING", "DATABASE_POOL_MAX_SIZE": "20"}
        instance = Instance(
            name, database, uuid.uuid4().hex * 2, free_port(), f"{name}.test", folder, settings=settings
        )
        instance.start_web()
        instance.start_peer()
        instances[name] = instance
    for name, admin in (("river", "alice"), ("lake", "bob"), ("sea", "carol")):
        made = instances[name].manage(
            "create_community", name, "--name", name, "--admin", admin, "--password", "pw-123456-x"
        )
        assert made.returncode == 0, made.stderr
    instances["river"].shell(ADD_MEMBERS)
    for name, instance in instances.items():
        for other in instances.values():
            if other is not instance:
                assert instance.manage("remote", "add", other.address).returncode == 0, name
    for name, giver, taker in LINES:
        done = instances[name].manage("trustline", "--community", name, giver, taker, LIMIT)
        assert done.returncode == 0, done.stderr
    alice, bob = Api(instances["river"], "river", "alice"), Api(instances["lake"], "lake", "bob")
    wait_for(lambda: alice.credit_from("bob@lake.lake.test") == f"{LIMIT}.000000", "bob's credit on river")
    wait_for(lambda: bob.credit_from("carol@sea.sea.test") == f"{LIMIT}.000000", "carol's credit on lake")
    return instances, created, alice


class NotSettled(Exception):
    pass


def timed(alice: Api, body: dict) -> float:
    """Seconds from the request to the payment settled (followed on ``user/payments/<id>`` past a 202)."""
    started = time.perf_counter()
    status, answer = alice.call("user/payment", body)
    while status == 202 and answer.get("state") not in ("finalized", "cancelled"):
        time.sleep(0.01)
        status, answer = alice.call(f"user/payments/{answer['id']}")
    took = time.perf_counter() - started
    if status not in (200, 201) or answer.get("state") != "finalized":
        raise NotSettled(f"payment {body} answered {status} {answer}")
    return took


def throughput(instance, clients: int, seconds: float, body: dict) -> float:
    """Payments settled per second by ``clients`` paying at once; one not settled within the wait fails the run."""
    apis = [Api(instance, "river", "alice") for _ in range(clients)]
    done = [0] * clients
    failures: list[str] = []
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        while time.monotonic() < stop and not failures:
            try:
                timed(apis[index], body)
            except NotSettled as exc:
                failures.append(str(exc))
                return
            done[index] += 1

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise NotSettled(failures[0])
    return sum(done) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    arguments = parser.parse_args()
    setup_django()
    sys.path.insert(0, str(ROOT))
    from bench.workload.instances import admin_sql

    folder = Path(tempfile.mkdtemp(prefix="trustbank-bench-federation-"))
    instances, created = {}, []
    try:
        instances, created, alice = start(folder)
        federated = {"username": "carol", "server": "sea.sea.test", "amount": "0.01"}
        local = {"username": "m3", "amount": "0.01"}
        for body in (federated, local):  # warm up: graphs loaded, connections open
            timed(alice, body)
        rows = []
        for name, body in (("A->B->C across 3 instances", federated), ("3 hops on 1 instance", local)):
            samples = [timed(alice, body) for _ in range(arguments.payments)]
            rate = throughput(instances["river"], arguments.clients, arguments.seconds, body)
            rows.append((name, percentile(samples, 50), percentile(samples, 99), rate))
        print(f"{'payment':<28} {'p50':>10} {'p99':>10} {f'{arguments.clients} clients':>14}")
        for name, p50, p99, rate in rows:
            print(f"{name:<28} {p50 * 1000:>7.1f} ms {p99 * 1000:>7.1f} ms {rate:>10.1f} /s")
        (_, fed50, fed99, fed_rate), (_, local50, local99, local_rate) = rows
        print(
            f"federated / local: p50 {fed50 / local50:.2f}x, p99 {fed99 / local99:.2f}x, "
            f"throughput {fed_rate / local_rate:.2%} of local"
        )
        held = [instances[name].sql(HELD)[0][0] for name in instances]
        goal = "met" if fed50 * 1000 <= P50_GOAL_MS else "missed"
        print(f"held after the run: {held}; p50 goal <= {P50_GOAL_MS} ms: {goal}")
        return 0 if not any(held) else 1
    finally:
        for instance in instances.values():
            instance.stop()
        for database in reversed(created):
            admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
