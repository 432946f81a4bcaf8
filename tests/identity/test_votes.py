"""Propositions and signed votes: who may vote, the refusals (each with its code), results, isolation."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.crypto import p256
from core.errors import Forbidden
from identity import keys
from identity import selectors as identity_selectors
from identity.models import Identity, IdentityKey, Proposition, Vote
from identity.services import votes
from tests.conftest import token_client
from tests.factories import PASSWORD

PASSPHRASE = "open sesame"


def identity_of(member, *, custody=Identity.Custody.SERVER, registered=True):
    """A registered identity with one key in force for a year; returns its private key."""
    private = p256.new_key()
    sealed, salt = keys.seal_with_passphrase(private, PASSPHRASE) if custody == Identity.Custody.SERVER else (b"", b"")
    identity = Identity.objects.create(
        member=member, custody=custody, registered_at=timezone.now() if registered else None
    )
    IdentityKey.objects.create(
        identity=identity,
        public_key=p256.compressed_hex(private.public_key()),
        sealed_private_key=sealed,
        kdf_salt=salt,
        effective_from=timezone.now() - timedelta(days=365),
    )
    return private


def proposition(side, *, closes_in=timedelta(days=7)):
    return Proposition.objects.create(
        community=side.community,
        title="Paint the hall green?",
        created_by=side.admin,
        closes_at=timezone.now() + closes_in,
    )


@pytest.fixture
def world(shared_world):
    """The world is built once for this module (tests.conftest.shared_world); each test changes it only in its own
    transaction, rolled back after it."""
    return shared_world


def url(side, proposition_id=None, action=""):
    base = f"/c/{side.community.slug}/api/identity/propositions"
    return base if proposition_id is None else f"{base}/{proposition_id}{action}"


def vote(member, proposition_id, side, **body):
    return token_client(member).post(url(side, proposition_id, "/vote"), body, format="json")


def error(response, status, code):
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code


def withheld_vote(world, admin_key, proposition_id, value, *, cast_at=None, text_value=None):
    cast_at = cast_at or timezone.now()
    text = votes.vote_text(
        proposition_id=proposition_id,
        address=world.a.admin.address,
        value=value if text_value is None else text_value,
        cast_at=cast_at,
    )
    return vote(
        world.a.admin,
        proposition_id,
        world.a,
        value=value,
        cast_at=cast_at.isoformat(),
        signature=p256.sign(admin_key, text).hex(),
    )


# --- propositions ------------------------------------------------------------------------------


def test_admins_open_propositions_and_members_list_them(world):
    closes_at = (timezone.now() + timedelta(days=3)).isoformat()
    created = token_client(world.a.admin).post(
        url(world.a), {"title": "Open on Sundays?", "closes_at": closes_at}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["open"] is True and (created.json()["yes"], created.json()["no"]) == (0, 0)
    listed = token_client(world.a.member).get(url(world.a)).json()["propositions"]
    assert [p["title"] for p in listed] == ["Open on Sundays?"] and listed[0]["created_by"] == world.a.admin.address

    refused = token_client(world.a.member).post(url(world.a), {"title": "Me?", "closes_at": closes_at}, format="json")
    error(refused, 403, "admin_required")
    past = token_client(world.a.admin).post(
        url(world.a), {"title": "Yesterday?", "closes_at": "2020-01-01T00:00:00Z"}, format="json"
    )
    error(past, 400, "invalid_input")
    assert Proposition.objects.count() == 1


def test_another_communitys_propositions_are_invisible_and_cannot_be_voted_on(voters):
    world, _, _ = voters
    theirs = proposition(world.b)
    assert token_client(world.a.member).get(url(world.a)).json()["propositions"] == []
    error(token_client(world.a.member).get(url(world.a, theirs.pk)), 404, "proposition_not_found")
    error(vote(world.a.member, theirs.pk, world.a, value=1, passphrase=PASSPHRASE), 404, "proposition_not_found")
    error(token_client(world.a.member).get(url(world.b)), 403, "not_a_member")
    assert not Vote.objects.exists()


# --- votes -------------------------------------------------------------------------------------


def test_a_server_signed_vote_is_counted_and_verifiable(voters):
    world, _, _ = voters
    question = proposition(world.a)
    response = vote(world.a.member, question.pk, world.a, value=1, passphrase=PASSPHRASE)
    assert response.status_code == 201, response.content

    detail = token_client(world.a.admin).get(url(world.a, question.pk)).json()
    assert (detail["yes"], detail["no"]) == (1, 0)
    [shown] = detail["votes"]
    assert shown["member"] == world.a.member.address and shown["text"].startswith(f"{question.pk}|{shown['member']}|1|")
    assert shown["public_key"] == world.a.member.identity.keys.get().public_key
    assert p256.signature_valid(shown["public_key"], bytes.fromhex(shown["signature"]), shown["text"].encode())


def test_a_second_vote_changes_the_first_and_an_identical_one_is_refused(voters):
    world, _, _ = voters
    question = proposition(world.a)
    assert vote(world.a.member, question.pk, world.a, value=1, passphrase=PASSPHRASE).status_code == 201
    changed = vote(world.a.member, question.pk, world.a, value=0, passphrase=PASSPHRASE)
    assert changed.status_code == 200 and changed.json()["value"] == 0
    error(vote(world.a.member, question.pk, world.a, value=0, passphrase=PASSPHRASE), 409, "vote_unchanged")
    assert list(Vote.objects.values_list("value", flat=True)) == [0]
    detail = token_client(world.a.member).get(url(world.a, question.pk)).json()
    assert (detail["yes"], detail["no"]) == (0, 1)
    assert p256.signature_valid(
        detail["votes"][0]["public_key"],
        bytes.fromhex(detail["votes"][0]["signature"]),
        detail["votes"][0]["text"].encode(),
    )


def test_a_withheld_key_signs_its_own_vote(voters):
    world, _, admin_key = voters
    question = proposition(world.a)
    response = withheld_vote(world, admin_key, question.pk, 1)
    assert response.status_code == 201, response.content
    assert Vote.objects.get().member == world.a.admin


def test_a_forged_signature_is_refused(voters):
    world, member_key, admin_key = voters
    question = proposition(world.a)
    error(withheld_vote(world, admin_key, question.pk, 1, text_value=0), 400, "signature_invalid")
    error(withheld_vote(world, member_key, question.pk, 1), 400, "signature_invalid")  # someone else's key
    error(
        vote(world.a.admin, question.pk, world.a, value=1, cast_at=timezone.now().isoformat(), signature="zz"),
        400,
        "signature_invalid",
    )
    assert not Vote.objects.exists()


def test_a_signature_by_a_key_not_yet_in_force_is_refused(voters):
    world, _, admin_key = voters
    identity = world.a.admin.identity
    rotated = p256.new_key()
    IdentityKey.objects.create(
        identity=identity,
        public_key=p256.compressed_hex(rotated.public_key()),
        effective_from=timezone.now() - timedelta(minutes=2),
    )
    question = proposition(world.a)
    error(withheld_vote(world, admin_key, question.pk, 1), 400, "signature_invalid")  # the old key is retired
    before = timezone.now() - timedelta(minutes=3)
    assert withheld_vote(world, admin_key, question.pk, 1, cast_at=before).status_code == 201
    assert Vote.objects.get().key.public_key != p256.compressed_hex(rotated.public_key())


def test_cast_at_far_from_now_is_refused(voters):
    world, _, admin_key = voters
    question = proposition(world.a)
    stale = timezone.now() - timedelta(minutes=6)
    error(withheld_vote(world, admin_key, question.pk, 1, cast_at=stale), 400, "invalid_input")


def test_a_wrong_passphrase_is_refused(voters):
    world, _, _ = voters
    question = proposition(world.a)
    error(vote(world.a.member, question.pk, world.a, value=1, passphrase="not it"), 403, "passphrase_invalid")
    assert not Vote.objects.exists()


@pytest.mark.parametrize("value", [2, -1, "1", True, None, 0.5])
def test_a_value_other_than_0_or_1_is_refused(voters, value):
    world, _, _ = voters
    question = proposition(world.a)
    error(vote(world.a.member, question.pk, world.a, value=value, passphrase=PASSPHRASE), 400, "value_invalid")


def test_a_closed_proposition_refuses_votes(voters):
    world, _, _ = voters
    question = proposition(world.a, closes_in=timedelta(seconds=-1))
    error(vote(world.a.member, question.pk, world.a, value=1, passphrase=PASSPHRASE), 409, "proposition_closed")
    assert token_client(world.a.member).get(url(world.a, question.pk)).json()["open"] is False


def test_members_without_a_years_payments_are_not_eligible(voters):
    world, _, _ = voters
    newcomer = world.a.inactive
    newcomer.is_active = True
    newcomer.save()
    identity_of(newcomer)
    question = proposition(world.a)
    error(vote(newcomer, question.pk, world.a, value=1, passphrase=PASSPHRASE), 403, "not_eligible")
    assert identity_selectors.eligibility_of(member=world.a.member).eligible


def test_unregistered_and_revoked_identities_are_not_eligible(voters):
    world, _, _ = voters
    identity = world.a.member.identity
    Identity.objects.filter(pk=identity.pk).update(registered_at=None)
    question = proposition(world.a)
    error(vote(world.a.member, question.pk, world.a, value=1, passphrase=PASSPHRASE), 403, "not_eligible")
    Identity.objects.filter(pk=identity.pk).update(registered_at=timezone.now(), revoked=True)
    assert identity_selectors.eligibility_of(member=world.a.member).reason == "Your identity is revoked."
    with pytest.raises(Forbidden) as refused:
        votes.vote_cast(member=world.a.member, proposition_id=question.pk, value=1, passphrase=PASSPHRASE)
    assert refused.value.code == "not_eligible"


# --- the member's page ---------------------------------------------------------------------------


def web(member):
    client = Client()
    client.force_login(member.user)
    return client


def test_the_identity_page_shows_score_propositions_and_votes_and_votes_with_the_passphrase(voters):
    world, _, _ = voters
    question = proposition(world.a)
    page = f"/c/{world.a.community.slug}/identity/"
    client = web(world.a.member)
    shown = client.get(page)
    assert shown.status_code == 200
    text = shown.content.decode()
    assert world.a.member.identity.keys.get().public_key in text and question.title in text
    assert f'href="{page}"' in text  # the navigation's Identity link

    refused = client.post(f"{page}propositions/{question.pk}/vote/", {"value": "1", "passphrase": "wrong"})
    assert refused.status_code == 400 and "does not unlock" in refused.content.decode()
    done = client.post(f"{page}propositions/{question.pk}/vote/", {"value": "1", "passphrase": PASSPHRASE})
    assert done.status_code == 302 and Vote.objects.get().value == 1
    assert "Yes" in client.get(page).content.decode()


def test_the_identity_page_wants_a_member(world):
    page = f"/c/{world.a.community.slug}/identity/"
    assert Client().get(page).status_code == 302
    other = proposition(world.b)
    response = web(world.a.member).post(f"{page}propositions/{other.pk}/vote/", {"value": "1", "passphrase": PASSWORD})
    assert response.status_code == 404


def vote_form(html: str, side, question) -> str:
    """The page's vote form for ``question``."""
    action = re.escape(f"/c/{side.community.slug}/identity/propositions/{question.pk}/vote/")
    found = re.search(rf'<form method="post" action="{action}">(.*?)</form>', html, re.S)
    assert found, f"no vote form for proposition {question.pk}"
    return found.group(1)


