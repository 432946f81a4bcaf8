import os
import uuid
from dataclasses import dataclass

import hypothesis
import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from ledger.services import keys as ledger_keys
from tests.factories import PASSWORD, CommunityFactory, MemberFactory
from tests.services import services_required

# Hypothesis profiles. "ci" draws the same examples on every run (seeded from each test itself), so a state
# machine on PostgreSQL takes the same time and a failure reproduces; each test keeps its own max_examples,
# deadline and health checks (the default profile's where it sets none). "dev" is Hypothesis' default, random.
# CI (CI or TRUSTBANK_REQUIRE_SERVICES set) gets "ci", anyone else "dev"; --hypothesis-profile=NAME chooses.
hypothesis.settings.register_profile("dev", hypothesis.settings.get_profile("default"))
hypothesis.settings.register_profile(
    "ci", hypothesis.settings.get_profile("default"), derandomize=True, database=None, print_blob=True
)
hypothesis.settings.load_profile("ci" if os.environ.get("CI") or services_required() else "dev")


def pytest_sessionstart(session: pytest.Session) -> None:
    if services_required() and not (settings.TEST_POSTGRES_URL and settings.TEST_REDIS_URL):
        raise pytest.UsageError(
            "TRUSTBANK_REQUIRE_SERVICES is set but PostgreSQL or Redis is not reachable "
            f"(PostgreSQL: {settings.TEST_POSTGRES_URL or 'unreachable'}, Redis: {settings.TEST_REDIS_URL or 'unreachable'})."
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


@pytest.fixture
def world(db) -> World:
    """Two communities side by side, for permission and isolation tests."""

    def side(slug: str) -> Side:
        community = CommunityFactory(slug=slug, name=f"Community {slug.upper()}")
        return Side(
            community=community,
            admin=MemberFactory(community=community, handle="admin", role="admin"),
            member=MemberFactory(community=community, handle="member"),
            inactive=MemberFactory(community=community, handle="gone", is_active=False),
        )

    return World(a=side("alpha"), b=side("beta"))
