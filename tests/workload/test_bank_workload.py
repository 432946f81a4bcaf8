"""The bank workload's short form (bench/bank_workload.py --short) passes every check.

It starts its own PostgreSQL cluster from the PostgreSQL binaries, the web server and a Celery
worker, runs clients for half a minute while each fault strikes once, and checks the books; about a
minute in all. It uses the Redis of the test run, in a database of its own (flushed).
"""

import shutil
import subprocess
import sys
from glob import glob
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from tests.services import services_required

ROOT = Path(__file__).resolve().parents[2]
WORKLOAD_REDIS_DB = "/9"
TIMEOUT = 300


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_short_workload_passes_every_check() -> None:
    if not (shutil.which("initdb") or glob("/usr/lib/postgresql/*/bin/initdb")):
        reason = "needs the PostgreSQL binaries (initdb, pg_ctl) to start a cluster of its own"
        if services_required():
            pytest.fail(reason)
        pytest.skip(reason)
    redis_url = urlunsplit(urlsplit(settings.TEST_REDIS_URL)._replace(path=WORKLOAD_REDIS_DB))
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bank_workload.py"), "--short", "--redis-url", redis_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout[-6000:]}\n{done.stderr[-4000:]}"
