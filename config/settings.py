"""Trustbank settings, read from the environment (see README.md, "Production")."""

import os
import secrets
from collections.abc import Callable
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

import core
from config.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TRUSTBANK_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)


def _secret(name: str, generate: Callable[[], str]) -> str:
    """A secret from the environment (or ``NAME_FILE``); in development, one generated per checkout."""
    value = env_str(name)
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(f"{name} is required when DEBUG is off (set {name} or {name}_FILE)")
    # Development only: kept in var/ so sessions, signatures and the ledger survive restarts.
    key_file = VAR_DIR / name.lower()
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(generate())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _key(name: str) -> bytes:
    """A 32-byte key given as 64 hex digits."""
    value = _secret(name, lambda: secrets.token_hex(32))
    try:
        key = bytes.fromhex(value)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name} must be 64 hex digits (32 random bytes, e.g. `openssl rand -hex 32`)")
    return key


SECRET_KEY = _secret("SECRET_KEY", lambda: secrets.token_urlsafe(50))
# The server's Ed25519 signing key (receipts, peers; other keys derive from it by HKDF) and the
# master secret of the communities' ledger keys. See docs/design-notes.md, "Keys".
SERVER_KEY = _key("SERVER_KEY")
# After a rotation of SERVER_KEY: the key before it, which signs the hand-over in the federation document.
PREVIOUS_SERVER_KEY = _key("PREVIOUS_SERVER_KEY") if env_str("PREVIOUS_SERVER_KEY") else None
LEDGER_KEY = _key("LEDGER_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The domain that federated addresses of communities without a domain of their own use:
# handle@<slug>.<INSTANCE_DOMAIN>.
INSTANCE_DOMAIN = env_str("INSTANCE_DOMAIN", "localhost")

INSTALLED_APPS = [
    "bank.apps.TrustbankAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # The layer order (docs/architecture.md): each app imports only from the ones above it here.
    "core",
    "bank",
    "trust",
    "identity",
    "ledger",
    "federation",
]

MIDDLEWARE = [
    "core.middleware.EdgeMiddleware",  # first: it sees every response (body limit, API error shape, CSP)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "bank.middleware.CommunityMiddleware",
    "bank.throttling.RateLimitHeadersMiddleware",  # says where a sign-in stands with the throttle
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bank.context_processors.community",
            ],
        },
    },
]


def _database(url: str) -> dict:
    """The database of ``url``; PostgreSQL connections come from a bounded pool in each process.

    Persistent connections (``CONN_MAX_AGE`` > 0) leak under ASGI, where every request runs its
    sync code in a thread of its own: each request left one open connection behind. A pool hands a
    connection to each request and takes it back at the end, so a process never holds more than
    ``DATABASE_POOL_MAX_SIZE``.
    """
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL this platform can use: {exc}") from None
    if not config.get("ENGINE"):
        raise ImproperlyConfigured("DATABASE_URL is not a database URL this platform can use")
    # With a pool, this checks each connection as it is lent (one that died with a restarted server is replaced).
    config["CONN_HEALTH_CHECKS"] = True
    pool_size = env_int("DATABASE_POOL_MAX_SIZE", 10, minimum=0)
    if config["ENGINE"] == "django.db.backends.postgresql" and pool_size:
        if config["CONN_MAX_AGE"]:
            raise ImproperlyConfigured("DATABASE_CONN_MAX_AGE must be 0 with a pool (set DATABASE_POOL_MAX_SIZE=0)")
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(env_int("DATABASE_POOL_MIN_SIZE", 1, minimum=0), pool_size),
            "max_size": pool_size,
            # Seconds a request waits for a free connection before it fails.
            "timeout": env_float("DATABASE_POOL_TIMEOUT", 10.0, minimum=0.1),
        }
    return config


DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'trustbank.sqlite3'}")
if DATABASE_URL.startswith("sqlite:"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL must start with redis://, rediss:// or unix://, got {REDIS_URL!r}")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: tasks run in the calling process when no Redis is configured (embedded default).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged when it ends, and given back to the queue when its worker process dies,
# so another worker runs it; every task is safe to run twice (claims, or state it recomputes).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A routing request no worker has started within ROUTING_PICKUP_SECONDS is routed by the web process.
CELERY_TASK_TRACK_STARTED = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE = {
    "basic-income": {
        "task": "trust.tasks.distribute_basic_income",
        "schedule": env_int("BASIC_INCOME_INTERVAL_SECONDS", 24 * 3600, minimum=60),
    },
    "expire-payments": {"task": "trust.tasks.expire_payments", "schedule": 60.0},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Custody 0 seals a member's identity key under scrypt(passphrase) with N = 2**PASSPHRASE_SCRYPT_LOG2_N, r=8, p=1
# (identity/keys.py, read at each call). Not read from the environment: a sealed key does not record the cost
# it was sealed at, so a deployment that changed it could no longer open the keys sealed before.
PASSPHRASE_SCRYPT_LOG2_N = 14
LOGIN_URL = "bank:landing"
LOGIN_REDIRECT_URL = "bank:dashboard"
LOGOUT_REDIRECT_URL = "bank:landing"

# Sign-in throttling (bank/throttling.py): failed attempts allowed per account from one address and
# per client address within the window; past a higher count from everywhere an account is slowed.
LOGIN_ATTEMPTS_PER_ACCOUNT = env_int("LOGIN_ATTEMPTS_PER_ACCOUNT", 10, minimum=1)
LOGIN_ATTEMPTS_PER_ADDRESS = env_int("LOGIN_ATTEMPTS_PER_ADDRESS", 50, minimum=1)
LOGIN_ATTEMPT_WINDOW_SECONDS = env_int("LOGIN_ATTEMPT_WINDOW_SECONDS", 300, minimum=1)
LOGIN_ATTEMPTS_BEFORE_SLOWDOWN = env_int("LOGIN_ATTEMPTS_BEFORE_SLOWDOWN", 100, minimum=1)
LOGIN_SLOWDOWN_SECONDS = env_int("LOGIN_SLOWDOWN_SECONDS", 5, minimum=1)
INVITE_LIFETIME_HOURS = env_int("INVITE_LIFETIME_HOURS", 7 * 24, minimum=1)
# How long the first answer to a request with an Idempotency-Key is replayed to its retries (bank/idempotency.py).
IDEMPOTENCY_KEY_LIFETIME_HOURS = env_int("IDEMPOTENCY_KEY_LIFETIME_HOURS", 24, minimum=1)
CELERY_BEAT_SCHEDULE["forget-idempotent-answers"] = {"task": "bank.tasks.forget_idempotent_answers", "schedule": 3600.0}
# App-token requests: how far a request's timestamp may be from now (and so how long signatures are remembered).
APP_TOKEN_WINDOW_SECONDS = env_int("APP_TOKEN_WINDOW_SECONDS", 300, minimum=1)

# Called by `manage.py seed_demo` with the demo community, so each app adds its part of the demo.
DEMO_SEEDERS = ["trust.demo.seed", "identity.demo.seed"]

# Payments
# Batched settlement on PostgreSQL (trust/services/batches.py): whether payments share their community's
# transactions, at most how many one batch takes, and the threads per process that run the batches of
# requests whose idempotency record holds their own transaction open.
SETTLEMENT_BATCHES = env_bool("SETTLEMENT_BATCHES", True)
SETTLEMENT_BATCH_LIMIT = env_int("SETTLEMENT_BATCH_LIMIT", 256, minimum=1)
SETTLEMENT_THREADS = env_int("SETTLEMENT_THREADS", 8, minimum=1)
CELERY_BEAT_SCHEDULE |= {
    "settle-abandoned-requests": {"task": "trust.tasks.settle_abandoned_requests", "schedule": 10.0},
    "forget-settlement-requests": {"task": "trust.tasks.forget_settlement_requests", "schedule": 3600.0},
}
ROUTING_TIMEOUT_SECONDS = env_int("ROUTING_TIMEOUT_SECONDS", 10, minimum=1)
# How far behind other processes' payments a process's routing graph may fall (settlement rechecks).
GRAPH_SYNC_INTERVAL_SECONDS = env_float("GRAPH_SYNC_INTERVAL_SECONDS", 0.5, minimum=0)
# Communities with at least this many trustlines are routed in Celery workers, which keep their graphs warm.
ROUTE_IN_WORKER_ABOVE_TRUSTLINES = env_int("ROUTE_IN_WORKER_ABOVE_TRUSTLINES", 50_000, minimum=0)
# Seconds a payment waits for a worker to take its search before the web process routes it itself.
ROUTING_PICKUP_SECONDS = env_float("ROUTING_PICKUP_SECONDS", 2.0, minimum=0.1)
PAYMENT_REQUEST_LIFETIME_SECONDS = env_int("PAYMENT_REQUEST_LIFETIME_SECONDS", 24 * 3600, minimum=60)
# Identity (see identity/): proof-of-work difficulties, the challenge schedule and reputation decay.
REGISTRATION_POW_BITS = env_int("REGISTRATION_POW_BITS", 20, minimum=1)
CHALLENGE_POW_BITS = env_int("CHALLENGE_POW_BITS", 14, minimum=1)
CHALLENGE_INTERVAL_SECONDS = env_int("CHALLENGE_INTERVAL_SECONDS", 120, minimum=1)
CHALLENGE_LIFETIME_SECONDS = env_int("CHALLENGE_LIFETIME_SECONDS", 300, minimum=1)
# How often an open identity page without the live socket asks for its challenges.
IDENTITY_PAGE_POLL_SECONDS = env_int("IDENTITY_PAGE_POLL_SECONDS", 30, minimum=1)
DECAY_INTERVAL_SECONDS = env_int("DECAY_INTERVAL_SECONDS", 3600, minimum=1)
LIVE_CLIENT_SECONDS = env_int("LIVE_CLIENT_SECONDS", 300, minimum=1)
CELERY_BEAT_SCHEDULE |= {
    "issue-challenges": {"task": "identity.tasks.issue_challenges", "schedule": float(CHALLENGE_INTERVAL_SECONDS)},
    "expire-challenges": {"task": "identity.tasks.expire_challenges", "schedule": 30.0},
    "reputation-decay": {"task": "identity.tasks.decay_reputation", "schedule": float(DECAY_INTERVAL_SECONDS)},
}
# A community's live ledger segment is archived (closed) once it holds this many entries.
LEDGER_ARCHIVE_LENGTH = env_int("LEDGER_ARCHIVE_LENGTH", 100_000, minimum=2)
# An audit of a chain longer than this is spread over this many processes, one stretch between archives each.
LEDGER_AUDIT_PROCESSES = env_int("LEDGER_AUDIT_PROCESSES", os.cpu_count() or 1, minimum=1)
LEDGER_AUDIT_PROCESSES_ABOVE = env_int("LEDGER_AUDIT_PROCESSES_ABOVE", 200_000, minimum=0)
# Seconds a worker's claim on a job (an audit, a resolution) lasts unless renewed; past it another worker takes over.
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 60, minimum=5)
CELERY_BEAT_SCHEDULE["recover-tickets"] = {"task": "ledger.tasks.recover_tickets", "schedule": 30.0}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Dates as the pages write them, "2 Dec 2026 14:05", in Django admin too (config/formats/en/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "bank.authentication.MemberTokenAuthentication",
        "bank.authentication.AppTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["bank.permissions.IsCommunityMember"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "bank.schema.TrustbankAutoSchema",
    "EXCEPTION_HANDLER": "core.exception_handler.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Trustbank API",
    # Markdown: what is between < and > outside `code` would be taken for HTML (and vanish).
    "DESCRIPTION": """\
Every community serves this API under `/c/{community_slug}/api/` (or `/api/` on the community's own domain).
Requests and answers are JSON; amounts are decimal strings with at most 6 places (`"12.50"`).

**Signing in.** `POST auth/login` answers a token: send it as `Authorization: Token <token>` (the scheme is
`Token`; `Bearer` is refused). Third-party apps use app tokens and sign each request (`Authorization: App <token>`);
web pages use the session with its CSRF token. Each operation says which of these it takes.

**Errors** have one shape, `{"error": {"code": ..., "message": ...}}`, with a stable `code` and a sentence for a
person; `invalid_input` adds `fields`, naming each bad field. A body takes only the fields listed for it.

**Retries.** A request that changes something may carry an `Idempotency-Key`: sent again with the same body, it
gets the first answer and changes nothing more.

**Pages.** Lists come a page at a time: `limit` entries (at most 200; more is taken as 200, and the
`Page-Limit` header says the size used), and `next`, the URL of the following page.

**Rate limits.** Only failed sign-ins are limited (`auth/login`, and a wrong old password at
`auth/change_password`): their answers carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`, and a
refusal is 429 `too_many_attempts` with `Retry-After`.

The full reference, with every rule and error code, is docs/api.md.""",
    "VERSION": core.VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    # Tags and operation ids come from the path after the prefix (bank.schema.name_operations); paths stay whole.
    "SCHEMA_PATH_PREFIX": r"/c/\{community_slug\}/api/",
    "TAGS": [
        {"name": "auth", "description": "Signing in and out, who I am, my password."},
        {"name": "user", "description": "My trustlines, trust index, payments, receipts, credit score, app tokens."},
        {"name": "federated", "description": "The seed's names for trustlines and payments with other instances."},
        {"name": "admin", "description": "Community admins: members, their passwords, invites."},
        {"name": "invite", "description": "Joining a community with an invite."},
        {"name": "ledger", "description": "The books: balances by the ledger, checking receipts, audits, resolutions."},
        {
            "name": "identity",
            "description": "Identity keys, proof of work, reputation challenges, propositions, votes.",
        },
        {"name": "public", "description": "What anyone may read without signing in: the public records."},
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    # No badge from validator.swagger.io: the CSP refuses its image, and it would send swagger.io our schema's URL.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "bank.schema.refuse_unknown_fields",
        "bank.schema.name_operations",
    ],
}

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Federation (docs/federation.md): who this instance is to its peers, where it listens, how it ranks them.
INSTANCE_URL = env_str("INSTANCE_URL", "http://127.0.0.1:8000" if DEBUG else None)
INSTANCE_NAME = env_str("INSTANCE_NAME", INSTANCE_DOMAIN)
PEER_HOST = env_str("PEER_HOST", "127.0.0.1" if DEBUG else "0.0.0.0")
PEER_UDP_PORT = env_int("PEER_UDP_PORT", 2012, minimum=0, maximum=65535)
PEER_WS_PORT = env_int("PEER_WS_PORT", 2013, minimum=0, maximum=65535)
# What peers are told to connect to, when it is not the bind address (a proxy terminating TLS, a NAT).
PEER_PUBLIC_WS_URL = env_str("PEER_PUBLIC_WS_URL")
PEER_PUBLIC_UDP = env_str("PEER_PUBLIC_UDP")
FEDERATION_ALLOW_HTTP = env_bool("FEDERATION_ALLOW_HTTP", DEBUG)  # peers' documents over plain HTTP
FEDERATION_TIMEOUT_SECONDS = env_float("FEDERATION_TIMEOUT_SECONDS", 5.0, minimum=0.1)
PEER_MAX_CONNECTIONS_PER_ADDRESS = env_int("PEER_MAX_CONNECTIONS_PER_ADDRESS", 16, minimum=1)
PEER_MESSAGES_PER_SECOND = env_int("PEER_MESSAGES_PER_SECOND", 200, minimum=1)
PEER_IDLE_SECONDS = env_int("PEER_IDLE_SECONDS", 120, minimum=1)
PEER_RESEND_QUEUE_LIMIT = env_int("PEER_RESEND_QUEUE_LIMIT", 1000, minimum=1)
SCORE_STRENGTH = env_int("SCORE_STRENGTH", 20, minimum=1, maximum=64)
SCORE_INTERVAL_SECONDS = env_int("SCORE_INTERVAL_SECONDS", 60, minimum=1)
REMOTES_MIN_SCORE_SUM = env_int("REMOTES_MIN_SCORE_SUM", 32, minimum=0)  # Zold's MSS
REMOTE_MAX_FAILURES = env_int("REMOTE_MAX_FAILURES", 5, minimum=1)
FEDERATED_PAYMENT_WAIT_SECONDS = env_float("FEDERATED_PAYMENT_WAIT_SECONDS", 5.0, minimum=0)
# Payments routed across instances (federation.services.transits): how long the path search may take, the
# payee's hold window, how much earlier each hop's hold ends than the one before it, how often a hop whose hold
# has ended asks the next (VERIFY_COMMIT), and how long past its deadline it waits for an instance that is gone.
FEDERATED_SEARCH_SECONDS = env_float("FEDERATED_SEARCH_SECONDS", 5.0, minimum=0.1)
FEDERATED_HOLD_SECONDS = env_int("FEDERATED_HOLD_SECONDS", 60, minimum=1)
FEDERATED_DEADLINE_STEP_SECONDS = env_int("FEDERATED_DEADLINE_STEP_SECONDS", 10, minimum=1)
FEDERATED_VERIFY_INTERVAL_SECONDS = env_int("FEDERATED_VERIFY_INTERVAL_SECONDS", 10, minimum=1)
FEDERATED_ABANDON_SECONDS = env_int("FEDERATED_ABANDON_SECONDS", 600, minimum=1)
REMOTE_UPDATE_INTERVAL_SECONDS = env_int("REMOTE_UPDATE_INTERVAL_SECONDS", 600, minimum=10)
CELERY_BEAT_SCHEDULE["refresh-score"] = {
    "task": "federation.tasks.refresh_score",
    "schedule": float(SCORE_INTERVAL_SECONDS),
    "options": {"priority": 9},
}
CELERY_BEAT_SCHEDULE["update-remotes"] = {
    "task": "federation.tasks.update_remotes",
    "schedule": float(REMOTE_UPDATE_INTERVAL_SECONDS),
}
CELERY_BEAT_SCHEDULE["transits-due"] = {"task": "federation.tasks.transits_due", "schedule": 5.0}

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Django's loggers write through the root's handler only: Django's default gives "django" a console
    # handler of its own in development, so each of its lines came twice.
    "loggers": {"django": {"handlers": [], "level": LOG_LEVEL, "propagate": True}},
}
