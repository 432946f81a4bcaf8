"""The Django admin: instance superusers see everything, community admins only their own communities."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from bank import auth, services
from bank.forms import format_rate, parse_rate_text
from bank.models import Community, Invite, Member
from tests.bank.web_helpers import flash_messages, signed_in_user_id
from tests.factories import PASSWORD, InviteFactory, MemberFactory, UserFactory
from trust.models import Account

CHANGELISTS = {
    "community": reverse("admin:bank_community_changelist"),
    "member": reverse("admin:bank_member_changelist"),
    "invite": reverse("admin:bank_invite_changelist"),
}


@pytest.fixture
def named(world):
    """Rows whose names appear in only one community, so a changelist's HTML shows whose rows it holds."""
    return {
        "alpha_member": MemberFactory(community=world.a.community, handle="alfred"),
        "beta_member": MemberFactory(community=world.b.community, handle="bertha"),
        "alpha_invite": InviteFactory(community=world.a.community),
        "beta_invite": InviteFactory(community=world.b.community),
    }


@pytest.fixture
def alpha_admin(client, world):
    client.force_login(world.a.admin.user)
    return world.a.admin


def run_action(client, changelist: str, action: str, *objects):
    return client.post(
        CHANGELISTS[changelist], {"action": action, "_selected_action": [str(obj.pk) for obj in objects]}
    )


# --- who may sign in --------------------------------------------------------------------------


def test_admin_login_page_renders_for_anonymous(client, db):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()


def test_community_admin_without_is_staff_can_sign_in(client, world):
    user = world.a.admin.user
    assert not user.is_staff and not user.is_superuser

    response = client.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD})

    assert response.status_code == 302
    assert signed_in_user_id(client) == user.pk
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    html = index.content.decode()
    for model in ["Communities", "Members", "Invites"]:
        assert model in html
    assert "Users" not in html and "Groups" not in html


@pytest.mark.parametrize("who", ["member", "inactive"])
def test_non_admin_member_cannot_sign_in(client, world, who):
    user = getattr(world.a, who).user

    response = client.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD})

    assert response.status_code == 200
    assert signed_in_user_id(client) is None
    wrong = client.post(reverse("admin:login"), {"username": user.username, "password": "wrong-password"})
    # A right password of a login that is no admin is refused as a wrong one is: the page tells nothing.
    assert _refusal(response) == _refusal(wrong)
    assert "no community admin" in _refusal(response)


def _refusal(response) -> str:
    return " ".join(response.context["form"].non_field_errors())


def test_plain_member_with_a_session_is_sent_to_the_admin_login(client, world):
    client.force_login(world.a.member.user)
    response = client.get(CHANGELISTS["member"])
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_deactivated_admin_membership_loses_the_admin(client, world):
    client.force_login(world.a.admin.user)
    Member.objects.filter(pk=world.a.admin.pk).update(is_active=False)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


# --- what a community admin sees --------------------------------------------------------------


