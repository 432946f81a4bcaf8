"""Bad requests: every one gets the API's error shape and the right status, and changes nothing."""

import json
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from tests.bank.helpers import NEW_PASSWORD, api, api_endpoints, assert_error, db_snapshot
from tests.conftest import token_client
from tests.factories import PASSWORD, InviteFactory

INVITE = "bad-input-invite-code"


@dataclass(frozen=True)
class BodyEndpoint:
    path: str
    body: dict  # a request the endpoint accepts
    caller: str | None  # who is signed in: "member", "admin" or nobody

    def __str__(self) -> str:
        return self.path


BODY_ENDPOINTS = [
    BodyEndpoint("auth/login", {"username": "member", "password": PASSWORD}, None),
    BodyEndpoint("auth/change_password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, "member"),
    BodyEndpoint("admin/create_user", {"user_id": "newcomer", "password": NEW_PASSWORD}, "admin"),
    BodyEndpoint("admin/delete_user", {"user_id": "member"}, "admin"),
    BodyEndpoint("admin/reset_password", {"user_id": "member", "new_password": NEW_PASSWORD}, "admin"),
    BodyEndpoint("invite/register", {"invite": INVITE, "username": "newcomer", "password": NEW_PASSWORD}, None),
]
FIELDS = [
    pytest.param(endpoint, field, id=f"{endpoint.path}.{field}")
    for endpoint in BODY_ENDPOINTS
    for field in endpoint.body
]
# Every field of every endpoint is a string; these are not acceptable strings.
BAD_VALUES = {
    "number": 12,
    "decimal": 1.5,
    "boolean": True,
    "list": ["member"],
    "null": None,
    "object": {"username": "member"},
    "blank": "",
    "oversized": "x" * 10_000,
}


def test_the_table_covers_every_endpoint_that_takes_input():
    inputs = {path: view.Input for (_, path), view in api_endpoints().items() if hasattr(view, "Input")}
    assert set(inputs) == {e.path for e in BODY_ENDPOINTS}
    for endpoint in BODY_ENDPOINTS:
        assert set(endpoint.body) == set(inputs[endpoint.path]().fields), endpoint


@pytest.fixture
def caller(world):
    """Returns a client for an endpoint, signed in as it needs, once the world is set up."""
    InviteFactory(community=world.a.community, code=INVITE)

    def client_for(endpoint: BodyEndpoint) -> APIClient:
        return token_client(getattr(world.a, endpoint.caller)) if endpoint.caller else APIClient()

    return client_for


def post(client: APIClient, endpoint: BodyEndpoint, body=None, **kwargs):
    if "content_type" in kwargs:
        return client.post(api("alpha", endpoint.path), body, **kwargs)
    return client.post(api("alpha", endpoint.path), body, format="json")


def assert_refused(client, endpoint, body, status, code, *, field=None, **kwargs) -> dict:
    before = db_snapshot()
    error = assert_error(post(client, endpoint, body, **kwargs), status, code, field=field)
    assert db_snapshot() == before
    return error


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=str)
def test_the_valid_bodies_are_accepted(caller, endpoint):
    """The tables' bodies are sound: the refusals below are down to what each test breaks."""
    response = post(caller(endpoint), endpoint, endpoint.body)

    assert response.status_code in (200, 201, 204), response.content


@pytest.mark.parametrize(("endpoint", "field"), FIELDS)
def test_a_missing_field_is_named(caller, endpoint, field):
    body = {name: value for name, value in endpoint.body.items() if name != field}

    error = assert_refused(caller(endpoint), endpoint, body, 400, "invalid_input", field=field)
    assert error["fields"] == {field: ["This field is required."]}


@pytest.mark.parametrize("value", BAD_VALUES.values(), ids=BAD_VALUES.keys())
@pytest.mark.parametrize(("endpoint", "field"), FIELDS)
def test_a_bad_value_is_named(caller, endpoint, field, value):
    body = {**endpoint.body, field: value}

    error = assert_refused(caller(endpoint), endpoint, body, 400, "invalid_input", field=field)
    assert list(error["fields"]) == [field]


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=str)
def test_an_unknown_field_is_named(caller, endpoint):
    body = {**endpoint.body, "is_admin": True}

    error = assert_refused(caller(endpoint), endpoint, body, 400, "invalid_input", field="is_admin")
    assert list(error["fields"]) == ["is_admin"]


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=str)
def test_an_empty_object_names_every_field(caller, endpoint):
    error = assert_refused(caller(endpoint), endpoint, {}, 400, "invalid_input")

    assert set(error["fields"]) == set(endpoint.body)


