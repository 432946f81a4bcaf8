"""Tenancy: which community a request is for (/c/<slug>/ or the Host), and the instance's own paths."""

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from bank import urls as bank_urls
from tests.bank.web_helpers import VIEWPORT, sign_in, signed_in_user_id
from tests.conftest import token_client
from tests.factories import PASSWORD

DOMAIN = "bank.example.org"


@pytest.fixture
def alpha_domain(world, settings):
    """alpha served at its own domain, which the instance accepts as a Host."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, DOMAIN, "other.example.org"]
    world.a.community.domain = DOMAIN
    world.a.community.save(update_fields=["domain"])
    return world.a.community


def assert_community_not_found_json(response) -> None:
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "community_not_found"
    assert body["error"]["message"]


# --- /c/<slug>/ -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/c/alpha/login/", "/c/alpha/api/auth/whoami"])
def test_slug_prefix_sets_the_community(client, world, path):
    response = client.get(path)
    assert response.wsgi_request.community == world.a.community


@pytest.mark.parametrize("path", ["/", "/dashboard/", "/api/schema/"])
def test_instance_paths_have_no_community(client, world, path):
    assert client.get(path).wsgi_request.community is None


def test_unknown_slug_on_an_api_path_is_a_json_404(client, world):
    assert_community_not_found_json(client.get("/c/nowhere/api/auth/whoami"))
    assert_community_not_found_json(client.post("/c/nowhere/api/auth/login", {}, content_type="application/json"))


@pytest.mark.parametrize("path", ["/c/nowhere/", "/c/nowhere/login/"])
def test_unknown_slug_on_a_page_is_an_html_404(client, world, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "There is no community at this address." in html
    assert "community_not_found" in html
    assert VIEWPORT in html


# --- a community's own domain -----------------------------------------------------------------


def test_domain_serves_the_api_like_the_slug_prefix(alpha_domain, world):
    api = token_client(world.a.member)

    by_domain = api.get("/api/auth/whoami", HTTP_HOST=DOMAIN)
    by_prefix = api.get("/c/alpha/api/auth/whoami")

    assert by_domain.status_code == by_prefix.status_code == 200
    assert by_domain.json() == by_prefix.json()
    assert by_domain.json()["address"] == f"member@{DOMAIN}"
    assert by_domain.wsgi_request.community == alpha_domain


@pytest.mark.parametrize("host", [DOMAIN.upper(), f"{DOMAIN}:8443"])
def test_domain_match_ignores_case_and_port(alpha_domain, client, host):
    response = client.get("/login/", HTTP_HOST=host)
    assert response.status_code == 200
    assert response.wsgi_request.community == alpha_domain


def test_domain_serves_the_pages_like_the_slug_prefix(alpha_domain, world, client):
    assert "Sign in to Community ALPHA" in client.get("/login/", HTTP_HOST=DOMAIN).content.decode()

    response = client.post("/login/", {"username": "member", "password": PASSWORD}, HTTP_HOST=DOMAIN)

    assert response.status_code == 302
    assert signed_in_user_id(client) == world.a.member.user.pk
    home = client.get("/", HTTP_HOST=DOMAIN)
    assert home.status_code == 200
    assert f"member@{DOMAIN}" in home.content.decode()


def test_domain_still_accepts_its_own_slug_prefix(alpha_domain, client):
    response = client.get("/c/alpha/login/", HTTP_HOST=DOMAIN)
    assert response.status_code == 200
    assert response.wsgi_request.community == alpha_domain


@pytest.mark.parametrize("path", ["/c/beta/", "/c/beta/login/", "/c/beta/api/auth/whoami"])
def test_another_communitys_prefix_on_a_domain_is_a_404(alpha_domain, client, world, path):
    response = client.get(path, HTTP_HOST=DOMAIN)
    assert response.status_code == 404
    assert "Community BETA" not in response.content.decode()


def test_another_communitys_api_on_a_domain_is_a_json_404(alpha_domain, world):
    api = token_client(world.b.member)
    assert_community_not_found_json(api.get("/c/beta/api/auth/whoami", HTTP_HOST=DOMAIN))


def test_a_domain_no_community_has_is_served_as_the_instance(alpha_domain, client):
    response = client.get("/", HTTP_HOST="other.example.org")
    assert response.status_code == 200
    assert response.wsgi_request.community is None
    assert "Welcome to Trustbank" in response.content.decode()


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/admin/login/", "Trustbank administration"),
        ("/api/schema/", "openapi"),
        ("/api/docs/", "swagger"),
        ("/static/trustbank.css", None),
    ],
)
def test_instance_paths_work_on_a_community_domain(alpha_domain, client, path, expected):
    response = client.get(path, HTTP_HOST=DOMAIN)
    assert response.status_code == 200
    assert getattr(response.wsgi_request, "community", None) is None  # static files never reach the middleware
    if expected:
        assert expected in response.content.decode()


def test_dashboard_and_sign_out_work_on_a_community_domain(alpha_domain, world, client):
    """The header of every page links to the dashboard and signs out at /logout/, on any host."""
    sign_in(client, world.a.member, HTTP_HOST=DOMAIN)
    home = client.get("/", HTTP_HOST=DOMAIN).content.decode()
    assert 'href="/dashboard/"' in home and 'action="/logout/"' in home

    dashboard = client.get("/dashboard/", HTTP_HOST=DOMAIN)
    assert dashboard.status_code == 200
    assert f"member@{DOMAIN}" in dashboard.content.decode()

    assert client.post("/logout/", HTTP_HOST=DOMAIN).status_code == 302
    assert signed_in_user_id(client) is None


# --- the OpenAPI schema -----------------------------------------------------------------------


def community_api_paths() -> set[str]:
    """The schema's paths of the community API, parameters written as OpenAPI writes them (``{token}``)."""
    routes = (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern)) for pattern in bank_urls.api)
    return {f"/c/{{community_slug}}/api/{route}" for route in routes}


def test_schema_is_served_and_lists_every_community_api_path(client, db):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["info"]["title"] == "Trustbank API"
    assert set(schema["paths"]) >= community_api_paths()
    login = schema["paths"]["/c/{community_slug}/api/auth/login"]["post"]
    assert any(p["name"] == "community_slug" and p["in"] == "path" for p in login["parameters"])
    assert "memberToken" in schema["components"]["securitySchemes"]


def test_schema_is_served_as_json_on_request(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert set(response.json()["paths"]) >= community_api_paths()


def test_schema_validates_without_warnings(db, tmp_path):
    schema_file = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(schema_file))

    schema = yaml.safe_load(schema_file.read_text())
    assert set(schema["paths"]) >= community_api_paths()


def test_api_docs_render(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    # The start-up script is a file of its own (the CSP refuses inline scripts); it loads the schema.
    assert '<script src="/api/docs/?script="></script>' in html
    assert reverse("bank:api-schema") in client.get("/api/docs/?script=").content.decode()
