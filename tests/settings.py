"""The project's settings with the test run's database, cache and Celery choices."""

import os
import uuid

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("SERVER_KEY", "5e" * 32)  # tests only
os.environ.setdefault("LEDGER_KEY", "1e" * 32)  # tests only

from config.settings import *  # noqa: F403
from config.settings import STORAGES, _database
from tests.services import postgres_url, redis_url

TEST_POSTGRES_URL = postgres_url()
TEST_REDIS_URL = redis_url()

if TEST_POSTGRES_URL:
    DATABASES = {"default": _database(TEST_POSTGRES_URL)}
    # Every run gets its own database, so parallel or interrupted runs never share state.
    DATABASES["default"]["TEST"] = {"NAME": f"test_trustbank_{uuid.uuid4().hex[:10]}"}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# Unit tests use local memory and eager tasks; tests marked `redis` switch to the real Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = True

# Argon2 is the production hasher (see config.settings); tests hash thousands of passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The same goes for the scrypt that seals identity keys under the password at every first sign-in (production:
# 14, about 50 ms a key); tests/identity/test_keys.py seals and opens a key at the production cost.
PASSPHRASE_SCRYPT_LOG2_N = 4

# Static files are served from the source folders; production collects them into a manifest.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Tests write trustlines directly and route right after: every plan syncs (the interval has its own test).
GRAPH_SYNC_INTERVAL_SECONDS = 0

# Federation: peers in tests serve their documents over plain HTTP, and a score's work is a few hashes.
FEDERATION_ALLOW_HTTP = True
INSTANCE_URL = "http://127.0.0.1:8000"
SCORE_STRENGTH = 4
