"""``python manage.py federation_demo`` (``make federation-demo``): three local instances that federate.

Each instance ("river", "lake" and "sea") has its own folder under ``var/federation-demo/`` (its SQLite database
and generated keys), the demo community, a web server and a peer listener; once all answer, each adds the others
as remotes, and trust runs river's alice ~ lake's bob ~ sea's carol, so alice can pay carol through bob. Ctrl-C
stops them all. ``--check`` pays once through the API and stops (the test's way).
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bank.management.commands.seed_demo import DEMO_PASSWORD

STARTUP_SECONDS = 60


@dataclass(frozen=True)
class DemoInstance:
    name: str
    web_port: int
    peer_port: int  # the WebSocket's; the datagrams' is the one below it

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def env(self, folder: Path) -> dict:
        return {
            **os.environ,
            "DEBUG": "true",
            "TRUSTBANK_VAR_DIR": str(folder / self.name),
            "DATABASE_URL": "",
            "REDIS_URL": "",
            "INSTANCE_URL": self.url,
            "INSTANCE_NAME": f"{self.name} (demo)",
            "INSTANCE_DOMAIN": f"{self.name}.localhost",
            "PEER_WS_PORT": str(self.peer_port),
            "PEER_UDP_PORT": str(self.peer_port - 1),
            "SCORE_STRENGTH": "8",
        }


INSTANCES = (DemoInstance("river", 8001, 2113), DemoInstance("lake", 8002, 2213), DemoInstance("sea", 8003, 2313))
# (instance, member, the account it extends credit to, the credit)
LINES = (
    ("river", "alice", "bob@demo.lake.localhost", "100"),
    ("lake", "bob", "alice@demo.river.localhost", "100"),
    ("lake", "bob", "carol@demo.sea.localhost", "100"),
    ("sea", "carol", "bob@demo.lake.localhost", "100"),
)


class Command(BaseCommand):
    help = "Run three local instances, river, lake and sea, that federate with each other."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--folder", default=str(Path(settings.VAR_DIR) / "federation-demo"))
        parser.add_argument("--check", action="store_true", help="pay once from river to sea, then stop")

    def handle(self, *args, folder: str, check: bool, **options) -> None:
        base = Path(folder)
        running: list[subprocess.Popen] = []
        try:
            for instance in INSTANCES:
                env = instance.env(base)
                Path(env["TRUSTBANK_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
                for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
                    self._manage(env, command, quiet=True)
                log = (Path(env["TRUSTBANK_VAR_DIR"]) / "processes.log").open("a")
                web = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(instance.web_port)]
                for command in (web, [sys.executable, "manage.py", "runpeer"]):
                    running.append(subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True))
            for instance in INSTANCES:
                self._wait_for(instance)
            for here in INSTANCES:
                for there in INSTANCES:
                    if there != here:
                        self._manage(here.env(base), ["remote", "add", f"127.0.0.1:{there.web_port}"])
            by_name = {instance.name: instance for instance in INSTANCES}
            for name, member, other, limit in LINES:
                self._manage(by_name[name].env(base), ["trustline", "--community", "demo", member, other, limit])
            if check:
                self._pay_once()
                return
            self._introduce()
            stops = {signal.SIGINT, signal.SIGTERM}
            signal.pthread_sigmask(signal.SIG_BLOCK, stops)  # so that either one ends the wait, not the process
            signal.sigwait(stops)
        finally:
            for process in running:
                os.killpg(process.pid, signal.SIGTERM)
            for process in running:
                process.wait(10)

    def _manage(self, env: dict, command: list[str], *, quiet: bool = False) -> None:
        command = [sys.executable, "manage.py", *command]
        done = subprocess.run(command, check=False, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise CommandError(f"{' '.join(command[1:])} failed:\n{done.stderr.strip()}")
        if not quiet:
            self.stdout.write(done.stdout.strip())

    def _wait_for(self, instance: DemoInstance) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{instance.url}/.well-known/trustbank.json", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise CommandError(f"{instance.name} did not start at {instance.url} within {STARTUP_SECONDS} s")

    def _introduce(self) -> None:
        river, lake, sea = INSTANCES
        self.stdout.write(
            f"\nThree instances that federate, alice (river) ~ bob (lake) ~ carol (sea):\n"
            f"  river  {river.url}/c/demo/login/\n"
            f"  lake   {lake.url}/c/demo/login/\n"
            f"  sea    {sea.url}/c/demo/login/\n"
            f"Sign in on river as alice (password {DEMO_PASSWORD}) and, on the pay page, pay "
            f"carol@demo.sea.localhost: the payment goes through bob on lake. Sign in on sea as carol to see it "
            f"arrive, on lake as bob to see his two lines move.\n"
            f"Logs and databases: var/federation-demo/<instance>/. Ctrl-C stops all three."
        )

    def _pay_once(self) -> None:
        """alice on river pays carol on sea 5 through the API, as an app would; prints the payment's state."""
        river, lake, _ = INSTANCES
        alice, bob = _signed_in(river, "alice"), _signed_in(lake, "bob")
        _credit_known(river, alice, "bob@demo.lake.localhost")  # each side's credit has reached the other
        _credit_known(lake, bob, "carol@demo.sea.localhost")
        paid = _call(river, "user/payment", {"username": "carol", "server": "demo.sea.localhost", "amount": "5"}, alice)
        self.stdout.write(f"alice paid carol@demo.sea.localhost {paid['amount']}: {paid['state']}")


def _signed_in(instance: DemoInstance, handle: str) -> str:
    return _call(instance, "auth/login", {"username": handle, "password": DEMO_PASSWORD})["token"]


def _credit_known(instance: DemoInstance, token: str, address: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        rows = _call(instance, "user/accounts", None, token)["accounts"]
        if any(f"{row['username']}@{row['server']}" == address and row["limit_in"] != "0.000000" for row in rows):
            return
        time.sleep(0.3)
    raise CommandError(f"{address}'s credit did not reach {instance.name} within {STARTUP_SECONDS} s")


def _call(instance: DemoInstance, path: str, body: dict | None, token: str | None = None) -> dict:
    """The demo community's API on ``instance``: POST ``body``, or GET when it is None."""
    url = f"{instance.url}/c/demo/api/{path}"
    headers = {"Content-Type": "application/json", **({"Authorization": f"Token {token}"} if token else {})}
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        raise CommandError(f"{url}: {exc.code} {exc.read().decode()[:300]}") from None
