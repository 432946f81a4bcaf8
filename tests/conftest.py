import copy
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import hypothesis
import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from rest_framework.test import APIClient

from ledger.services import keys as ledger_keys
from tests.factories import PASSWORD, CommunityFactory, MemberFactory
from tests.services import services_required
from trust.routing.graph import forget_all

# Hypothesis profiles. "ci" draws the same examples on every run (seeded from each test itself), so a state
# machine on PostgreSQL takes the same time and a failure reproduces; each test keeps its own max_examples,
# deadline and health checks (the default profile's where it sets none). "dev" is Hypothesis' default, random.
# CI (CI or TRUSTBANK_REQUIRE_SERVICES set) gets "ci", anyone else "dev"; --hypothesis-profile=NAME chooses.
hypothesis.settings.register_profile("dev", hypothesis.settings.get_profile("default"))
hypothesis.settings.register_profile(
    "ci", hypothesis.settings.get_profile("default"), derandomize=True, database=None, print_blob=True
)
hypothesis.settings.load_profile("ci" if os.environ.get("CI") or services_required() else "dev")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests marked slow run first, in collection order, the others after them in theirs: xdist hands the
    long ones out at the start, and no worker is left running one while the others have finished."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


# Fixtures that the tests of more than one directory share (books: tests/ledger and tests/identity).
pytest_plugins = ["tests.ledger.fixtures"]


def pytest_sessionstart(session: pytest.Session) -> None:
    if services_required() and not (settings.TEST_POSTGRES_URL and settings.TEST_REDIS_URL):
        raise pytest.UsageError(
            "TRUSTBANK_REQUIRE_SERVICES is set but PostgreSQL or Redis is not reachable "
            f"(PostgreSQL: {settings.TEST_POSTGRES_URL or 'unreachable'}, "
            f"Redis: {settings.TEST_REDIS_URL or 'unreachable'})."
        )


# Debian's chromium and chromium-driver packages; the browser tests drive them (.ci/run installs them).
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def _needs(service: str, available: bool, remedy: str = "set DATABASE_URL/REDIS_URL or start it") -> None:
    if available:
        return
    reason = f"needs {service}, which is not available ({remedy})"
    if services_required():
        pytest.fail(f"TRUSTBANK_REQUIRE_SERVICES is set: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _service_markers(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres"):
        _needs("PostgreSQL", bool(settings.TEST_POSTGRES_URL))
    if request.node.get_closest_marker("redis"):
        _needs("Redis", bool(settings.TEST_REDIS_URL))
    if request.node.get_closest_marker("browser"):
        found = all(os.access(path, os.X_OK) for path in (CHROMIUM, CHROMEDRIVER))
        _needs("Chromium", found, f"install chromium and chromium-driver: {CHROMIUM}, {CHROMEDRIVER}")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters and other cached state never leak from one test into the next."""
    cache.clear()
    # Keys the ledger keeps in memory once their rows commit: a test's rows are rolled back.
    ledger_keys.forget()


@pytest.fixture
def redis_cache(settings) -> str:
    """Switch the default cache to the real Redis, under a key prefix of this test's own."""
    _needs("Redis", bool(settings.TEST_REDIS_URL))
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.TEST_REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    return prefix


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def token_client(member) -> APIClient:
    """An API client signed in as ``member`` through auth/login, as a mobile app would be."""
    client = APIClient()
    response = client.post(
        f"/c/{member.community.slug}/api/auth/login", {"username": member.handle, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


@dataclass
class Side:
    """One community with an admin, a member and a deactivated member."""

    community: object
    admin: object
    member: object
    inactive: object


@dataclass
class World:
    a: Side
    b: Side


def build_world() -> World:
    def side(slug: str) -> Side:
        community = CommunityFactory(slug=slug, name=f"Community {slug.upper()}")
        return Side(
            community=community,
            admin=MemberFactory(community=community, handle="admin", role="admin"),
            member=MemberFactory(community=community, handle="member"),
            inactive=MemberFactory(community=community, handle="gone", is_active=False),
        )

    return World(a=side("alpha"), b=side("beta"))


@pytest.fixture
def world(db) -> World:
    """Two communities side by side, for permission and isolation tests."""
    return build_world()


# Data built once per module. ``module_transaction`` opens a transaction around the rest of the module and
# rolls it back at the module's end; what a module-scoped fixture builds in it is there for every test of the
# module, each of which runs in a savepoint of its own (pytest-django's ``db``) and is rolled back to it, as
# Django's TestCase.setUpTestData does. A test gets deep copies of the objects, so what it changes on them
# never reaches the next test either. Every later test of the module must take part (it would see the data),
# and none may be transactional (its commits would not be commits): ``_module_transaction_guard`` checks both.

_module_transactions: list[str] = []


@pytest.fixture(scope="module")
def module_transaction(request: pytest.FixtureRequest, django_db_setup, django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # as TestCase's own (class-wide) atomic: durable blocks run inside it
        outer.__enter__()
    _module_transactions.append(request.module.__name__)
    try:
        yield
    finally:
        _module_transactions.pop()
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _module_transaction_guard(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(
        {"transactional_db", "live_server", "django_db_reset_sequences"} & set(request.fixturenames)
        or (marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))
    )
    if "module_transaction" in request.fixturenames:
        if transactional or "db" not in request.fixturenames:
            pytest.fail("A test on data built once per module runs in pytest-django's db (not transactional_db).")
    elif _module_transactions and (transactional or marker or "db" in request.fixturenames):
        pytest.fail(f"{_module_transactions[-1]} builds data once for its tests: this one would see it too.")


@pytest.fixture(scope="module")
def world_once(module_transaction, django_db_blocker) -> World:
    with django_db_blocker.unblock():
        return build_world()


@pytest.fixture
def shared_world(world_once: World, db) -> World:
    """The world, built once for the module (a module opts in by defining ``world`` as this)."""
    forget_all()  # the routing graphs in memory hold what earlier tests of the module changed, then rolled back
    return copy.deepcopy(world_once)
