"""``make federation-demo``: two local instances on the embedded defaults that find each other."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_starts_two_instances_that_add_each_other(tmp_path):
    done = subprocess.run(
        [sys.executable, "manage.py", "federation_demo", "--check", "--folder", str(tmp_path)],
        check=False,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert done.returncode == 0, done.stderr
    assert "added 127.0.0.1:8002 (lake (demo))" in done.stdout and "added 127.0.0.1:8001 (river (demo))" in done.stdout
    assert {path.name for path in tmp_path.iterdir()} >= {"river", "lake"}
    assert (tmp_path / "river" / "trustbank.sqlite3").exists() and (tmp_path / "lake" / "trustbank.sqlite3").exists()
