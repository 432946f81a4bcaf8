"""Requests past what the endpoints are built for: oversized and deeply nested bodies, numbers past 64 bits,
NUL in paths and queries, junk contests, and the errors Django answers itself. Each gets the API's error shape
(an error page off the API), a stable code, and changes nothing; every response carries the security headers."""

import io
import json
import logging
import re
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.test import Client
from rest_framework.test import APIClient

from bank.apis import WhoAmIApi
from config.asgi import application
from core.crypto.server import server_sign
from core.errors import ApplicationError
from core.parsers import MAX_DEPTH, JSONParser
from ledger.formats import server_signed_bytes
from ledger.models import Conflict
from tests.bank.helpers import api, assert_error, db_snapshot, linked, receipt_held
from tests.conftest import token_client
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "bank.example.org"
TEN_MEGABYTES = b" " * 10_000_000


@pytest.fixture
def world(shared_world):
    """The world is built once for this module (tests.conftest.shared_world); each test changes it only in its own
    transaction, rolled back after it."""
    return shared_world


def refused(response, status: int, code: str, before: dict, **kwargs) -> dict:
    """``assert_error``, and the database is as it was (``before``: a ``db_snapshot``)."""
    error = assert_error(response, status, code, **kwargs)
    assert db_snapshot() == before
    return error


def assert_error_page(response, status: int, code: str) -> None:
    """An HTML page for people, naming the error's code, and no traceback."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert f"<code>{code}</code>" in html and "Traceback" not in html


@pytest.fixture
def alpha_domain(world, settings):
    """alpha served at its own domain: ``/api/...`` there is alpha's API."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, DOMAIN]
    world.a.community.domain = DOMAIN
    world.a.community.save(update_fields=["domain"])
    return world.a.community


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def debug(request, settings) -> bool:
    settings.DEBUG = request.param
    return request.param


# --- bodies: size, nesting, text the database cannot store -----------------------------------------


def nested(kind: str, depth: int) -> str:
    return "[" * depth + "]" * depth if kind == "arrays" else '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize("kind", ["arrays", "objects"])
@pytest.mark.parametrize("path", ["auth/login", "invite/register"])
def test_nesting_past_the_parsers_depth_is_malformed(world, path, kind):
    before = db_snapshot()
    for depth in (MAX_DEPTH + 1, 1000, 100_000):
        response = APIClient().post(api("alpha", path), nested(kind, depth), content_type="application/json")
        error = refused(response, 400, "malformed_request", before)
        assert f"nested more than {MAX_DEPTH} levels" in error["message"]
    # As deep as the parser takes: parsed, then refused as a body of the wrong shape.
    response = APIClient().post(api("alpha", path), nested(kind, MAX_DEPTH), content_type="application/json")
    refused(response, 400, "invalid_input", before)


@pytest.mark.parametrize("field", ["memo", "tag"])
@pytest.mark.parametrize("path", ["user/payment", "user/receive_payment"])
def test_a_lone_surrogate_in_a_memo_or_tag_is_malformed(world, path, field):
    """PostgreSQL cannot store "\\ud800": it was a 500 there. A pair ("\\ud83d\\ude00", an emoji) is a character."""
    linked(world.a)
    client = token_client(world.a.admin)
    body = {"username": "member", "amount": "1", field: "\ud800"}
    before = db_snapshot()

    response = client.post(api("alpha", path), json.dumps(body), content_type="application/json")

    error = refused(response, 400, "malformed_request", before)
    assert "lone surrogate" in error["message"]
    paired = client.post(api("alpha", path), json.dumps({**body, field: "\U0001f600"}), content_type="application/json")
    assert paired.status_code == 201, paired.content


