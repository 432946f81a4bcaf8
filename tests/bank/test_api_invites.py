"""invite/register: joining a community with a single-use invite."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from bank.models import Invite, Member
from identity import keys
from identity.models import Identity
from tests.bank.helpers import NEW_PASSWORD, WEAK_PASSWORD, api, assert_error, login
from tests.conftest import token_client
from tests.factories import InviteFactory

CODE = "the-invite-code"


def register(community, code: str = CODE, username: str = "newcomer", password: str = NEW_PASSWORD):
    body = {"invite": code, "username": username, "password": password}
    return APIClient().post(api(community, "invite/register"), body, format="json")


def counts() -> tuple[int, int]:
    return get_user_model().objects.count(), Member.objects.count()


def assert_identity_opened(member: Member, password: str) -> None:
    """Joining opened the member's identity as a first sign-in does: one server-held key, sealed under
    ``password``, not yet registered."""
    identity = Identity.objects.get(member=member)
    assert identity.custody == Identity.Custody.SERVER and identity.registered_at is None
    key = identity.keys.get()
    keys.unseal_with_passphrase(key.sealed_private_key, key.kdf_salt, password, key.public_key)


def test_register_creates_a_member_and_uses_up_the_invite(world):
    invite = InviteFactory(community=world.a.community, code=CODE)

    response = register("alpha")

    assert response.status_code == 201
    assert response.json() == {
        "username": "newcomer",
        "community": "alpha",
        "role": "member",
        "address": "newcomer@alpha.localhost",
    }
    member = Member.objects.get(community=world.a.community, handle="newcomer")
    invite.refresh_from_db()
    assert invite.used_at is not None
    assert invite.used_by == member
    assert_identity_opened(member, NEW_PASSWORD)


def test_register_with_a_used_invite_is_refused(world):
    invite = InviteFactory(community=world.a.community, code=CODE)
    assert register("alpha").status_code == 201
    invite.refresh_from_db()
    used_at, used_by = invite.used_at, invite.used_by_id
    before = counts()

    response = register("alpha", username="second")

    assert_error(response, 409, "invite_used")
    assert counts() == before
    invite.refresh_from_db()
    assert (invite.used_at, invite.used_by_id) == (used_at, used_by)


# (invite's community, minutes until it expires, request overrides, status, code)
FAILURES = [
    pytest.param("a", -1, {}, 409, "invite_expired", id="expired"),
    pytest.param("b", 60, {}, 404, "invite_invalid", id="other community"),
    pytest.param("a", 60, {"code": "not-an-invite"}, 404, "invite_invalid", id="unknown code"),
    pytest.param("a", 60, {"username": "member"}, 409, "username_taken", id="taken username"),
    pytest.param("a", 60, {"username": "gone"}, 409, "username_taken", id="taken by a deactivated member"),
    pytest.param("a", 60, {"password": WEAK_PASSWORD}, 400, "invalid_input", id="weak password"),
    pytest.param("a", 60, {"username": "no spaces!"}, 400, "invalid_input", id="invalid username"),
]


@pytest.mark.parametrize(("side", "expires_in_minutes", "overrides", "status", "code"), FAILURES)
def test_register_failures_create_nothing_and_leave_the_invite_unused(
    world, side, expires_in_minutes, overrides, status, code
):
    community = getattr(world, side).community
    expires_at = timezone.now() + timezone.timedelta(minutes=expires_in_minutes)
    invite = InviteFactory(community=community, code=CODE, expires_at=expires_at)
    before = counts()

    response = register("alpha", **overrides)

    assert_error(response, status, code)
    assert counts() == before
    assert not Identity.objects.exists()
    invite.refresh_from_db()
    assert invite.used_at is None and invite.used_by is None


def test_register_names_the_weak_password_field(world):
    InviteFactory(community=world.a.community, code=CODE)

    assert_error(register("alpha", password=WEAK_PASSWORD), 400, "invalid_input", field="password")


def test_an_admin_invites_a_newcomer_who_registers_and_signs_in(world):
    created = token_client(world.a.admin).post(api("alpha", "admin/create_invite"))
    assert created.status_code == 201
    code = created.json()["invite"]

    registered = register("alpha", code=code, username="newcomer")
    assert registered.status_code == 201

    signed_in = login("alpha", "newcomer", NEW_PASSWORD)
    assert signed_in.status_code == 200
    assert signed_in.json()["role"] == "member"
    invite = Invite.objects.get(community=world.a.community)
    assert invite.created_by == world.a.admin
    assert invite.used_by == Member.objects.get(community=world.a.community, handle="newcomer")
    # The code is single-use.
    assert_error(register("alpha", code=code, username="another"), 409, "invite_used")
