"""Identities, challenges and propositions in Django admin, scoped to the admin's own communities."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from identity.models import Block, Challenge, Identity, Proposition, Review
from tests.identity.test_votes import PASSPHRASE, identity_of, proposition, vote


def _revoked(member, reason="ignored its challenges") -> Identity:
    identity_of(member)
    Identity.objects.filter(member=member).update(balance=0, revoked=True, revoked_reason=reason)
    return Identity.objects.get(member=member)


def _restore(client, identities, **extra):
    body = {"action": "restore", "_selected_action": [identity.pk for identity in identities], **extra}
    return client.post(reverse("admin:identity_identity_changelist"), body)


def test_admins_see_only_their_communitys_identities_with_pending_challenges(client, world):
    mine, theirs = _revoked(world.a.member), _revoked(world.b.member)
    identity_of(world.a.admin)
    Challenge.objects.create(
        target=mine, data="ab" * 32, difficulty_bits=14, expires_at=timezone.now() + timedelta(minutes=5)
    )
    Challenge.objects.create(
        target=theirs, data="cd" * 32, difficulty_bits=14, expires_at=timezone.now() + timedelta(minutes=5)
    )
    Challenge.objects.create(
        target=Identity.objects.get(member=world.a.admin),
        data="ef" * 32,
        difficulty_bits=14,
        state=Challenge.State.SOLVED,
        expires_at=timezone.now(),
    )
    client.force_login(world.a.admin.user)

    listed = client.get(reverse("admin:identity_identity_changelist"))
    assert {identity.pk for identity in listed.context["cl"].queryset} == {mine.pk, world.a.admin.pk}
    by_pk = {identity.pk: identity for identity in listed.context["cl"].queryset}
    assert by_pk[mine.pk].has_pending and not by_pk[world.a.admin.pk].has_pending
    revoked_only = client.get(reverse("admin:identity_identity_changelist") + "?revoked__exact=1")
    assert [identity.pk for identity in revoked_only.context["cl"].queryset] == [mine.pk]

    challenges = client.get(reverse("admin:identity_challenge_changelist"))
    assert [c.target_id for c in challenges.context["cl"].queryset] == [mine.pk]
    assert client.get(reverse("admin:identity_identity_change", args=[theirs.pk])).status_code == 302


def test_restoring_asks_for_a_reason_then_records_a_review(client, world):
    identity = _revoked(world.a.member)
    client.force_login(world.a.admin.user)

    asked = _restore(client, [identity])
    assert asked.status_code == 200 and "reason" in asked.content.decode()
    empty = _restore(client, [identity], apply="1", reason="  ")
    assert empty.status_code == 200 and Identity.objects.get(pk=identity.pk).revoked

    done = _restore(client, [identity], apply="1", reason="Was travelling, phone off.")
    assert done.status_code == 302
    identity.refresh_from_db()
    assert (identity.revoked, identity.balance, identity.revoked_reason) == (False, 100, "")
    review = Review.objects.get(identity=identity)
    assert (review.reviewed_by, review.reason, review.balance_before, review.balance_after) == (
        world.a.admin.user,
        "Was travelling, phone off.",
        0,
        100,
    )
    last = Block.objects.order_by("-index").first()
    assert [(e["type"], e["balance"], e["revoked"]) for e in last.events] == [("restore", 100, False)]


def test_restoring_an_identity_that_is_not_revoked_changes_nothing(client, world):
    identity_of(world.a.member)
    identity = Identity.objects.get(member=world.a.member)
    client.force_login(world.a.admin.user)
    _restore(client, [identity], apply="1", reason="by mistake")
    assert not Review.objects.exists() and Identity.objects.get(pk=identity.pk).balance == 100


def test_another_communitys_identities_cannot_be_restored(client, world):
    theirs = _revoked(world.b.member)
    client.force_login(world.a.admin.user)
    _restore(client, [theirs], apply="1", reason="not mine to restore")
    assert Identity.objects.get(pk=theirs.pk).revoked and not Review.objects.exists()


def test_admins_open_propositions_in_their_own_community_and_see_results(client, world, settings):
    client.force_login(world.a.admin.user)
    closes = timezone.now() + timedelta(days=2)
    form = {
        "title": "New roof?",
        "closes_at_0": closes.strftime("%Y-%m-%d"),
        "closes_at_1": closes.strftime("%H:%M:%S"),
        "votes-TOTAL_FORMS": "0",
        "votes-INITIAL_FORMS": "0",
    }
    refused = client.post(reverse("admin:identity_proposition_add"), {**form, "community": world.b.community.pk})
    assert refused.status_code == 200 and not Proposition.objects.exists()

    added = client.post(reverse("admin:identity_proposition_add"), {**form, "community": world.a.community.pk})
    assert added.status_code == 302, added.context["adminform"].form.errors if added.context else added
    created = Proposition.objects.get()
    assert (created.community, created.created_by, created.title) == (world.a.community, world.a.admin, "New roof?")

    other = proposition(world.b)
    listed = client.get(reverse("admin:identity_proposition_changelist"))
    assert [p.pk for p in listed.context["cl"].queryset] == [created.pk]
    assert client.get(reverse("admin:identity_proposition_change", args=[other.pk])).status_code == 302


def test_a_propositions_page_shows_its_votes(client, voters):
    world, _, _ = voters
    question = proposition(world.a)
    assert vote(world.a.member, question.pk, world.a, value=1, passphrase=PASSPHRASE).status_code == 201
    client.force_login(world.a.admin.user)
    page = client.get(reverse("admin:identity_proposition_change", args=[question.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert world.a.member.identity.keys.get().public_key in text and bytes(question.votes.get().signature).hex() in text