def test_the_parser_reads_no_more_than_one_byte_past_the_limit(settings):
    """A chunked body has no Content-Length for the middleware to check: the parser bounds what it reads."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    stream = io.BytesIO(b"[" + b" " * 1000 + b"]")

    with pytest.raises(ApplicationError) as refusal:
        JSONParser().parse(stream)

    assert (refusal.value.status, refusal.value.code) == (413, "payload_too_large")
    assert stream.tell() == 101


@pytest.mark.parametrize(
    ("path", "host"),
    [
        ("/c/alpha/api/auth/login", "testserver"),
        ("/api/auth/login", DOMAIN),
        ("/c/nowhere/api/auth/login", "testserver"),
    ],
    ids=["API", "API on the community's domain", "API of no community"],
)
def test_a_body_past_the_limit_is_refused_on_the_api(alpha_domain, path, host):
    before = db_snapshot()

    response = APIClient().post(path, TEN_MEGABYTES, content_type="application/json", HTTP_HOST=host)

    error = refused(response, 413, "payload_too_large", before)
    assert "2621440 bytes" in error["message"]


def test_a_body_past_the_limit_is_refused_on_a_page(world):
    before = db_snapshot()

    response = Client().post("/c/alpha/login/", TEN_MEGABYTES, content_type="application/x-www-form-urlencoded")

    assert_error_page(response, 413, "payload_too_large")
    assert db_snapshot() == before


def test_under_asgi_a_body_past_the_limit_is_refused_before_it_has_all_arrived(settings):
    """Django's ASGI handler reads a whole body before any middleware: config.asgi cuts it off at the limit."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    headers = [(b"host", b"testserver"), (b"content-type", b"application/json"), (b"content-length", b"10000000")]
    scope = {"type": "http", "method": "POST", "path": "/c/alpha/api/auth/login", "headers": headers}

    async def test() -> list[dict]:
        server = ApplicationCommunicator(application, {**scope, "query_string": b"", "scheme": "http"})
        for _ in range(3):  # 1500 bytes of the 10 MB, and the client is still sending
            await server.send_input({"type": "http.request", "body": b" " * 500, "more_body": True})
        answer = [await server.receive_output(timeout=5), await server.receive_output(timeout=5)]
        await server.send_input({"type": "http.disconnect"})
        await server.wait(timeout=5)
        return answer

    start, body = async_to_sync(test)()
    assert start["status"] == 413
    assert json.loads(body["body"])["error"]["code"] == "payload_too_large"


# --- whole numbers: ids are positive 63-bit integers (PostgreSQL bigint) ---------------------------

QUERY_NUMBERS = [
    ("public/records", "limit", None),
    ("public/records", "after", None),
    ("user/receipts", "limit", "member"),
    ("user/receipts", "before", "member"),
    ("user/payments", "limit", "member"),
    ("user/payments", "before", "member"),
]


def client_of(world, caller: str | None) -> APIClient:
    return token_client(getattr(world.a, caller)) if caller else APIClient()


@pytest.mark.parametrize(
    "value", ["9" * 5000, str(2**63), "0" * 30 + str(2**63)], ids=["5000 digits", "2**63", "zero-padded 2**63"]
)
@pytest.mark.parametrize(("path", "name", "caller"), QUERY_NUMBERS)
def test_a_query_number_past_64_bits_is_named(world, path, name, caller, value):
    client = client_of(world, caller)
    before = db_snapshot()

    response = client.get(f"{api('alpha', path)}?{name}={value}")

    error = refused(response, 400, "invalid_input", before, field=name)
    assert str(2**63 - 1) in error["message"]


@pytest.mark.parametrize(("path", "name", "caller"), QUERY_NUMBERS)
def test_the_largest_bigint_is_a_number_like_any_other(world, path, name, caller):
    assert client_of(world, caller).get(f"{api('alpha', path)}?{name}={2**63 - 1}").status_code == 200


# --- NUL in paths and queries: PostgreSQL refuses NUL in text --------------------------------------


@pytest.mark.parametrize("path", ["/c/%00/api/auth/whoami", "/c/a%00b/api/public/records", "/c/%C3%A9/api/auth/whoami"])
def test_a_slug_that_cannot_exist_is_no_community_on_the_api(world, path):
    refused(APIClient().get(path), 404, "community_not_found", db_snapshot())


@pytest.mark.parametrize("path", ["/c/%00/login/", "/c/%00/"])
def test_a_slug_that_cannot_exist_is_no_community_on_a_page(world, path):
    assert_error_page(Client().get(path), 404, "community_not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "ledger/tickets/%00"), ("get", "ledger/tickets/ab%00cd"), ("post", "user/app_tokens/app_%00/revoke")],
)
def test_nul_in_a_path_segment_is_not_found(world, method, path):
    client = token_client(world.a.admin)
    before = db_snapshot()

    response = getattr(client, method)(api("alpha", path))

    refused(response, 404, "not_found", before)


