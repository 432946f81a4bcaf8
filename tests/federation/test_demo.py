"""``make federation-demo``: three local instances on the embedded defaults that find each other, trust runs
from river through lake to sea, and alice on river pays carol on sea through bob on lake."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_starts_three_instances_and_a_payment_crosses_them(tmp_path):
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
    for port, name in ((8001, "river"), (8002, "lake"), (8003, "sea")):
        assert done.stdout.count(f"added 127.0.0.1:{port} ({name} (demo))") == 2
        assert (tmp_path / name / "trustbank.sqlite3").exists()
    assert "alice paid carol@demo.sea.localhost 5.000000: finalized" in done.stdout
