"""A revoked identity's member is refused everywhere it could act (sign-in by API and web form, tokens,
app tokens), with the reason and what restores access; identities are read per community."""

import time

import pytest
from django.test import Client

from bank.app_tokens import app_token_create
from core.crypto import p256
from identity.models import Identity, IdentityKey
from tests.bank.helpers import api, assert_error, login
from tests.bank.test_app_tokens import App
from tests.bank.web_helpers import flash_messages, sign_in, signed_in_user_id
from tests.conftest import token_client
from tests.identity.test_registration import proof, register

REASON = "ignored three challenges"
pytestmark = pytest.mark.django_db


def revoke(member) -> None:
    Identity.objects.filter(member=member).update(revoked=True, revoked_reason=REASON, balance=0)


def assert_revoked(response) -> None:
    message = assert_error(response, 403, "identity_revoked")["message"]
    assert REASON in message and "Django admin" in message


@pytest.fixture
def member(world):
    token_client(world.a.member)  # the first sign-in opens the identity
    return world.a.member


def test_a_revoked_member_cannot_sign_in_by_the_api(member):
    revoke(member)
    assert_revoked(login(member.community, member.handle))


def test_a_revoked_member_cannot_sign_in_on_the_web(member):
    revoke(member)
    client = Client()
    response = sign_in(client, member)
    assert response.status_code == 400
    assert REASON in response.content.decode() and "Django admin" in response.content.decode()
    assert signed_in_user_id(client) is None


@pytest.mark.parametrize("page", ["", "identity/", "money/", "receipts.json"])
def test_a_web_session_opened_before_the_revocation_ends_on_the_next_page(member, page):
    client = Client()
    assert sign_in(client, member).status_code == 302
    assert client.get(f"/c/{member.community.slug}/{page}").status_code == 200
    revoke(member)
    response = client.get(f"/c/{member.community.slug}/{page}")
    assert response.status_code == 302 and response.url.startswith(f"/c/{member.community.slug}/login/")
    assert signed_in_user_id(client) is None
    assert any(REASON in message for message in flash_messages(response))


def test_a_token_issued_before_the_revocation_stops_working(member):
    client = token_client(member)
    assert client.get(api(member.community, "auth/whoami")).status_code == 200
    revoke(member)
    assert_revoked(client.get(api(member.community, "auth/whoami")))
    assert_revoked(client.get(api(member.community, "identity/my-identity")))


def test_an_app_token_stops_working(member):
    app_token, secret = app_token_create(member=member, name="App", scopes=["read"])
    app = App(member.community, app_token.token, secret)
    now = int(time.time())
    assert app.get("auth/whoami", timestamp=now).status_code == 200
    revoke(member)
    assert_revoked(app.get("auth/whoami", timestamp=now - 1))  # a request signed anew (not a replay of the first)


def test_others_in_the_community_are_not_affected(world, member):
    revoke(member)
    assert token_client(world.a.admin).get(api(world.a.community, "auth/whoami")).status_code == 200


def my_pubkey(client, member) -> str:
    return client.get(api(member.community, "identity/my-identity")).json()["pubkey"]


def authenticate(client, community, pubkey: str) -> dict:
    response = client.post(api(community, "identity/authenticate"), {"pubkey": pubkey}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_authenticate_answers_for_registered_unrevoked_identities_of_this_community(world, settings):
    settings.REGISTRATION_POW_BITS = 8
    alice, bob = token_client(world.a.member), token_client(world.b.member)
    pubkey = my_pubkey(alice, world.a.member)
    assert authenticate(alice, world.a.community, pubkey) == {"authenticated": False, "balance": 100}  # unregistered
    assert register(alice, world.a.member, proof(pubkey)).status_code == 201
    assert authenticate(alice, world.a.community, pubkey) == {"authenticated": True, "balance": 100}
    # beta's members do not see alpha's keys, not even through beta's endpoint
    assert authenticate(bob, world.b.community, pubkey) == {"authenticated": False, "balance": 0}
    assert_error(
        bob.post(api(world.a.community, "identity/authenticate"), {"pubkey": pubkey}, format="json"),
        403,
        "not_a_member",
    )
    Identity.objects.filter(member=world.a.member).update(balance=0)
    assert authenticate(alice, world.a.community, pubkey) == {"authenticated": False, "balance": 0}


def test_the_identities_list_holds_only_this_communitys(world):
    alice, bob = token_client(world.a.member), token_client(world.b.member)
    response = alice.get(api(world.a.community, "identity/identities"))
    assert response.status_code == 200
    alpha_keys = set(
        IdentityKey.objects.filter(identity__member__community=world.a.community).values_list("public_key", flat=True)
    )
    assert {row["pubkey"] for row in response.json()["identities"]} == alpha_keys == {my_pubkey(alice, world.a.member)}
    beta = bob.get(api(world.b.community, "identity/identities")).json()["identities"]
    assert [row["pubkey"] for row in beta] == [my_pubkey(bob, world.b.member)]
    assert p256.public_key_from_hex(beta[0]["pubkey"])