@pytest.mark.parametrize(
    "raw",
    ['{"username": "member"', "{not json}", '{"username": NaN}', b"\xff\xfe\x00"],
    ids=["truncated", "not json", "NaN", "not utf-8"],
)
@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=str)
def test_malformed_json_is_refused(caller, endpoint, raw):
    assert_refused(caller(endpoint), endpoint, raw, 400, "malformed_request", content_type="application/json")


@pytest.mark.parametrize(
    "raw", ["[]", "[{}]", "null", "5", '"member"'], ids=["array", "array of objects", "null", "number", "string"]
)
@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=str)
def test_json_that_is_not_an_object_is_refused(caller, endpoint, raw):
    error = assert_refused(
        caller(endpoint), endpoint, raw, 400, "invalid_input", field="body", content_type="application/json"
    )
    assert list(error["fields"]) == ["body"]


@pytest.mark.parametrize(
    ("content_type", "encode"),
    [
        ("application/x-www-form-urlencoded", lambda body: "&".join(f"{k}={v}" for k, v in body.items())),
        ("text/plain", json.dumps),
        ("application/xml", lambda body: "<body/>"),
    ],
    ids=["form", "text", "xml"],
)
@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=str)
def test_a_body_that_is_not_json_is_refused(caller, endpoint, content_type, encode):
    body = encode(endpoint.body)

    assert_refused(caller(endpoint), endpoint, body, 415, "unsupported_media_type", content_type=content_type)


def test_a_multipart_body_is_refused(caller):
    endpoint = BODY_ENDPOINTS[0]
    before = db_snapshot()

    response = caller(endpoint).post(api("alpha", endpoint.path), endpoint.body, format="multipart")

    assert_error(response, 415, "unsupported_media_type")
    assert db_snapshot() == before


# Endpoints that take no body refuse one all the same, as the others refuse unknown fields


@pytest.mark.parametrize(
    ("path", "caller_role", "raw", "status", "code"),
    [
        ("admin/create_invite", "admin", '{"role": "admin"}', 400, "invalid_input"),
        ("admin/create_invite", "admin", "{bad", 400, "malformed_request"),
        ("auth/logout", "member", '{"everywhere": true}', 400, "invalid_input"),
        ("auth/logout", "member", "[]", 400, "invalid_input"),
    ],
)
def test_a_body_where_none_is_taken_is_refused(world, path, caller_role, raw, status, code):
    client = token_client(getattr(world.a, caller_role))
    before = db_snapshot()

    response = client.post(api("alpha", path), raw, content_type="application/json")

    assert_error(response, status, code)
    assert db_snapshot() == before


# Methods, paths and communities


@pytest.mark.parametrize(
    ("method", "path", "caller_role"),
    [
        pytest.param("get", "auth/login", None, id="GET auth/login"),
        pytest.param("get", "invite/register", None, id="GET invite/register"),
        pytest.param("get", "admin/create_user", "admin", id="GET admin/create_user"),
        pytest.param("post", "auth/whoami", "member", id="POST auth/whoami"),
        pytest.param("delete", "admin/list_users", "admin", id="DELETE admin/list_users"),
    ],
)
def test_a_method_the_endpoint_does_not_serve(world, method, path, caller_role):
    client = token_client(getattr(world.a, caller_role)) if caller_role else APIClient()
    before = db_snapshot()

    response = getattr(client, method)(api("alpha", path))

    assert_error(response, 405, "method_not_allowed")
    assert method.upper() not in response["Allow"]
    assert db_snapshot() == before


@pytest.mark.parametrize("path", ["nope", "auth/login/", "auth", "", "admin/list_users/extra"])
def test_an_unknown_path_under_the_api(world, path):
    response = token_client(world.a.admin).get(api("alpha", path))

    assert_error(response, 404, "not_found")


def test_an_unknown_community(world):
    before = db_snapshot()

    body = {"username": "member", "password": PASSWORD}

    response = APIClient().post(api("nowhere", "auth/login"), body, format="json")

    assert_error(response, 404, "community_not_found")
    assert db_snapshot() == before
