"""The member web pages: landing, sign-in, registration with an invite, dashboard, sign-out."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from bank.models import Member
from tests.bank.test_api_invites import assert_identity_opened
from tests.bank.web_helpers import VIEWPORT, sign_in, signed_in_user_id
from tests.factories import PASSWORD, InviteFactory, MemberFactory

User = get_user_model()
NEW_PASSWORD = "a-long-unusual-passphrase"


def register(client: Client, community, *, code: str, handle: str, password: str | None = NEW_PASSWORD):
    data = {"invite": code, "username": handle}
    if password is not None:
        data["password"] = password
    return client.post(f"/c/{community.slug}/register/", data)


# --- every page renders, on a phone too ------------------------------------------------------


@pytest.mark.parametrize(
    "who, url",
    [
        ("anonymous", "/"),
        ("anonymous", "/c/alpha/login/"),
        ("anonymous", "/c/alpha/register/?invite=open-invite"),
        ("member", "/dashboard/"),
        ("member", "/c/alpha/"),
        ("member", "/c/beta/register/?invite=open-invite"),
    ],
)
def test_page_renders_with_viewport(client, world, who, url):
    if who == "member":
        client.force_login(world.a.member.user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert VIEWPORT in response.content.decode()


def test_not_found_page_is_html_with_viewport(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "There is nothing at this address." in response.content.decode()
    assert VIEWPORT in response.content.decode()


# --- landing and dashboard --------------------------------------------------------------------


def test_landing_sends_to_the_chosen_community_login(client, world):
    response = client.get("/", {"community": "alpha"})
    assert response.status_code == 302
    assert response.url == "/c/alpha/login/"


def test_landing_rejects_a_community_name_that_is_not_a_slug(client, db):
    response = client.get("/", {"community": "not a slug!"})
    assert response.status_code == 200
    assert '<small class="error">' in response.content.decode()


def test_landing_sends_a_signed_in_person_to_the_dashboard(client, world):
    client.force_login(world.a.member.user)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == "/dashboard/"


def test_anonymous_dashboard_redirects_to_sign_in(client, db):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response.url == "/?next=/dashboard/"


def test_anonymous_community_home_redirects_to_its_login(client, world):
    response = client.get("/c/alpha/")
    assert response.status_code == 302
    assert response.url == "/c/alpha/login/?next=/c/alpha/"


def test_dashboard_with_no_membership_says_so(client, db):
    client.force_login(User.objects.create_user("lonely", password=PASSWORD))
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert "You are not a member of any community yet" in response.content.decode()


# --- signing in -------------------------------------------------------------------------------


def test_sign_in_shows_community_home_and_dashboard(client, world):
    member = world.a.member

    response = sign_in(client, member)

    assert response.status_code == 302
    assert response.url == "/c/alpha/"
    assert signed_in_user_id(client) == member.user.pk

    home = client.get("/c/alpha/").content.decode()
    assert "Community ALPHA" in home
    assert "member@alpha.localhost" in home

    dashboard = client.get("/dashboard/")
    assert dashboard.status_code == 200
    assert list(dashboard.context["memberships"]) == [member]
    html = dashboard.content.decode()
    for text in ["Community ALPHA", "<dd>member</dd>", "member@alpha.localhost", "<dd>Member</dd>", "<dd>Active</dd>"]:
        assert text in html


def test_sign_in_accepts_the_username_in_capitals(client, world):
    response = client.post("/c/alpha/login/", {"username": "MEMBER", "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_user_id(client) == world.a.member.user.pk


def test_wrong_password_shows_an_error_and_does_not_sign_in(client, world):
    response = sign_in(client, world.a.member, password="not-the-password")

    assert response.status_code == 400
    assert "Wrong username or password." in response.content.decode()
    assert signed_in_user_id(client) is None
    assert client.get("/c/alpha/").status_code == 302


def test_unknown_username_shows_the_same_error(client, world):
    response = client.post("/c/alpha/login/", {"username": "nobody", "password": PASSWORD})
    assert response.status_code == 400
    assert "Wrong username or password." in response.content.decode()
    assert signed_in_user_id(client) is None


def test_member_of_another_community_cannot_sign_in_here(client, world):
    stranger = MemberFactory(community=world.b.community, handle="bertha")
    response = client.post("/c/alpha/login/", {"username": stranger.handle, "password": PASSWORD})
    assert response.status_code == 400
    assert signed_in_user_id(client) is None


def test_deactivated_member_cannot_sign_in(client, world):
    response = sign_in(client, world.a.inactive)

    assert response.status_code == 400
    assert "deactivated" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_too_many_failed_sign_ins_are_refused(client, world, settings):
    settings.LOGIN_ATTEMPTS_PER_ACCOUNT = 2
    for _ in range(2):
        sign_in(client, world.a.member, password="wrong-guess")

    response = sign_in(client, world.a.member)  # the right password, but too late

    assert response.status_code == 400
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_sign_in_without_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)

    response = sign_in(client, world.a.member)

    assert response.status_code == 403
    assert signed_in_user_id(client) is None


def test_sign_in_with_csrf_token_from_the_form_works(world):
    client = Client(enforce_csrf_checks=True)
    client.get("/c/alpha/login/")
    token = client.cookies["csrftoken"].value

    response = client.post(
        "/c/alpha/login/", {"username": "member", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302
    assert signed_in_user_id(client) == world.a.member.user.pk


# --- registering with an invite ---------------------------------------------------------------


def test_register_page_fills_in_the_invite_from_the_link(client, world):
    html = client.get("/c/alpha/register/?invite=code-from-link").content.decode()
    assert 'value="code-from-link"' in html
    assert 'name="password"' in html


def test_register_with_invite_creates_membership_and_signs_in(client, world):
    invite = InviteFactory(community=world.a.community, code="welcome-newbie")

    response = register(client, world.a.community, code="welcome-newbie", handle="newbie")

    assert response.status_code == 302
    assert response.url == "/c/alpha/"
    member = Member.objects.get(community=world.a.community, handle="newbie")
    assert member.role == Member.Role.MEMBER and member.is_active
    assert member.user.check_password(NEW_PASSWORD)
    assert signed_in_user_id(client) == member.user.pk
    invite.refresh_from_db()
    assert invite.used_by == member and invite.used_at is not None
    assert "Welcome to Community ALPHA, newbie." in client.get("/c/alpha/").content.decode()


def test_joining_with_an_invite_opens_the_identity_as_signing_in_does(client, world):
    InviteFactory(community=world.a.community, code="welcome-newbie")

    assert register(client, world.a.community, code="welcome-newbie", handle="newbie").status_code == 302

    assert_identity_opened(Member.objects.get(community=world.a.community, handle="newbie"), NEW_PASSWORD)
    page = client.get("/c/alpha/identity/").content.decode()
    assert 'id="register-button"' in page and "You have no identity yet" not in page


@pytest.mark.parametrize(
    "invite_kwargs, error",
    [
        ({"used_at": timezone.now()}, "This invite has already been used."),
        ({"expires_at": timezone.now() - timezone.timedelta(minutes=1)}, "This invite has expired"),
        ({"community": "beta"}, "This invite code is not valid for this community."),
    ],
    ids=["used", "expired", "other-community"],
)
def test_unusable_invite_shows_error_and_creates_nothing(client, world, invite_kwargs, error):
    if invite_kwargs.get("community") == "beta":
        invite_kwargs = {"community": world.b.community}
    InviteFactory(code="the-code", **{"community": world.a.community, **invite_kwargs})
    users, members = User.objects.count(), Member.objects.count()

    response = register(client, world.a.community, code="the-code", handle="newbie")

    assert response.status_code == 400
    assert error in response.content.decode()
    assert (User.objects.count(), Member.objects.count()) == (users, members)
    assert signed_in_user_id(client) is None


def test_unknown_invite_code_creates_nothing(client, world):
    users = User.objects.count()
    response = register(client, world.a.community, code="made-up", handle="newbie")
    assert response.status_code == 400
    assert "not valid for this community" in response.content.decode()
    assert User.objects.count() == users


def test_register_with_taken_username_keeps_the_invite(client, world):
    invite = InviteFactory(community=world.a.community, code="the-code")

    response = register(client, world.a.community, code="the-code", handle="member")

    assert response.status_code == 400
    assert "already taken" in response.content.decode()
    invite.refresh_from_db()
    assert invite.used_at is None


def test_register_with_a_capital_letter_says_what_a_handle_may_hold(client, world):
    InviteFactory(community=world.a.community, code="the-code")

    response = register(client, world.a.community, code="the-code", handle="Newbie")

    assert response.status_code == 400
    page = response.content.decode()
    assert "lowercase letters, digits" in page and "Enter a valid value" not in page
    assert not Member.objects.filter(handle__iexact="newbie").exists()


def test_register_with_weak_password_creates_nothing(client, world):
    invite = InviteFactory(community=world.a.community, code="the-code")

    response = register(client, world.a.community, code="the-code", handle="newbie", password="123")

    assert response.status_code == 400
    assert "too short" in response.content.decode()
    assert not Member.objects.filter(handle="newbie").exists()
    invite.refresh_from_db()
    assert invite.used_at is None


def test_signed_in_person_joins_second_community_with_the_same_login(client, world):
    member = world.a.member
    sign_in(client, member)
    InviteFactory(community=world.b.community, code="join-beta")
    users = User.objects.count()

    page = client.get("/c/beta/register/?invite=join-beta").content.decode()
    assert 'name="password"' not in page
    assert member.user.username in page

    response = register(client, world.b.community, code="join-beta", handle="traveller", password=None)

    assert response.status_code == 302
    assert response.url == "/c/beta/"
    joined = Member.objects.get(community=world.b.community, handle="traveller")
    assert joined.user_id == member.user_id
    assert User.objects.count() == users
    assert signed_in_user_id(client) == member.user.pk

    dashboard = client.get("/dashboard/")
    assert set(dashboard.context["memberships"]) == {member, joined}
    html = dashboard.content.decode()
    assert "Community ALPHA" in html and "Community BETA" in html
    assert "traveller@beta.localhost" in html
    assert client.get("/c/beta/").status_code == 200


def test_signed_in_member_cannot_join_their_own_community_twice(client, world):
    client.force_login(world.a.member.user)
    invite = InviteFactory(community=world.a.community, code="again")

    response = register(client, world.a.community, code="again", handle="second-me", password=None)

    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert not Member.objects.filter(handle="second-me").exists()
    invite.refresh_from_db()
    assert invite.used_at is None


# --- isolation between communities ------------------------------------------------------------


def test_member_of_alpha_opening_beta_is_sent_to_betas_login(client, world):
    client.force_login(world.a.member.user)
    MemberFactory(community=world.b.community, handle="bertha")

    response = client.get("/c/beta/")

    assert response.status_code == 302
    assert response.url == "/c/beta/login/?next=/c/beta/"
    login_page = client.get(response.url).content.decode()
    assert "Sign in to Community BETA" in login_page
    assert "bertha" not in login_page
    assert "@beta.localhost" not in login_page


def test_deactivated_membership_loses_the_community_home(client, world):
    client.force_login(world.a.inactive.user)
    response = client.get("/c/alpha/")
    assert response.status_code == 302
    assert response.url == "/c/alpha/login/?next=/c/alpha/"


# --- signing out ------------------------------------------------------------------------------


def test_logout_by_post_ends_the_session(client, world):
    sign_in(client, world.a.member)

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response.url == "/"
    assert signed_in_user_id(client) is None
    assert client.get("/dashboard/").status_code == 302
    assert client.get("/c/alpha/").status_code == 302


def test_logout_by_get_is_refused_and_keeps_the_session(client, world):
    sign_in(client, world.a.member)

    response = client.get("/logout/")

    assert response.status_code == 405
    assert signed_in_user_id(client) == world.a.member.user.pk


def test_pages_of_a_signed_in_person_offer_sign_out_by_post(client, world):
    client.force_login(world.a.member.user)
    html = client.get("/dashboard/").content.decode()
    assert '<form method="post" action="/logout/"' in html
    assert "csrfmiddlewaretoken" in html


def test_signing_in_returns_to_the_page_asked_for(client, world):
    asked = client.get("/c/alpha/payments/?before=5")
    assert asked.url == "/c/alpha/login/?next=/c/alpha/payments/%3Fbefore%3D5"

    response = sign_in(client, world.a.member, extra_next="/c/alpha/payments/?before=5")

    assert response.url == "/c/alpha/payments/?before=5"


def test_a_next_page_elsewhere_is_ignored(client, world):
    response = sign_in(client, world.a.member, extra_next="https://evil.example/")

    assert response.url == "/c/alpha/"


def test_the_landing_page_carries_next_to_the_community_sign_in(client, world):
    response = client.get("/", {"community": "alpha", "next": "/dashboard/"})

    assert response.url == "/c/alpha/login/?next=%2Fdashboard%2F"
