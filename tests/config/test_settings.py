"""Settings come from the environment, strictly: a bad value stops start-up and names the variable."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

PROJECT_DIR = Path(__file__).resolve().parents[2]
SETTINGS_VARIABLES = [
    "DEBUG",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
    "DATABASE_CONN_MAX_AGE",
    "LOGIN_ATTEMPTS_PER_ACCOUNT",
    "SECURE_HSTS_SECONDS",
    "GRAPH_SYNC_INTERVAL_SECONDS",
    "ROUTING_TIMEOUT_SECONDS",
    "SERVER_KEY",
    "SERVER_KEY_FILE",
    "LEDGER_KEY",
    "LEDGER_KEY_FILE",
]
KEYS = {"SERVER_KEY": "ab" * 32, "LEDGER_KEY": "cd" * 32}


@pytest.fixture
def load_settings(monkeypatch, tmp_path):
    """Evaluate config/settings.py afresh under the given environment, without touching the live settings."""

    def load(**env: str) -> dict:
        for name in SETTINGS_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("TRUSTBANK_VAR_DIR", str(tmp_path))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(PROJECT_DIR / "config" / "settings.py"))

    return load


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DEBUG": "perhaps"}, "DEBUG"),
        ({"DEBUG": "true", "DATABASE_CONN_MAX_AGE": "sixty"}, "DATABASE_CONN_MAX_AGE"),
        ({"DEBUG": "true", "LOGIN_ATTEMPTS_PER_ACCOUNT": "0"}, "LOGIN_ATTEMPTS_PER_ACCOUNT"),
        ({"DEBUG": "true", "REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"DEBUG": "true", "GRAPH_SYNC_INTERVAL_SECONDS": "soon"}, "GRAPH_SYNC_INTERVAL_SECONDS"),
        ({"DEBUG": "true", "ROUTING_TIMEOUT_SECONDS": "0"}, "ROUTING_TIMEOUT_SECONDS"),
        ({"DEBUG": "true", "DATABASE_URL": "nosuchdb://x/y"}, "DATABASE_URL"),
        ({"DEBUG": "false"}, "SECRET_KEY"),
        ({"DEBUG": "false", "SECRET_KEY_FILE": "/nonexistent/secret"}, "SECRET_KEY_FILE"),
        ({"DEBUG": "false", "SECRET_KEY": "s" * 50, **KEYS, "SECURE_HSTS_SECONDS": "-1"}, "SECURE_HSTS_SECONDS"),
        ({"DEBUG": "false", "SECRET_KEY": "s" * 50}, "SERVER_KEY"),
        ({"DEBUG": "false", "SECRET_KEY": "s" * 50, "SERVER_KEY": "ab" * 32}, "LEDGER_KEY"),
        ({"DEBUG": "true", "SERVER_KEY": "not hex"}, "SERVER_KEY"),
        ({"DEBUG": "true", "LEDGER_KEY": "ab" * 16}, "LEDGER_KEY"),
    ],
)
def test_a_malformed_variable_stops_start_up_naming_it(load_settings, env, named):
    with pytest.raises(ImproperlyConfigured, match=rf"^{named}\b"):
        load_settings(**env)


def test_production_settings_are_secure(load_settings):
    config = load_settings(
        DEBUG="false", SECRET_KEY="x" * 50, **KEYS, ALLOWED_HOSTS="bank.example.org, www.example.org"
    )
    assert config["ALLOWED_HOSTS"] == ["bank.example.org", "www.example.org"]
    assert config["SESSION_COOKIE_SECURE"] and config["CSRF_COOKIE_SECURE"]
    assert config["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert config["PASSWORD_HASHERS"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_secret_key_can_come_from_a_file(load_settings, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-mounted-secret\n")
    assert load_settings(SECRET_KEY_FILE=str(secret), **KEYS)["SECRET_KEY"] == "from-a-mounted-secret"


def test_development_generates_and_keeps_a_secret_key(load_settings, tmp_path):
    first = load_settings(DEBUG="true")["SECRET_KEY"]
    assert len(first) >= 50
    assert load_settings(DEBUG="true")["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_development_generates_and_keeps_the_server_and_ledger_keys(load_settings, tmp_path):
    first = load_settings(DEBUG="true")
    assert len(first["SERVER_KEY"]) == len(first["LEDGER_KEY"]) == 32
    assert first["SERVER_KEY"] != first["LEDGER_KEY"]
    again = load_settings(DEBUG="true")
    assert (again["SERVER_KEY"], again["LEDGER_KEY"]) == (first["SERVER_KEY"], first["LEDGER_KEY"])
    assert (tmp_path / "ledger_key").stat().st_mode & 0o077 == 0


def test_keys_can_come_from_files(load_settings, tmp_path):
    (tmp_path / "server.key").write_text("ab" * 32 + "\n")
    config = load_settings(SERVER_KEY_FILE=str(tmp_path / "server.key"), DEBUG="true")
    assert config["SERVER_KEY"] == bytes.fromhex("ab" * 32)


def test_embedded_defaults_without_redis(load_settings, tmp_path):
    config = load_settings(DEBUG="true")
    assert config["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert config["DATABASES"]["default"]["NAME"] == str(tmp_path / "trustbank.sqlite3")
    assert config["CELERY_TASK_ALWAYS_EAGER"] is True
    assert config["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")


def test_production_services_from_urls(load_settings):
    config = load_settings(
        DEBUG="false",
        SECRET_KEY="x" * 50,
        **KEYS,
        DATABASE_URL="postgres://bank:pw@db.internal:5432/trustbank",
        REDIS_URL="redis://cache.internal:6379/1",
    )
    database = config["DATABASES"]["default"]
    assert (database["ENGINE"], database["HOST"], database["NAME"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        "trustbank",
    )
    assert config["CELERY_TASK_ALWAYS_EAGER"] is False
    assert config["CELERY_BROKER_URL"] == "redis://cache.internal:6379/1"
    assert config["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"


def test_manage_py_refuses_to_start_with_a_bad_variable(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env.update(DEBUG="maybe", TRUSTBANK_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def run_manage_py(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    environ.update(TRUSTBANK_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_missing_production_setting_is_one_line_not_a_traceback(tmp_path):
    result = run_manage_py(tmp_path, "route", "--community", "demo", "alice", "dave", "12.50")

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("manage.py: SECRET_KEY is required when DEBUG is off")
    # DEBUG was never set: perhaps a development checkout, so the line says how to run commands there.
    assert 'make manage ARGS="..."' in line


def test_where_debug_is_set_the_line_gives_no_development_hint(tmp_path):
    result = run_manage_py(tmp_path, "check", DEBUG="false")

    assert result.stderr.splitlines() == [
        "manage.py: SECRET_KEY is required when DEBUG is off (set SECRET_KEY or SECRET_KEY_FILE)."
    ]


def test_each_log_line_is_written_once(tmp_path):
    """Django's loggers used to write through a console handler of their own and the root's: every line twice."""
    environ = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    environ.update(DEBUG="true", TRUSTBANK_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings")
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('django.request').warning('Not Found: /somewhere'); "
        "logging.getLogger('trust').warning('an app of ours')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stderr.splitlines() == ["Not Found: /somewhere", "an app of ours"]


def test_the_log_level_holds_for_djangos_loggers_too(load_settings):
    config = load_settings(DEBUG="true", LOG_LEVEL="WARNING")
    assert config["LOGGING"]["loggers"]["django"]["level"] == "WARNING"