def test_community_changelist_shows_only_own_community(client, world, alpha_admin):
    response = client.get(CHANGELISTS["community"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "Community ALPHA" in html
    assert "Community BETA" not in html
    assert list(response.context["cl"].queryset) == [world.a.community]


def test_member_changelist_shows_only_own_community(client, world, named, alpha_admin):
    response = client.get(CHANGELISTS["member"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "alfred" in html
    assert "bertha" not in html and "Community BETA" not in html
    assert {m.community for m in response.context["cl"].queryset} == {world.a.community}


def test_invite_changelist_shows_only_own_community(client, world, named, alpha_admin):
    response = client.get(CHANGELISTS["invite"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "Invite to Community ALPHA" in html
    assert "Community BETA" not in html
    assert list(response.context["cl"].queryset) == [named["alpha_invite"]]


def test_being_a_plain_member_elsewhere_does_not_widen_the_scope(client, world, named, alpha_admin):
    MemberFactory(community=world.b.community, handle="alphas-admin", user=alpha_admin.user)
    html = client.get(CHANGELISTS["member"]).content.decode()
    assert "bertha" not in html and "alphas-admin" not in html


@pytest.mark.parametrize(
    "url_name, target",
    [
        ("admin:bank_member_change", lambda world, named: named["beta_member"]),
        ("admin:bank_community_change", lambda world, named: world.b.community),
        ("admin:bank_invite_change", lambda world, named: named["beta_invite"]),
    ],
    ids=["member", "community", "invite"],
)
def test_change_page_of_another_community_is_not_shown(client, world, named, alpha_admin, url_name, target):
    obj = target(world, named)
    response = client.get(reverse(url_name, args=[obj.pk]))
    assert response.status_code in (302, 403, 404)
    assert "Community BETA" not in response.content.decode()
    if response.status_code == 302:
        assert response.url == reverse("admin:index")


def test_post_to_another_communitys_member_changes_nothing(client, world, named, alpha_admin):
    bertha = named["beta_member"]

    response = client.post(reverse("admin:bank_member_change", args=[bertha.pk]), {"role": "admin"})

    assert response.status_code in (302, 403, 404)
    bertha.refresh_from_db()
    assert bertha.role == Member.Role.MEMBER and bertha.is_active


def test_post_to_another_community_changes_nothing(client, world, alpha_admin):
    url = reverse("admin:bank_community_change", args=[world.b.community.pk])
    data = {"name": "Taken over", "currency_code": "X", "currency_name": "X", "minimum_trust_index": "0"}
    response = client.post(url, data)
    assert response.status_code in (302, 403, 404)
    world.b.community.refresh_from_db()
    assert world.b.community.name == "Community BETA"


def test_community_admin_can_edit_own_member(client, world, named, alpha_admin):
    alfred = named["alpha_member"]
    response = client.post(reverse("admin:bank_member_change", args=[alfred.pk]), {"role": "admin", "is_active": "on"})
    assert response.status_code == 302
    alfred.refresh_from_db()
    assert alfred.role == Member.Role.ADMIN


def test_deactivating_in_the_change_form_revokes_api_tokens(client, world, named, alpha_admin):
    alfred = named["alpha_member"]
    auth.token_create(member=alfred)

    client.post(reverse("admin:bank_member_change", args=[alfred.pk]), {"role": "member"})  # is_active unticked

    alfred.refresh_from_db()
    assert not alfred.is_active
    assert not alfred.auth_tokens.exists()  # reactivating later must not revive them


def test_change_form_cannot_demote_or_deactivate_oneself(client, world, alpha_admin):
    client.post(reverse("admin:bank_member_change", args=[alpha_admin.pk]), {"role": "member"})

    alpha_admin.refresh_from_db()
    assert alpha_admin.role == Member.Role.ADMIN and alpha_admin.is_active
    assert client.get(reverse("admin:index")).status_code == 200


def test_community_admin_cannot_change_slug_or_domain(client, world, alpha_admin):
    url = reverse("admin:bank_community_change", args=[world.a.community.pk])
    data = {
        "name": "Alpha Renamed",
        "slug": "hijacked",
        "domain": "evil.example",
        "currency_code": "TRUST",
        "currency_name": "Trust",
        "minimum_trust_index": "0",
        "max_hops": "10",
        "hop_fee_ppm": "0",
        "commons_limit": "100",
    }

    response = client.post(url, data)

    assert response.status_code == 302
    community = Community.objects.get(pk=world.a.community.pk)
    assert (community.name, community.slug, community.domain) == ("Alpha Renamed", "alpha", None)


def test_community_admin_cannot_add_or_delete(client, world, named, alpha_admin):
    assert client.get(reverse("admin:bank_community_add")).status_code == 403
    assert client.get(reverse("admin:bank_member_add")).status_code == 403
    alfred = named["alpha_member"]
    assert client.post(reverse("admin:bank_member_delete", args=[alfred.pk]), {"post": "yes"}).status_code == 403
    assert Member.objects.filter(pk=alfred.pk).exists()


# --- money and dates as people write them ------------------------------------------------------

COMMUNITY_FORM = {
    "name": "Community ALPHA",
    "currency_code": "TRUST",
    "currency_name": "Trust",
    "minimum_trust_index": "0",
    "max_hops": "10",
    "hop_fee_ppm": "0",
    "commons_limit": "100",
}


def community_form(client, community) -> dict[str, str]:
    """The values the community's change form shows, by field name."""
    form = client.get(reverse("admin:bank_community_change", args=[community.pk])).context["adminform"].form
    return {name: form[name].value() for name in ("commons_limit", "hop_fee_ppm", "minimum_trust_index")}


def test_the_community_form_shows_amounts_and_rates_as_people_write_them(client, world, alpha_admin):
    Community.objects.filter(pk=world.a.community.pk).update(
        commons_limit=100_000_000, hop_fee_ppm=2_500, minimum_trust_index=Decimal("0.02")
    )

    html = client.get(reverse("admin:bank_community_change", args=[world.a.community.pk])).content.decode()

    for shown in ('value="100.00"', 'value="0.25%"', 'value="2%"'):
        assert shown in html
    assert "100000000" not in html and "micro-units" not in html and "millionths" not in html


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ({"commons_limit": "100"}, {"commons_limit": 100_000_000}),
        ({"commons_limit": " 100.5 "}, {"commons_limit": 100_500_000}),
        ({"commons_limit": "0.000001"}, {"commons_limit": 1}),
        ({"hop_fee_ppm": "5%"}, {"hop_fee_ppm": 50_000}),
        ({"hop_fee_ppm": "0.05"}, {"hop_fee_ppm": 50_000}),
        ({"hop_fee_ppm": "0.0001 %"}, {"hop_fee_ppm": 1}),
        ({"hop_fee_ppm": "100%"}, {"hop_fee_ppm": 1_000_000}),
        ({"minimum_trust_index": "2%"}, {"minimum_trust_index": Decimal("0.02")}),
        ({"minimum_trust_index": "0.125"}, {"minimum_trust_index": Decimal("0.125")}),
    ],
)
def test_the_community_form_takes_amounts_and_rates_as_people_write_them(client, world, alpha_admin, typed, stored):
    url = reverse("admin:bank_community_change", args=[world.a.community.pk])

    response = client.post(url, {**COMMUNITY_FORM, **typed})

    assert response.status_code == 302, response.context["adminform"].form.errors
    community = Community.objects.get(pk=world.a.community.pk)
    assert {name: getattr(community, name) for name in stored} == stored


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ({"commons_limit": "-1"}, "no sign or exponent"),
        ({"commons_limit": "12,50"}, "no sign or exponent"),
        ({"commons_limit": "1.0000001"}, "at most 6 decimal places"),
        ({"commons_limit": ""}, "This field is required"),
        ({"hop_fee_ppm": "101%"}, "A rate is at most 1 (100%)."),
        ({"hop_fee_ppm": "1.5"}, "A rate is at most 1 (100%)."),
        ({"hop_fee_ppm": "99999999999999999999"}, "A rate is at most 1 (100%)."),
        ({"hop_fee_ppm": "0.00001%"}, "A percentage has at most 4 decimal places."),
        ({"hop_fee_ppm": "0.0000001"}, "A rate has at most 6 decimal places."),
        ({"hop_fee_ppm": "five percent"}, 'Write a rate as a share, such as "0.05", or as a percentage'),
        ({"hop_fee_ppm": "-5%"}, 'Write a rate as a share, such as "0.05", or as a percentage'),
        ({"minimum_trust_index": "2%%"}, 'Write a rate as a share, such as "0.05", or as a percentage'),
    ],
)
def test_the_community_form_refuses_what_is_no_amount_or_rate(client, world, alpha_admin, typed, error):
    before = community_form(client, world.a.community)

    response = client.post(
        reverse("admin:bank_community_change", args=[world.a.community.pk]), {**COMMUNITY_FORM, **typed}
    )

    assert response.status_code == 200
    [field] = typed
    assert any(error in message for message in response.context["adminform"].form.errors[field])
    assert community_form(client, world.a.community) == before


def test_admin_dates_are_written_as_the_pages_write_them(client, world, named, alpha_admin):
    Invite.objects.filter(pk=named["alpha_invite"].pk).update(
        created_at=datetime(2026, 12, 2, 14, 5, tzinfo=UTC), expires_at=datetime(2026, 12, 9, 9, 30, tzinfo=UTC)
    )

    changelist = client.get(CHANGELISTS["invite"]).content.decode()
    detail = client.get(reverse("admin:bank_invite_change", args=[named["alpha_invite"].pk])).content.decode()

    for html in (changelist, detail):
        assert "2 Dec 2026 14:05" in html and "9 Dec 2026 09:30" in html


def test_accounts_show_the_trust_index_as_a_percentage(client, world, alpha_admin):
    Account.objects.filter(member=world.a.member).update(trust_index_ppm=25_000)
    Community.objects.filter(pk=world.a.community.pk).update(minimum_trust_index=Decimal("0.01"))

    html = client.get(reverse("admin:trust_account_changelist")).content.decode()

    assert "2.5%" in html and "1% (the community&#x27;s minimum)" in html
    assert "25000" not in html and "ppm" not in html.lower()


@pytest.mark.parametrize(
    ("ppm", "shown"), [(0, "0%"), (1, "0.0001%"), (2_500, "0.25%"), (50_000, "5%"), (1_000_000, "100%")]
)
def test_a_rate_is_shown_exactly_and_read_back_the_same(ppm, shown):
    assert format_rate(ppm) == shown
    assert parse_rate_text(shown) == ppm


# --- adding invites from the invites list -------------------------------------------------------


def test_the_invites_list_offers_to_add_one(client, world, alpha_admin):
    html = client.get(CHANGELISTS["invite"]).content.decode()
    assert reverse("admin:bank_invite_add") in html


def test_an_admin_adds_an_invite_whose_code_works(client, world, alpha_admin):
    form = client.get(reverse("admin:bank_invite_add")).context["adminform"].form
    assert list(form.fields["community"].queryset) == [world.a.community]
    assert form.initial["community"] == world.a.community.pk  # one community: nothing to choose

    response = client.post(reverse("admin:bank_invite_add"), {"community": world.a.community.pk})

    assert response.status_code == 302 and response.url == CHANGELISTS["invite"]
    invite = Invite.objects.get(community=world.a.community)
    assert invite.created_by == alpha_admin and invite.used_at is None
    [code] = [
        re.search(r"\(shown only now\): (\S+) ", message)[1]
        for message in flash_messages(response)
        if "shown only" in message
    ]
    member = services.invite_redeem(
        community=world.a.community, code=code, handle="invited", password="a-long-unusual-passphrase"
    )
    assert member.community == world.a.community


def test_an_admin_cannot_add_an_invite_to_another_community(client, world, alpha_admin):
    response = client.post(reverse("admin:bank_invite_add"), {"community": world.b.community.pk})

    assert response.status_code == 200
    assert "Select a valid choice" in str(response.context["adminform"].form.errors["community"])
    assert not Invite.objects.exists()


def test_an_admin_in_name_only_cannot_add_invites(client, world):
    """A plain member of a community, admin of none, never reaches the form."""
    client.force_login(world.a.member.user)
    assert client.get(reverse("admin:bank_invite_add")).status_code == 302
    assert client.post(reverse("admin:bank_invite_add"), {"community": world.a.community.pk}).status_code == 302
    assert not Invite.objects.exists()


def test_a_superuser_adds_invites_to_any_community(client, world):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))

    assert "community" not in client.get(reverse("admin:bank_invite_add")).context["adminform"].form.initial
    response = client.post(reverse("admin:bank_invite_add"), {"community": world.b.community.pk})

    assert response.status_code == 302
    assert Invite.objects.get().community == world.b.community