@pytest.mark.parametrize(
    ("query", "name"), [("before=%00", "before"), ("limit=1%00", "limit"), ("x=%00", "x"), ("%00=1", "\x00")]
)
def test_nul_in_a_query_is_named(world, query, name):
    client = token_client(world.a.member)
    before = db_snapshot()

    response = client.get(f"{api('alpha', 'user/payments')}?{query}")

    refused(response, 400, "invalid_input", before, field=name)


@pytest.mark.parametrize(
    "path", ["/admin/bank/member/?q=%00", "/c/alpha/login/?next=%00"], ids=["admin search", "sign-in page"]
)
def test_nul_in_a_query_is_refused_on_a_page(world, client, path):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))

    assert_error_page(client.get(path), 400, "invalid_input")


# --- the errors Django answers itself take the error shape on API paths, in debug too --------------


@pytest.mark.parametrize(
    ("path", "host"),
    [
        ("/c/alpha/api/nope", "testserver"),
        ("/api/nope", "testserver"),
        ("/c/alpha/api/user/payments/1/approve", "testserver"),
        ("/api/nope", DOMAIN),
    ],
    ids=["community API", "instance API", "no such action", "community's domain"],
)
def test_an_unknown_api_path_is_not_found(alpha_domain, debug, path, host):
    refused(APIClient().get(path, HTTP_HOST=host), 404, "not_found", db_snapshot())


def test_a_method_the_api_docs_do_not_take(world, debug):
    response = APIClient().post("/api/docs/")

    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


@pytest.fixture
def whoami_fails(monkeypatch):
    def fail(self, request):
        raise RuntimeError("a secret the client must not see")

    monkeypatch.setattr(WhoAmIApi, "get", fail)


def test_a_bug_on_the_api_is_a_json_500_logged_with_its_traceback(world, debug, whoami_fails, caplog):
    client = token_client(world.a.member)
    client.raise_request_exception = False

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get(api("alpha", "auth/whoami"))

    assert_error(response, 500, "server_error")
    assert b"secret" not in response.content and b"Traceback" not in response.content
    [record] = [record for record in caplog.records if record.name == "django.request"]
    assert record.exc_info[0] is RuntimeError


def test_a_bug_on_a_page_is_an_error_page_logged_with_its_traceback(world, monkeypatch, caplog):
    def fail(request):
        raise RuntimeError("a secret the client must not see")

    monkeypatch.setattr("bank.views.page_member", fail)
    client = Client(raise_request_exception=False)
    client.force_login(world.a.member.user)

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/c/alpha/")

    assert_error_page(response, 500, "server_error")
    assert b"secret" not in response.content
    [record] = [record for record in caplog.records if record.name == "django.request"]
    assert record.exc_info[0] is RuntimeError


# --- contests of junk store nothing ----------------------------------------------------------------


def with_receipt_id(receipt: dict, receipt_id: str) -> dict:
    return {**receipt, "text": f"{receipt['text'].rpartition('|')[0]}|{receipt_id}"}


# How each body is made from a true receipt and its record's line, and the code it is refused with.
JUNK_CONTESTS = {
    "an unknown receipt": (lambda r, line: {"receipt": with_receipt_id(r, "12345"), "other": line}, "receipt_unknown"),
    "an unknown other": (lambda r, line: {"receipt": r, "other": with_receipt_id(r, "12345")}, "receipt_unknown"),
    "an unknown line": (lambda r, line: {"receipt": r, "other": 12345}, "record_unknown"),
    "not a receipt": (lambda r, line: {"receipt": {**r, "text": "junk"}, "other": line}, "receipt_malformed"),
    "an id past 64 bits": (lambda r, _: {"receipt": with_receipt_id(r, str(2**64)), "other": 1}, "receipt_malformed"),
}


