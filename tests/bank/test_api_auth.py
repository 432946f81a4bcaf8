"""auth/login, auth/logout, auth/whoami and auth/change_password."""

import pytest
from rest_framework.test import APIClient

from bank import auth
from bank.models import AuthToken
from tests.bank.helpers import NEW_PASSWORD, WEAK_PASSWORD, api, assert_error, db_snapshot, login, session_client
from tests.conftest import token_client
from tests.factories import PASSWORD, MemberFactory


@pytest.fixture
def world(shared_world):
    """The world is built once for this module (tests.conftest.shared_world); each test changes it only in its own
    transaction, rolled back after it."""
    return shared_world


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def whoami(client: APIClient):
    return client.get(api("alpha", "auth/whoami"))


def change_password(client: APIClient, old: str = PASSWORD, new: str = NEW_PASSWORD):
    return client.post(api("alpha", "auth/change_password"), {"old_password": old, "new_password": new}, format="json")


# auth/login


def test_login_returns_the_membership_and_a_working_token(world):
    response = login("alpha", "admin")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"username", "community", "role", "token"}
    assert body["username"] == "admin" and body["community"] == "alpha" and body["role"] == "admin"
    # Only the digest is stored: the key itself is nowhere in the database.
    token = AuthToken.objects.for_key(body["token"]).get()
    assert token.member == world.a.admin
    assert not AuthToken.objects.filter(key_digest=body["token"]).exists()
    assert whoami(with_token(body["token"])).json()["username"] == "admin"


def test_login_ignores_the_case_of_the_username(world):
    response = login("alpha", "MEMBER")

    assert response.status_code == 200
    assert response.json()["username"] == "member"


def test_login_with_a_wrong_password_is_refused(world):
    response = login("alpha", "member", "not-the-password")

    assert_error(response, 401, "invalid_credentials")
    assert not AuthToken.objects.exists()


def test_login_of_an_unknown_user_is_refused_like_a_wrong_password(world):
    unknown = login("alpha", "nobody")
    wrong = login("alpha", "member", "not-the-password")

    assert assert_error(unknown, 401, "invalid_credentials") == assert_error(wrong, 401, "invalid_credentials")
    assert not AuthToken.objects.exists()


def test_login_of_a_deactivated_member_is_refused(world):
    response = login("alpha", "gone")

    assert_error(response, 403, "member_inactive")
    assert not AuthToken.objects.exists()


def test_login_of_a_deactivated_login_is_refused(world):
    user = world.a.member.user
    user.is_active = False
    user.save()

    assert_error(login("alpha", "member"), 403, "member_inactive")
    assert not AuthToken.objects.exists()


def test_a_deactivated_member_with_a_wrong_password_learns_nothing(world):
    assert_error(login("alpha", "gone", "not-the-password"), 401, "invalid_credentials")


# auth/logout


def test_logout_revokes_only_the_token_it_is_made_with(world):
    client = token_client(world.a.member)
    other = token_client(world.a.member)

    assert client.post(api("alpha", "auth/logout")).status_code == 204

    assert_error(whoami(client), 401, "authentication_failed")
    assert AuthToken.objects.filter(member=world.a.member).count() == 1
    assert whoami(other).status_code == 200


def test_session_logout_ends_the_session(world):
    client = session_client(world.a.member)
    assert whoami(client).status_code == 200

    assert client.post(api("alpha", "auth/logout")).status_code == 204

    assert_error(whoami(client), 401, "not_authenticated")


def test_logout_needs_authentication(world):
    assert_error(APIClient().post(api("alpha", "auth/logout")), 401, "not_authenticated")


# auth/whoami


def test_whoami_by_token(world):
    response = whoami(token_client(world.a.member))

    assert response.status_code == 200
    assert response.json() == {
        "username": "member",
        "community": "alpha",
        "role": "member",
        "address": "member@alpha.localhost",
    }


def test_whoami_by_session(world):
    response = whoami(session_client(world.a.admin))

    assert response.status_code == 200
    assert response.json() == {
        "username": "admin",
        "community": "alpha",
        "role": "admin",
        "address": "admin@alpha.localhost",
    }