# --- actions ----------------------------------------------------------------------------------


def test_deactivate_action_deactivates_own_member(client, world, named, alpha_admin):
    alfred = named["alpha_member"]

    response = run_action(client, "member", "deactivate", alfred)

    assert response.status_code == 302
    alfred.refresh_from_db()
    assert not alfred.is_active
    assert "alfred in Community ALPHA is deactivated." in flash_messages(response)


def test_deactivate_action_refuses_to_deactivate_oneself(client, world, named, alpha_admin):
    response = run_action(client, "member", "deactivate", alpha_admin, named["alpha_member"])

    alpha_admin.refresh_from_db()
    assert alpha_admin.is_active
    messages = flash_messages(response)
    assert "admin: You cannot deactivate your own membership." in messages
    named["alpha_member"].refresh_from_db()
    assert not named["alpha_member"].is_active


def test_deactivate_action_cannot_reach_another_community(client, world, named, alpha_admin):
    bertha = named["beta_member"]
    run_action(client, "member", "deactivate", bertha)
    bertha.refresh_from_db()
    assert bertha.is_active


def test_create_invite_action_shows_a_code_that_works(client, world, alpha_admin):
    response = run_action(client, "community", "create_invite", world.a.community)

    assert response.status_code == 302
    invite = Invite.objects.get(community=world.a.community)
    assert invite.created_by == alpha_admin
    [message] = flash_messages(response)
    code = re.search(r"\(shown only now\): (\S+) ", message)[1]
    assert f"/c/alpha/register/?invite={code}" in message

    member = services.invite_redeem(
        community=world.a.community, code=code, handle="invited", password="a-long-unusual-passphrase"
    )
    assert member.community == world.a.community
    invite.refresh_from_db()
    assert invite.used_by == member


def test_create_invite_action_cannot_reach_another_community(client, world, alpha_admin):
    run_action(client, "community", "create_invite", world.b.community)
    assert not Invite.objects.filter(community=world.b.community).exists()


def test_admin_actions_do_not_include_delete(client, world, alpha_admin):
    actions = client.get(CHANGELISTS["member"]).context["action_form"].fields["action"].choices
    assert [name for name, _ in actions if name] == ["deactivate"]


# --- instance superuser -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "changelist, texts",
    [
        ("community", ["Community ALPHA", "Community BETA"]),
        ("member", ["alfred", "bertha"]),
        ("invite", ["Invite to Community ALPHA", "Invite to Community BETA"]),
    ],
)
def test_superuser_sees_both_communities(client, named, changelist, texts):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    response = client.get(CHANGELISTS[changelist])
    assert response.status_code == 200
    html = response.content.decode()
    for text in texts:
        assert text in html


def test_superuser_can_add_a_community(client, db):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    assert client.get(reverse("admin:bank_community_add")).status_code == 200
