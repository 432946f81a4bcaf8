from tests.conftest import token_client


def test_world_members_can_sign_in(world):
    response = token_client(world.a.member).get("/c/alpha/api/auth/whoami")
    assert response.json() == {"username": "member", "community": "alpha", "role": "member", "address": "member@alpha.localhost"}
