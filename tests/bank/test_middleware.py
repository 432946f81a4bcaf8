"""Tenancy: which community a request is for (/c/<slug>/ or the Host), and the instance's own paths."""

import inspect
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator

from bank import urls as bank_urls
from bank.schema import ERRORS, OPERATIONS
from tests.bank.web_helpers import VIEWPORT, sign_in, signed_in_user_id
from tests.conftest import token_client
from tests.factories import PASSWORD

DOMAIN = "bank.example.org"
PROJECT_DIR = Path(__file__).resolve().parents[2]


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


# --- the schema as app developers read it (tags, operation ids, descriptions, examples, headers) ------------------

PREFIX = "/c/{community_slug}/api/"
GROUPS = ["auth", "user", "federated", "admin", "invite", "ledger", "identity", "public"]


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict):
    """(``POST user/payment``, operation) for every operation of the community API."""
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path.removeprefix(PREFIX)}", operation


def test_the_description_shows_the_api_prefix(schema):
    description = schema["info"]["description"]

    assert "`/c/{community_slug}/api/`" in description
    # Swagger UI reads Markdown: text between < and > outside a code span is taken for HTML and vanishes.
    assert "<" not in re.sub(r"`[^`]*`", "", description)


def test_operations_are_tagged_by_their_group(schema):
    assert [tag["name"] for tag in schema["tags"]] == GROUPS
    assert all(tag["description"] for tag in schema["tags"])
    for key, operation in operations(schema):
        assert operation["tags"] == [key.split()[1].split("/")[0]], key
    assert {operation["tags"][0] for _, operation in operations(schema)} == set(GROUPS)


@pytest.mark.parametrize(
    ("key", "operation_id"),
    [
        ("POST user/payment", "user_payment_create"),
        ("GET user/payments", "user_payments_list"),
        ("GET user/payments/{payment_id}", "user_payments_retrieve"),
        ("POST user/payments/{payment_id}/accept", "user_payments_accept_create"),
        ("GET auth/whoami", "auth_whoami_retrieve"),
        ("GET user/receipts", "user_receipts_list"),
        ("GET identity/challenges", "identity_challenges_list"),
        ("GET identity/receipt-key", "identity_receipt_key_retrieve"),
    ],
)
def test_operation_ids_are_readable(schema, key, operation_id):
    assert dict(operations(schema))[key]["operationId"] == operation_id


def test_operation_ids_follow_one_rule_and_are_unique(schema):
    ids = [operation["operationId"] for _, operation in operations(schema)]

    assert len(ids) == len(set(ids))
    for key, operation in operations(schema):
        path = key.split()[1]
        base = "_".join(word for word in path.split("/") if not word.startswith("{")).replace("-", "_")
        assert operation["operationId"].startswith(f"{base}_"), key
        assert operation["operationId"].removeprefix(f"{base}_") in {"create", "list", "retrieve"}, key


def view_docstrings() -> set[str]:
    """The docstrings of every API view and of each of its bases in this code base."""
    docstrings = set()
    for _, _, _, callback in EndpointEnumerator().get_api_endpoints():
        for cls in callback.cls.__mro__:
            if cls.__module__.split(".")[0] in {"bank", "trust", "identity", "ledger", "core"} and cls.__doc__:
                docstrings.add(inspect.cleandoc(cls.__doc__))
    return docstrings


def test_every_operation_has_a_summary_and_a_description_of_its_own(schema):
    docstrings = view_docstrings()
    assert docstrings  # the views have some: none of them may show

    for key, operation in operations(schema):
        assert operation.get("summary"), key
        description = operation.get("description", "")
        assert len(description.split("\n\n")[0]) > 20, key  # what it does, before how to sign in
        assert "**Sign-in:**" in description, key
        assert not any(docstring.split("\n")[0] in description for docstring in docstrings), key


def test_every_described_operation_exists(schema):
    """No description for an operation that is gone (or misspelled), none missing for one that exists."""
    assert set(OPERATIONS) == {key for key, _ in operations(schema)}


@pytest.mark.parametrize(
    ("key", "sign_in"),
    [
        ("POST auth/login", "none needed"),
        ("GET public/records", "none needed"),
        ("POST admin/create_user", "a community admin's `Token` or session; app tokens are refused"),
        ("POST user/payment", "or an app token with the `pay` scope"),
        ("GET user/payments", "or an app token with the `read` scope"),
        ("GET user/app_tokens", "a member's `Token` or session; app tokens are refused"),
    ],
)
def test_each_operation_says_how_to_sign_in(schema, key, sign_in):
    [line] = [line for line in dict(operations(schema))[key]["description"].split("\n") if "**Sign-in:**" in line]
    assert sign_in in line


def test_every_body_has_an_example_that_is_a_valid_body(schema):
    for key, operation in operations(schema):
        if "requestBody" not in operation:
            continue
        content = operation["requestBody"]["content"]["application/json"]
        assert content.get("examples"), key
        for example in content["examples"].values():
            jsonschema.validate(example["value"], {**content["schema"], "components": schema["components"]})


def documented_codes() -> set[str]:
    """The codes docs/api.md and the schema's own error descriptions name."""
    text = (PROJECT_DIR / "docs" / "api.md").read_text() + " ".join(ERRORS.values())
    return set(re.findall(r"`([a-z][a-z_]+)`", text))


def test_error_examples_are_documented_refusals(schema):
    codes = documented_codes()
    for key, operation in operations(schema):
        for status, response in operation["responses"].items():
            examples = response.get("content", {}).get("application/json", {}).get("examples", {})
            if status < "400":
                assert not examples, key
                continue
            assert examples or status not in {"404", "405", "500"}, (key, status)
            for code, example in examples.items():
                error = example["value"]["error"]
                assert error["code"] == code and code in codes, (key, code)
                assert error["message"].endswith((".", ")")) or error["code"] == "malformed_request", (key, code)


def test_every_refusal_of_an_operation_is_shown(schema):
    described = dict(operations(schema))
    for key, documented in OPERATIONS.items():
        for refusal in documented.refusals:
            examples = described[key]["responses"][refusal.status]["content"]["application/json"]["examples"]
            assert refusal.code in examples, (key, refusal.code)


def test_sign_in_operations_document_their_rate_limit_headers(schema):
    described = dict(operations(schema))
    for key in ("POST auth/login", "POST auth/change_password"):
        responses = described[key]["responses"]
        assert responses["429"]["headers"]["Retry-After"]["required"] is True
        for response in responses.values():
            assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(response["headers"])
    others = [key for key in described if key not in ("POST auth/login", "POST auth/change_password")]
    assert not any("429" in described[key]["responses"] for key in others)


def test_lists_document_their_page_size_header(schema):
    described = dict(operations(schema))
    for key in ("GET user/payments", "GET user/receipts", "GET public/records"):
        assert "Page-Limit" in described[key]["responses"]["200"]["headers"], key
