"""admin/create_user, delete_user, reset_password, list_users and create_invite."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from bank.models import Invite, Member
from core.crypto.secrets import digest
from tests.bank.helpers import NEW_PASSWORD, WEAK_PASSWORD, api, assert_error, db_snapshot, login
from tests.conftest import token_client
from tests.factories import PASSWORD, MemberFactory

# Every admin endpoint with a request that an admin of alpha may make.
ADMIN_CALLS = [
    ("post", "admin/create_user", {"user_id": "newcomer", "password": NEW_PASSWORD}),
    ("post", "admin/delete_user", {"user_id": "member"}),
    ("post", "admin/reset_password", {"user_id": "member", "new_password": NEW_PASSWORD}),
    ("get", "admin/list_users", None),
    ("post", "admin/create_invite", None),
]
ADMIN_CALL_IDS = [path for _, path, _ in ADMIN_CALLS]


@pytest.fixture
def world(shared_world):
    """The world is built once for this module (tests.conftest.shared_world); each test changes it only in its own
    transaction, rolled back after it."""
    return shared_world


def call(client, method: str, path: str, body: dict | None):
    return getattr(client, method)(api("alpha", path), body, format="json")


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS, ids=ADMIN_CALL_IDS)
def test_admin_endpoints_refuse_a_plain_member(world, method, path, body):
    client = token_client(world.a.member)
    before = db_snapshot()

    assert_error(call(client, method, path, body), 403, "admin_required")
    assert db_snapshot() == before


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS, ids=ADMIN_CALL_IDS)
def test_admin_endpoints_refuse_the_unauthenticated(world, method, path, body):
    before = db_snapshot()

    assert_error(call(APIClient(), method, path, body), 401, "not_authenticated")
    assert db_snapshot() == before


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS, ids=ADMIN_CALL_IDS)
def test_admin_endpoints_work_for_an_admin(world, method, path, body):
    response = call(token_client(world.a.admin), method, path, body)

    assert response.status_code in (200, 201), response.content


# admin/create_user


def test_create_user(world):
    body = {"user_id": "Newcomer", "password": NEW_PASSWORD}

    response = call(token_client(world.a.admin), "post", "admin/create_user", body)

    assert response.status_code == 201
    assert response.json() == {"user_id": "newcomer", "role": "member", "active": True}
    member = Member.objects.get(community=world.a.community, handle="newcomer")
    assert member.role == "member" and member.is_active
    assert login("alpha", "newcomer", NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize("handle", ["member", "gone", "MEMBER"])
def test_create_user_with_a_taken_handle_is_refused(world, handle):
    client = token_client(world.a.admin)
    before = db_snapshot()

    response = call(client, "post", "admin/create_user", {"user_id": handle, "password": NEW_PASSWORD})

    assert_error(response, 409, "username_taken")
    assert db_snapshot() == before


def test_create_user_may_take_a_handle_used_in_another_community(world):
    MemberFactory(community=world.b.community, handle="bea")
    body = {"user_id": "bea", "password": NEW_PASSWORD}

    response = call(token_client(world.a.admin), "post", "admin/create_user", body)

    assert response.status_code == 201


def test_create_user_with_an_invalid_handle_names_user_id(world):
    client = token_client(world.a.admin)
    before = db_snapshot()

    response = call(client, "post", "admin/create_user", {"user_id": "no spaces!", "password": NEW_PASSWORD})

    assert_error(response, 400, "invalid_input", field="user_id")
    assert db_snapshot() == before


def test_create_user_with_a_weak_password_creates_nothing(world):
    client = token_client(world.a.admin)
    before = db_snapshot()

    response = call(client, "post", "admin/create_user", {"user_id": "newcomer", "password": WEAK_PASSWORD})

    assert_error(response, 400, "invalid_input", field="password")
    assert db_snapshot() == before


# admin/delete_user


def test_delete_user_deactivates_and_deletes_nothing(world):
    client = token_client(world.a.admin)
    members, users = Member.objects.count(), get_user_model().objects.count()

    response = call(client, "post", "admin/delete_user", {"user_id": "member"})

    assert response.status_code == 200
    assert response.json() == {"user_id": "member", "role": "member", "active": False}
    member = Member.objects.get(pk=world.a.member.pk)
    assert member.is_active is False
    assert member.user.is_active is True  # the login may still belong to other communities
    assert (Member.objects.count(), get_user_model().objects.count()) == (members, users)
    assert_error(login("alpha", "member"), 403, "member_inactive")


def test_delete_user_of_oneself_is_refused(world):
    client = token_client(world.a.admin)
    before = db_snapshot()

    response = call(client, "post", "admin/delete_user", {"user_id": "admin"})

    assert_error(response, 409, "cannot_deactivate_self")
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("admin/delete_user", {"user_id": "nobody"}),
        ("admin/reset_password", {"user_id": "nobody", "new_password": NEW_PASSWORD}),
    ],
    ids=["delete_user", "reset_password"],
)
def test_an_unknown_user_id_is_not_found(world, path, body):
    client = token_client(world.a.admin)
    before = db_snapshot()

    assert_error(call(client, "post", path, body), 404, "user_not_found")
    assert db_snapshot() == before


# admin/reset_password


def test_reset_password(world):
    member_client = token_client(world.a.member)
    client = token_client(world.a.admin)

    response = call(client, "post", "admin/reset_password", {"user_id": "member", "new_password": NEW_PASSWORD})

    assert response.status_code == 200
    assert response.json() == {"user_id": "member", "role": "member", "active": True}
    assert_error(login("alpha", "member", PASSWORD), 401, "invalid_credentials")
    assert login("alpha", "member", NEW_PASSWORD).status_code == 200
    # The member's old tokens are signed out; the admin's are not.
    assert_error(member_client.get(api("alpha", "auth/whoami")), 401, "authentication_failed")
    assert client.get(api("alpha", "auth/whoami")).status_code == 200


def test_reset_password_of_a_login_shared_with_another_community_is_refused(world):
    MemberFactory(user=world.a.member.user, community=world.b.community, handle="traveller")
    client = token_client(world.a.admin)
    before = db_snapshot()

    response = call(client, "post", "admin/reset_password", {"user_id": "member", "new_password": NEW_PASSWORD})

    assert_error(response, 409, "login_shared")
    assert db_snapshot() == before
    assert login("alpha", "member", PASSWORD).status_code == 200


def test_reset_password_to_a_weak_password_is_refused(world):
    client = token_client(world.a.admin)
    before = db_snapshot()

    response = call(client, "post", "admin/reset_password", {"user_id": "member", "new_password": WEAK_PASSWORD})

    assert_error(response, 400, "invalid_input", field="new_password")
    assert db_snapshot() == before


# admin/list_users


def test_list_users_lists_this_communitys_members_by_handle(world):
    MemberFactory(community=world.a.community, handle="aaron")
    MemberFactory(community=world.b.community, handle="beta-only")

    response = call(token_client(world.a.admin), "get", "admin/list_users", None)

    assert response.status_code == 200
    assert response.json() == {
        "users": [
            {"user_id": "aaron", "role": "member", "active": True},
            {"user_id": "admin", "role": "admin", "active": True},
            {"user_id": "gone", "role": "member", "active": False},
            {"user_id": "member", "role": "member", "active": True},
        ]
    }


# admin/create_invite


def test_create_invite(world, settings):
    settings.INVITE_LIFETIME_HOURS = 2

    response = call(token_client(world.a.admin), "post", "admin/create_invite", None)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"invite", "expires"}
    invite = Invite.objects.get(code_digest=digest(body["invite"]))
    assert invite.community == world.a.community
    assert invite.created_by == world.a.admin
    assert invite.used_at is None and invite.used_by is None
    assert parse_datetime(body["expires"]) == invite.expires_at
    assert abs(invite.expires_at - invite.created_at - timedelta(hours=2)) < timedelta(minutes=1)


def test_each_invite_has_its_own_code(world):
    client = token_client(world.a.admin)

    codes = {call(client, "post", "admin/create_invite", None).json()["invite"] for _ in range(3)}

    assert len(codes) == 3
    assert Invite.objects.filter(community=world.a.community).count() == 3
