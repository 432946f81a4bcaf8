"""Which external services the test run can reach.

The suite runs on PostgreSQL and Redis when they answer (``DATABASE_URL``/``REDIS_URL``, or the
standard local ports), and on SQLite and local memory otherwise, skipping the tests that need them.
``TRUSTBANK_REQUIRE_SERVICES=1`` (set by CI) turns those skips into failures.
"""

import os

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def services_required() -> bool:
    return os.environ.get("TRUSTBANK_REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes", "on"}


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL") or DEFAULT_POSTGRES_URL
    if not url.startswith(("postgres://", "postgresql://")):
        return None
    import psycopg

    try:
        psycopg.connect(url.replace("postgresql://", "postgres://", 1), connect_timeout=2).close()
    except psycopg.Error:
        return None
    return url


def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except (redis.RedisError, ValueError):
        return None
    return url