def test_whoami_unauthenticated_asks_for_a_token(world):
    response = whoami(APIClient())

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_an_unknown_token_is_refused(world):
    response = whoami(with_token("not-a-token-anyone-was-given"))

    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Token"


def test_a_malformed_authorization_header_is_refused(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token two parts")

    assert_error(whoami(client), 401, "authentication_failed")


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_a_bearer_token_is_refused_naming_the_token_scheme(world, scheme):
    key = auth.token_create(member=world.a.member)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")

    error = assert_error(whoami(client), 401, "not_authenticated")

    assert "Authorization: Token <token>" in error["message"] and "Bearer" in error["message"]
    assert whoami(client)["WWW-Authenticate"] == "Token"


# Deactivation ends tokens and sessions


def test_tokens_stop_working_when_an_admin_deactivates_the_member(world):
    client = token_client(world.a.member)
    admin = token_client(world.a.admin)

    response = admin.post(api("alpha", "admin/delete_user"), {"user_id": "member"}, format="json")

    assert response.status_code == 200
    assert_error(whoami(client), 401, "authentication_failed")
    assert not AuthToken.objects.filter(member=world.a.member).exists()


def test_tokens_stop_working_when_the_login_is_deactivated(world):
    client = token_client(world.a.member)
    user = world.a.member.user
    user.is_active = False
    user.save()

    assert_error(whoami(client), 401, "authentication_failed")


def test_a_session_no_longer_speaks_for_a_deactivated_membership(world):
    client = session_client(world.a.member)
    world.a.member.is_active = False
    world.a.member.save()

    assert_error(whoami(client), 403, "not_a_member")


# auth/change_password


def test_change_password_replaces_the_password(world):
    client = token_client(world.a.member)

    response = change_password(client)

    assert response.status_code == 204
    assert response.content == b""
    assert_error(login("alpha", "member", PASSWORD), 401, "invalid_credentials")
    assert login("alpha", "member", NEW_PASSWORD).status_code == 200


def test_change_password_with_a_wrong_old_password_changes_nothing(world):
    client = token_client(world.a.member)
    before = db_snapshot()

    response = change_password(client, old="not-the-password")

    assert_error(response, 400, "invalid_input", field="old_password")
    assert db_snapshot() == before


def test_change_password_to_a_weak_password_changes_nothing(world):
    client = token_client(world.a.member)
    before = db_snapshot()

    response = change_password(client, new=WEAK_PASSWORD)

    assert_error(response, 400, "invalid_input", field="new_password")
    assert db_snapshot() == before
    assert whoami(client).status_code == 200


def test_change_password_signs_out_the_logins_other_tokens_and_keeps_this_one(world):
    client = token_client(world.a.member)
    other_device = token_client(world.a.member)
    # The same login is also a member of beta: that membership's token goes too.
    elsewhere = MemberFactory(user=world.a.member.user, community=world.b.community, handle="traveller")
    elsewhere_key = auth.token_create(member=elsewhere)
    someone_else = token_client(world.a.admin)

    assert change_password(client).status_code == 204

    assert whoami(client).status_code == 200
    assert_error(whoami(other_device), 401, "authentication_failed")
    assert_error(with_token(elsewhere_key).get(api("beta", "auth/whoami")), 401, "authentication_failed")
    assert whoami(someone_else).status_code == 200
    assert AuthToken.objects.filter(member__user=world.a.member.user).count() == 1


def test_change_password_by_session_keeps_the_session_and_signs_out_tokens(world):
    client = session_client(world.a.member)
    token = token_client(world.a.member)

    assert change_password(client).status_code == 204

    assert whoami(client).status_code == 200
    assert_error(whoami(token), 401, "authentication_failed")
    assert login("alpha", "member", NEW_PASSWORD).status_code == 200


def test_change_password_needs_authentication(world):
    before = db_snapshot()

    assert_error(change_password(APIClient()), 401, "not_authenticated")
    assert db_snapshot() == before
