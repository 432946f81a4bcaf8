"""Tenant isolation: nothing signed in to community A works on community B.

ENDPOINTS is the table of every community API endpoint; test_the_table_covers_every_endpoint
fails when an endpoint is added under /c/<slug>/api/ without a row here.
"""

from dataclasses import dataclass

import pytest

from tests.bank.helpers import NEW_PASSWORD, api, api_endpoints, assert_error, db_snapshot, session_client
from tests.conftest import token_client
from tests.factories import PASSWORD, InviteFactory, MemberFactory

ALPHA_INVITE = "alpha-invite-code"
BETA_PASSWORD = "beta-has-passwords-of-its-own"
ACTOR = object()  # stands for the handle of the member making the request


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    body: dict | None = None
    # The endpoints that need no authentication refuse with their own error; all others say not_a_member.
    refusal: tuple[int, str] = (403, "not_a_member")

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


ENDPOINTS = [
    Endpoint("post", "auth/login", {"username": ACTOR, "password": PASSWORD}, (401, "invalid_credentials")),
    Endpoint("post", "auth/logout"),
    Endpoint("get", "auth/whoami"),
    Endpoint("post", "auth/change_password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}),
    Endpoint("post", "admin/create_user", {"user_id": "intruder", "password": NEW_PASSWORD}),
    Endpoint("post", "admin/delete_user", {"user_id": "member"}),
    Endpoint("post", "admin/reset_password", {"user_id": "member", "new_password": NEW_PASSWORD}),
    Endpoint("get", "admin/list_users"),
    Endpoint("post", "admin/create_invite"),
    Endpoint(
        "post",
        "invite/register",
        {"invite": ALPHA_INVITE, "username": "intruder", "password": NEW_PASSWORD},
        (404, "invite_invalid"),
    ),
]


def test_the_table_covers_every_endpoint():
    assert set(api_endpoints()) == {(e.method, e.path) for e in ENDPOINTS}


@pytest.fixture
def sides(world):
    """The world, with an invite into alpha and beta's members on passwords alpha's members don't have."""
    InviteFactory(community=world.a.community, code=ALPHA_INVITE)
    for member in (world.b.admin, world.b.member):
        member.user.set_password(BETA_PASSWORD)
        member.user.save()
    return world


def body_for(endpoint: Endpoint, actor) -> dict | None:
    if endpoint.body is None:
        return None
    return {key: actor.handle if value is ACTOR else value for key, value in endpoint.body.items()}


def signed_in(actor, how: str):
    return token_client(actor) if how == "token" else session_client(actor)


@pytest.mark.parametrize("how", ["token", "session"])
@pytest.mark.parametrize("role", ["member", "admin"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_nothing_from_alpha_works_on_beta(sides, endpoint, role, how):
    actor = getattr(sides.a, role)
    client = signed_in(actor, how)
    before = db_snapshot()

    response = getattr(client, endpoint.method)(api("beta", endpoint.path), body_for(endpoint, actor), format="json")

    assert_error(response, *endpoint.refusal)
    assert db_snapshot() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_the_same_requests_work_on_alpha(sides, endpoint):
    """The matrix's requests are sound: refused on beta only because beta is not alpha."""
    actor = sides.a.admin
    response = getattr(token_client(actor), endpoint.method)(
        api("alpha", endpoint.path), body_for(endpoint, actor), format="json"
    )

    assert response.status_code in (200, 201, 204), response.content


def test_an_admin_cannot_reach_another_communitys_member_by_user_id(sides):
    MemberFactory(community=sides.b.community, handle="beta-only")
    client = token_client(sides.a.admin)
    before = db_snapshot()

    for path, body in [
        ("admin/delete_user", {"user_id": "beta-only"}),
        ("admin/reset_password", {"user_id": "beta-only", "new_password": NEW_PASSWORD}),
    ]:
        assert_error(client.post(api("alpha", path), body, format="json"), 404, "user_not_found")
    assert db_snapshot() == before


def test_a_token_speaks_only_for_its_own_membership(sides):
    """A login in both communities: its alpha token is refused on beta, its session is not."""
    MemberFactory(user=sides.a.member.user, community=sides.b.community, handle="traveller")

    assert_error(token_client(sides.a.member).get(api("beta", "auth/whoami")), 403, "not_a_member")
    response = session_client(sides.a.member).get(api("beta", "auth/whoami"))
    assert response.status_code == 200
    assert response.json()["username"] == "traveller"
