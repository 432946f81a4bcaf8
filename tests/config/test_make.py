"""The Makefile's development commands: `make run` serves the ASGI application as production does, and
`make manage` runs the README's operator commands with the development settings of `make run`."""

import os
import shlex
import subprocess
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
UNSET = ("DEBUG", "SECRET_KEY", "SERVER_KEY", "LEDGER_KEY", "DJANGO_SETTINGS_MODULE")


def planned(*args: str) -> list[str]:
    """The commands `make` would run (``make -n``: nothing runs), one per line, continuations joined."""
    # Under `make test` this is a nested make: without its parent's flags it prints no "Entering directory".
    environ = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", *args],
        cwd=PROJECT_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.replace("\\\n", " ").splitlines()


def test_make_run_serves_the_asgi_application_reloading_on_edits():
    [serve] = [line for line in planned("run") if "uvicorn" in line]

    words = shlex.split(serve)
    assert words[0] == "DEBUG=true" and words[1].endswith("/bin/uvicorn")
    assert words[2] == "config.asgi:application"
    assert {"--reload", "--no-server-header"} <= set(words)
    assert words[words.index("--reload-include") + 1] == "*.html"  # templates are cached without runserver
    assert not any("runserver" in line for line in planned("run"))


def test_make_manage_runs_a_readme_command_with_the_development_settings(tmp_path):
    command = planned("manage", "ARGS=route --help")[-1]
    assert shlex.split(command)[:3] == ["DEBUG=true", ".venv/bin/python", "manage.py"]

    # A fresh shell's: no settings of the test run, no keys; development keys are generated in TRUSTBANK_VAR_DIR.
    environ = {key: value for key, value in os.environ.items() if not key.startswith(UNSET)}
    environ["TRUSTBANK_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        command, shell=True, cwd=PROJECT_DIR, env=environ, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "--community" in result.stdout