def checked_values(form_html: str) -> list[str]:
    return re.findall(r'<input type="radio" name="value" value="(\d)"[^>]*\bchecked\b', form_html)


def test_a_refused_vote_answers_the_page_with_the_error_beside_its_form_and_the_pages_own_url(voters):
    world, _, _ = voters
    question, other = proposition(world.a), proposition(world.a)
    page = f"/c/{world.a.community.slug}/identity/"

    refused = web(world.a.member).post(f"{page}propositions/{question.pk}/vote/", {"value": "1", "passphrase": "x"})

    assert refused.status_code == 400 and not Vote.objects.exists()
    html = refused.content.decode()
    form = vote_form(html, world.a, question)
    assert "does not unlock" in form and checked_values(form) == ["1"]  # the choice made is kept
    assert (
        "does not unlock" not in vote_form(html, world.a, other)
        and checked_values(vote_form(html, world.a, other)) == []
    )
    # identity.js refreshes from the page's own url, not from this answer's (the vote's, POST only).
    assert f'data-page-url="{page}"' in html


def test_a_refused_vote_whose_form_is_not_on_the_page_says_why_at_its_top(voters):
    world, _, _ = voters
    question = proposition(world.a, closes_in=timedelta(seconds=-1))
    page = f"/c/{world.a.community.slug}/identity/"

    refused = web(world.a.member).post(
        f"{page}propositions/{question.pk}/vote/", {"value": "1", "passphrase": PASSPHRASE}
    )

    assert refused.status_code == 400 and not Vote.objects.exists()
    assert re.search(r'class="flash flash-error"[^>]*>This proposition is closed\.<', refused.content.decode())


def test_the_vote_form_preselects_my_vote_and_asks_for_the_sign_in_password(voters):
    world, _, _ = voters
    question, other = proposition(world.a), proposition(world.a)
    client = web(world.a.member)
    page = f"/c/{world.a.community.slug}/identity/"
    client.post(f"{page}propositions/{question.pk}/vote/", {"value": "0", "passphrase": PASSPHRASE})

    html = client.get(page).content.decode()

    assert checked_values(vote_form(html, world.a, question)) == ["0"]
    assert checked_values(vote_form(html, world.a, other)) == []
    form = vote_form(html, world.a, question)
    assert "<legend>Your vote</legend>" in form
    assert f'<label for="vote-{question.pk}-passphrase">Your sign-in password</label>' in form
    assert "unlocks your identity key for this one signature" in form
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # each form's labels name its own inputs
