"""The management commands: create_community and seed_demo."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from bank import services
from bank.management.commands import create_community
from bank.management.commands.seed_demo import DEMO_ADMIN, DEMO_MEMBERS, DEMO_PASSWORD
from bank.models import Community, Member
from tests.bank.web_helpers import sign_in, signed_in_user_id
from tests.factories import PASSWORD, CommunityFactory

User = get_user_model()
STRONG_PASSWORD = "river-stones-and-willow-7"

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def create(slug: str = "riverside", *, password: str | None = STRONG_PASSWORD, **options: str) -> str:
    args = ["create_community", slug, "--name", options.get("name", "Riverside Bank"), "--admin", "ruth"]
    if password is not None:
        args += ["--password", password]
    if "domain" in options:
        args += ["--domain", options["domain"]]
    return run(*args)


def counts() -> tuple[int, int, int]:
    return Community.objects.count(), Member.objects.count(), User.objects.count()


# --- create_community -------------------------------------------------------------------------


def test_create_community_creates_community_and_admin_who_can_sign_in(client):
    output = create()

    community = Community.objects.get(slug="riverside")
    assert community.name == "Riverside Bank"
    admin = Member.objects.get(community=community)
    assert (admin.handle, admin.role, admin.is_active) == ("ruth", Member.Role.ADMIN, True)
    assert "/c/riverside/" in output and admin.address in output

    assert sign_in(client, admin, password=STRONG_PASSWORD).status_code == 302
    assert signed_in_user_id(client) == admin.user.pk
    assert client.get("/admin/").status_code == 200


def test_create_community_stores_the_domain_in_lowercase():
    create(domain="Bank.Example.ORG")
    assert Community.objects.get(slug="riverside").domain == "bank.example.org"


def test_create_community_refuses_an_existing_slug_and_changes_nothing():
    CommunityFactory(slug="riverside", name="The Original")
    before = counts()

    refused = "A community with the slug 'riverside' already exists. Nothing was created."
    with pytest.raises(CommandError, match=refused):
        create(name="Impostor")

    assert counts() == before
    assert Community.objects.get(slug="riverside").name == "The Original"


@pytest.mark.parametrize("password", ["123", "password", "87654321987"])
def test_create_community_refuses_a_weak_password_and_creates_nothing(password):
    with pytest.raises(CommandError, match=r"^password: .*Nothing was created\.$"):
        create(password=password)

    assert counts() == (0, 0, 0)


def test_create_community_refuses_an_invalid_slug():
    with pytest.raises(CommandError, match="slug"):
        create("Not A Slug")
    assert counts() == (0, 0, 0)


def test_create_community_prompts_for_the_password(monkeypatch):
    prompts = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return STRONG_PASSWORD

    monkeypatch.setattr(create_community, "getpass", fake_getpass)

    create(password=None)

    assert prompts == ["Password for ruth: ", "Password again: "]
    admin = Member.objects.get(community__slug="riverside")
    assert admin.user.check_password(STRONG_PASSWORD)


def test_create_community_refuses_two_different_prompted_passwords(monkeypatch):
    answers = iter([STRONG_PASSWORD, "something-else-entirely"])
    monkeypatch.setattr(create_community, "getpass", lambda prompt: next(answers))

    with pytest.raises(CommandError, match="differ"):
        create(password=None)

    assert counts() == (0, 0, 0)


# --- seed_demo --------------------------------------------------------------------------------


def test_seed_demo_creates_the_demo_community_and_prints_logins(client):
    output = run("seed_demo")

    community = Community.objects.get(slug="demo")
    members = {m.handle: m for m in Member.objects.filter(community=community)}
    assert set(members) == {DEMO_ADMIN, *DEMO_MEMBERS}
    assert members[DEMO_ADMIN].role == Member.Role.ADMIN
    assert all(members[handle].role == Member.Role.MEMBER for handle in DEMO_MEMBERS)

    assert "/c/demo/login/" in output
    for handle in [DEMO_ADMIN, *DEMO_MEMBERS]:
        assert f"username {handle:<6} password {DEMO_PASSWORD}" in output
    assert f"Django admin login: {members[DEMO_ADMIN].user.username}" in output

    # The printed logins work on the sign-in page.
    assert sign_in(client, members["alice"], password=DEMO_PASSWORD).status_code == 302
    assert "alice@demo.localhost" in client.get("/c/demo/").content.decode()


def test_seed_demo_twice_creates_nothing_more():
    run("seed_demo")
    before = counts()

    output = run("seed_demo")

    assert counts() == before
    assert "username alice" in output


def test_seed_demo_fills_in_missing_members():
    services.community_create(slug="demo", name="Demo", admin_handle="admin", admin_password=PASSWORD)

    run("seed_demo")

    assert Member.objects.filter(community__slug="demo", handle="alice").exists()