@pytest.mark.parametrize("how", JUNK_CONTESTS)
def test_a_contest_of_junk_stores_nothing(world, how):
    values = receipt_held(world.a)
    body, code = JUNK_CONTESTS[how]
    client = token_client(world.a.member)
    before = db_snapshot()

    response = client.post(api("alpha", "ledger/contest"), body(values["receipt"], values["line"]), format="json")

    refused(response, 400, code, before)


def test_a_receipt_the_server_signed_that_the_ledger_lost_is_a_conflict(world):
    """What a contest is for: the member holds a receipt that the server signed and the books no longer have."""
    values = receipt_held(world.a)
    lost = with_receipt_id(values["receipt"], "12345")
    member_signature = bytes.fromhex(lost["member_signature"])
    lost["server_signature"] = server_sign(server_signed_bytes(lost["text"], member_signature)).hex()

    response = token_client(world.a.member).post(
        api("alpha", "ledger/contest"), {"receipt": lost, "other": values["line"]}, format="json"
    )

    assert response.status_code == 200, response.content
    assert [conflict["code"] for conflict in response.json()["conflicts"]] == ["receipt_missing"]
    assert Conflict.objects.filter(community=world.a.community, code="receipt_missing", receipt_id=12345).exists()


def test_another_communitys_receipt_is_no_conflict_of_this_one(world):
    """A receipt the server signed for beta's books, contested in alpha: unknown here, nothing stored."""
    values = receipt_held(world.b)
    member_signature = bytes.fromhex(values["receipt"]["member_signature"])
    foreign = with_receipt_id(values["receipt"], "12345")
    foreign["server_signature"] = server_sign(server_signed_bytes(foreign["text"], member_signature)).hex()
    client = token_client(world.a.member)
    before = db_snapshot()

    response = client.post(api("alpha", "ledger/contest"), {"receipt": foreign, "other": 1}, format="json")

    refused(response, 400, "receipt_unknown", before)


# --- security headers on every response -------------------------------------------------------------

RESPONSES = {
    "landing page": "/",
    "sign-in page": "/c/alpha/login/",
    "API": "/c/alpha/api/public/records",
    "API error": "/c/alpha/api/auth/whoami",
    "API 404": "/c/alpha/api/nope",
    "page 404": "/c/nowhere/",
    "schema": "/api/schema/",
    "admin": "/admin/login/",
    "static file": "/static/trustbank.css",
}


def policy(response) -> dict[str, list[str]]:
    directives = (directive.split() for directive in response["Content-Security-Policy"].split(";"))
    return {name: sources for name, *sources in directives}


@pytest.mark.parametrize("path", RESPONSES.values(), ids=RESPONSES)
def test_every_response_carries_the_security_headers(world, path):
    response = Client().get(path)

    assert policy(response) == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'", "ws://testserver"],  # the identity page's live socket
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    denied = response["Permissions-Policy"].split(", ")
    assert {"camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"} <= set(denied)
    assert "Server" not in response


def test_the_live_socket_of_a_secure_page_is_wss(world):
    response = Client().get("/c/alpha/login/", secure=True)

    assert policy(response)["connect-src"] == ["'self'", "wss://testserver"]


def test_the_api_docs_may_show_data_images_and_nothing_more(world):
    response = Client().get("/api/docs/")

    assert response.status_code == 200
    assert policy(response)["img-src"] == ["'self'", "data:"]  # Swagger UI's stylesheet draws its icons so
    assert policy(response)["script-src"] == ["'self'"] and policy(response)["style-src"] == ["'self'"]
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=", html), html
    [script] = re.findall(r'<script src="(/api/docs/\?[^"]*)"', html)
    start_up = Client().get(script.replace("&amp;", "&"))
    assert start_up.status_code == 200 and start_up["Content-Type"].startswith("application/javascript")


def test_no_template_has_an_inline_script_style_or_event_handler():
    """Under ``script-src 'self'`` and ``style-src 'self'`` they would not run; scripts and styles live in static/."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)
    for template in (ROOT / "templates").rglob("*.html"):
        assert not inline.search(template.read_text()), template


def test_the_web_process_does_not_name_its_server():
    """uvicorn sends "server: uvicorn" unless told not to."""
    [web] = [line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")]

    assert "uvicorn" in web and "--no-server-header" in web.split()
