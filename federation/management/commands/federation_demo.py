"""``python manage.py federation_demo`` (``make federation-demo``): two local instances that know each other.

Each instance ("river" and "lake") has its own folder under ``var/federation-demo/`` (its SQLite database and
generated keys), the demo community, a web server and a peer listener; once both answer, each adds the other
as a remote. Ctrl-C stops them all. ``--check`` stops them as soon as they know each other (the test's way).
"""

import os
import signal
import subprocess
import sys
import time
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


INSTANCES = (DemoInstance("river", 8001, 2113), DemoInstance("lake", 8002, 2213))


class Command(BaseCommand):
    help = "Run two local instances, river and lake, that federate with each other."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--folder", default=str(Path(settings.VAR_DIR) / "federation-demo"))
        parser.add_argument("--check", action="store_true", help="stop once the two know each other")

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
            for here, there in (INSTANCES, INSTANCES[::-1]):
                self._manage(here.env(base), ["remote", "add", f"127.0.0.1:{there.web_port}"])
            self._introduce()
            if not check:
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
        river, lake = INSTANCES
        self.stdout.write(
            f"\nTwo instances that know each other:\n"
            f"  river  {river.url}/c/demo/login/\n"
            f"  lake   {lake.url}/c/demo/login/\n"
            f"Sign in on river as alice (password {DEMO_PASSWORD}) and, on the trustlines page, add "
            f"bob@demo.lake.localhost; sign in on lake as bob to see the line and extend credit back.\n"
            f"Logs and databases: var/federation-demo/<instance>/. Ctrl-C stops both."
        )
