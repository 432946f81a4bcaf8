"""Bad requests: every one gets the API's error shape and the right status, and changes nothing."""

import copy
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from tests.bank.helpers import (
    EASY_POW_BITS,
    NEW_PASSWORD,
    PAYMENT_STATES,
    Prepared,
    admin_may_vote,
    api,
    api_endpoints,
    app_token_made,
    assert_error,
    challenges_pending,
    conflict_found,
    db_snapshot,
    endpoint_path,
    filled,
    identity_opened,
    identity_registered,
    linked,
    receipt_held,
    receipt_key_certifiable,
    registration_solved,
    rotation_signed,
    ticket_requested,
    withheld_vote_signed,
)
from tests.conftest import token_client
from tests.factories import PASSWORD, InviteFactory
from trust.routing.graph import forget_all

INVITE = "bad-input-invite-code"
ALPHA_SERVER = f"alpha.{settings.INSTANCE_DOMAIN}"


@dataclass(frozen=True)
class BodyEndpoint:
    path: str
    body: dict  # a request the endpoint accepts, with every field it takes
    caller: str | None  # who is signed in: "member", "admin" or nobody
    optional: tuple[str, ...] = ()  # fields that may be left out
    kinds: dict = field(default_factory=dict)  # a field's kind of value, where not the one FIELD_KINDS gives
    # Sets up what the body acts on, on alpha's side of the world; returns the body's Prepared values.
    prepare: Callable | None = None
    # The code every bad body gets. Only invalid_input names the fields at fault.
    refusal: str = "invalid_input"
    # An endpoint with two forms of body has a row for each: the fields of the other form, left out of this one.
    others: tuple[str, ...] = ()
    # Fields whose absence the endpoint refuses with a (status, code) of its own, naming no field.
    missing: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.path} ({', '.join(self.body)})" if self.others else self.path

    @property
    def required(self) -> list[str]:
        return [name for name in self.body if name not in self.optional]


COUNTERPART = {"username": "member", "server": ALPHA_SERVER}
PAYMENT = {**COUNTERPART, "amount": "1.5", "memo": "Lunch \u2615", "tag": "food"}
PAYMENT_OPTIONAL = ("server", "memo", "tag")
RECEIPT = {"receipt": Prepared("receipt")}
PROOF = {"seed": Prepared("seed"), "nonce": Prepared("nonce")}
ROTATION = {name: Prepared(name) for name in ("new_pubkey", "effective_from", "rotation_signature")}
UNSIGNED = (403, "rotation_unsigned")

BODY_ENDPOINTS = [
    BodyEndpoint("auth/login", {"username": "member", "password": PASSWORD}, None),
    BodyEndpoint("auth/change_password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, "member"),
    BodyEndpoint("admin/create_user", {"user_id": "newcomer", "password": NEW_PASSWORD}, "admin"),
    BodyEndpoint("admin/delete_user", {"user_id": "member"}, "admin"),
    BodyEndpoint("admin/reset_password", {"user_id": "member", "new_password": NEW_PASSWORD}, "admin"),
    BodyEndpoint("invite/register", {"invite": INVITE, "username": "newcomer", "password": NEW_PASSWORD}, None),
    BodyEndpoint("user/add_account", COUNTERPART, "admin", optional=("server",)),
    BodyEndpoint("federated/add_account", COUNTERPART, "admin", optional=("server",)),
    BodyEndpoint("user/remove_account", COUNTERPART, "admin", optional=("server",), prepare=linked),
    BodyEndpoint(
        "user/set_trustline",
        {**COUNTERPART, "amount": "50"},
        "admin",
        optional=("server",),
        kinds={"amount": "limit"},
        prepare=linked,
    ),
    BodyEndpoint("user/trust_index", {"value": "0.05"}, "member"),
    BodyEndpoint("user/local_payment", PAYMENT, "admin", optional=PAYMENT_OPTIONAL, prepare=linked),
    BodyEndpoint("user/payment", PAYMENT, "admin", optional=PAYMENT_OPTIONAL, prepare=linked),
    BodyEndpoint("federated/payment", PAYMENT, "admin", optional=PAYMENT_OPTIONAL, prepare=linked),
    BodyEndpoint("user/payment/preview", PAYMENT, "admin", optional=PAYMENT_OPTIONAL, prepare=linked),
    BodyEndpoint("user/receive_payment", PAYMENT, "admin", optional=PAYMENT_OPTIONAL),
    BodyEndpoint("user/app_tokens", {"name": "Budget app", "scopes": ["read", "pay"]}, "member"),
    BodyEndpoint("ledger/verify", RECEIPT, "member", prepare=receipt_held, refusal="receipt_malformed"),
    BodyEndpoint("ledger/contest", {**RECEIPT, "other": Prepared("line")}, "member", prepare=receipt_held),
    BodyEndpoint(
        "ledger/resolve",
        {"conflict_id": Prepared("conflict_id"), "option_id": "acknowledge"},
        "member",
        kinds={"option_id": "option"},
        prepare=conflict_found,
    ),
    BodyEndpoint("ledger/second", {"ticket": Prepared("number")}, "admin", prepare=ticket_requested),
    BodyEndpoint(
        "identity/register",
        {**PROOF, "pubkey": Prepared("pubkey"), "signature": Prepared("signature")},
        "admin",
        optional=("pubkey", "signature"),
        kinds={"pubkey": "pubkey"},
        prepare=registration_solved,
    ),
    BodyEndpoint("identity/authenticate", {"pubkey": Prepared("pubkey")}, "member", prepare=identity_registered),
    # Custody 0 rotates with its passphrase, custody 1 with its app's signed rotation.
    BodyEndpoint(
        "identity/keys/rotate",
        {"passphrase": PASSWORD},
        "admin",
        others=tuple(ROTATION),
        missing={"passphrase": UNSIGNED},
        prepare=identity_opened,
    ),
    BodyEndpoint(
        "identity/keys/rotate",
        ROTATION,
        "admin",
        others=("passphrase",),
        kinds={"new_pubkey": "pubkey", "effective_from": "rotation time"},
        missing={"rotation_signature": UNSIGNED},
        prepare=rotation_signed,
    ),
    BodyEndpoint(
        "identity/receipt-key", {"signature": Prepared("signature")}, "admin", prepare=receipt_key_certifiable
    ),
    BodyEndpoint(
        "identity/challenge", {"target_pubkey": Prepared("member_pubkey")}, "admin", prepare=identity_registered
    ),
    BodyEndpoint(
        "identity/challenges/<int:challenge_id>/solve",
        {"nonce": Prepared("nonce")},
        "admin",
        prepare=challenges_pending,
    ),
    BodyEndpoint(
        "identity/propositions",
        {"title": "Open on Sundays?", "closes_at": "2099-01-01T00:00:00+00:00"},
        "admin",
        kinds={"closes_at": "time"},
    ),
    # Custody 0 votes with its passphrase, custody 1 with its app's signature and the time it signed.
    BodyEndpoint(
        "identity/propositions/<int:proposition_id>/vote",
        {"value": 1, "passphrase": PASSWORD},
        "admin",
        others=("signature", "cast_at"),
        kinds={"value": "vote"},
        prepare=admin_may_vote,
    ),
    BodyEndpoint(
        "identity/propositions/<int:proposition_id>/vote",
        {"value": 1, "signature": Prepared("signature"), "cast_at": Prepared("cast_at")},
        "admin",
        others=("passphrase",),
        kinds={"value": "vote", "cast_at": "time"},
        prepare=withheld_vote_signed,
    ),
]
# Endpoints whose bad bodies are refused with invalid_input, naming the fields at fault.
NAMING_ENDPOINTS = [endpoint for endpoint in BODY_ENDPOINTS if endpoint.refusal == "invalid_input"]
# Endpoints that take no body, and who calls them (with what the call acts on).
NO_BODY_ENDPOINTS = {
    "auth/logout": ("member", None),
    "admin/create_invite": ("admin", None),
    **{f"user/payments/<int:payment_id>/{action}": ("admin", state) for action, state in PAYMENT_STATES.items()},
    "user/app_tokens/<slug:token>/revoke": ("admin", app_token_made),
    "ledger/audit": ("member", None),
    "identity/heartbeat": ("member", None),
}

# Every field takes a string (but nonces and votes); which values it refuses depends on its kind.
NOT_STRINGS = {
    "number": 12,
    "decimal": 1.5,
    "boolean": True,
    "list": ["member"],
    "null": None,
    "object": {"username": "member"},
}
OVERSIZED = {"oversized": "x" * 10_000}
NOT_LIMITS = {
    **NOT_STRINGS,
    **OVERSIZED,
    "blank": "",
    "negative": "-1",
    "signed": "+1",
    "exponent": "1e3",
    "seven places": "1.0000001",
    "word": "twelve",
    "comma": "1,5",
    "two points": "1.2.3",
    "NaN": "NaN",
    "infinity": "Infinity",
    "hex": "0x10",
    "too large": "9999999999999.999999",
    # Strict: nothing around the digits (DRF's CharField would trim it), and ASCII digits only.
    "leading space": " 12.5",
    "trailing space": "12.5 ",
    "no-break space": "12.5\xa0",
    "newline": "12.5\n",
    "Arabic-Indic digit": "\u0661",
}
BAD_VALUES = {
    "text": {**NOT_STRINGS, "blank": "", **OVERSIZED},
    "optional text": {**NOT_STRINGS, **OVERSIZED},  # blank is as good as left out
    "limit": NOT_LIMITS,
    "amount": {**NOT_LIMITS, "zero": "0", "zero with places": "0.000000"},
    "rate": {
        **NOT_STRINGS,
        **OVERSIZED,
        "blank": "",
        "above one": "1.000001",
        "negative": "-0.1",
        "exponent": "1e-1",
        "seven places": "0.0000001",
        "word": "half",
        "trailing space": "0.05 ",
        "no-break space": "\xa00.05",
        "Arabic-Indic digit": "\u0660.05",
    },
    "memo": {**NOT_STRINGS, **OVERSIZED, "256 bytes": "\u00e9" * 128},  # 128 characters, 2 bytes each
    "tag": {**NOT_STRINGS, **OVERSIZED, "49 bytes": "\u00e9" * 24 + "x"},
    # A list of scopes; an unknown scope in it is named by its place ("scopes.0"), tested in test_app_tokens.
    "scopes": {
        **{kind: value for kind, value in NOT_STRINGS.items() if kind != "list"},
        "text": "read",
        "empty": [],
        "too many": ["read", "pay", "read"],
    },
    # A conflict's id: DRF's whole numbers (12 or "12").
    "id": {
        **{kind: value for kind, value in NOT_STRINGS.items() if kind != "number"},
        **OVERSIZED,
        "blank": "",
        "word": "twelve",
        "fraction": "1.5",
        "zero": 0,
        "past 64 bits": 2**63,  # ids are PostgreSQL bigints
    },
    # One of the conflict's options: restore_record is not one of a receipts_disagree conflict's.
    "option": {**NOT_STRINGS, **OVERSIZED, "blank": "", "not an option": "restore_record", "too long": "x" * 33},
    # {text, member_signature, server_signature}; what is wrong inside one is named by its path, tested below.
    "receipt": {
        **{kind: value for kind, value in NOT_STRINGS.items() if kind != "object"},
        "text": "2031-01-01T00:00:00Z|admin@alpha|member@alpha|1.000000",
        "blank": "",
    },
    # Another receipt, or the line of a public record: lines are numbered from 1.
    "receipt or line": {
        **{kind: value for kind, value in NOT_STRINGS.items() if kind not in ("number", "object")},
        "zero": 0,
        "negative": -3,
        "line as text": "12",
        "blank": "",
        "past 64 bits": 2**63,
        "a hundred digits": 10**100,
    },
}
TIMES = {**NOT_STRINGS, **OVERSIZED, "blank": "", "word": "tomorrow", "long ago": "2020-01-01T00:00:00+00:00"}
BAD_VALUES |= {
    # 0 to 2**64 - 1, as a JSON number.
    "nonce": {
        **{kind: value for kind, value in NOT_STRINGS.items() if kind != "number"},
        **OVERSIZED,
        "blank": "",
        "word": "twelve",
        "fraction": "1.5",
        "negative": -1,
        "too large": 2**64,
    },
    "pubkey": {**BAD_VALUES["text"], "67 characters": "02" + "ab" * 32 + "a", "not hex": "02" + "zz" * 32},
    # A time that must be in the future (closes_at), or near now (cast_at).
    "time": TIMES,
    # The time a withheld key's rotation takes effect: near now, in UTC, as Python's isoformat() writes it.
    "rotation time": {**TIMES, "not UTC": timezone.now().astimezone(timezone.get_fixed_timezone(120)).isoformat()},
    # 0 or 1, the JSON number: anything else is refused with value_invalid (KIND_REFUSALS).
    "vote": {**NOT_STRINGS, **OVERSIZED, "text": "1", "two": 2, "negative": -1},
}
# Kinds whose bad values the endpoint refuses with a code of its own, naming no field.
KIND_REFUSALS = {"vote": "value_invalid"}
FIELD_KINDS = {
    "server": "optional text",
    "amount": "amount",
    "value": "rate",
    "memo": "memo",
    "tag": "tag",
    "scopes": "scopes",
    "conflict_id": "id",
    "receipt": "receipt",
    "other": "receipt or line",
    "nonce": "nonce",
}


def kind_of(endpoint: BodyEndpoint, name: str) -> str:
    return endpoint.kinds.get(name) or FIELD_KINDS.get(name, "text")


def bad_values(endpoint: BodyEndpoint, name: str) -> dict:
    return BAD_VALUES[kind_of(endpoint, name)]


# What may be wrong inside a receipt, part by part.
BAD_RECEIPT_PARTS = {
    "text": {"number": 12, "null": None, "blank": "", "oversized": "x" * 10_000},
    **{
        signature: {"number": 12, "null": None, "blank": "", "not hex": "zz", "oversized": "ab" * 1000}
        for signature in ("member_signature", "server_signature")
    },
}


def broken_receipts(receipt: dict) -> dict[str, tuple[str, dict]]:
    """``receipt`` broken in each way, by name, with the part at fault: missing, a bad value, unknown."""
    broken = {f"{part}-missing": (part, {k: v for k, v in receipt.items() if k != part}) for part in BAD_RECEIPT_PARTS}
    for part, values in BAD_RECEIPT_PARTS.items():
        broken |= {f"{part}-{kind}": (part, {**receipt, part: value}) for kind, value in values.items()}
    return broken | {"unknown part": ("is_admin", {**receipt, "is_admin": True})}


def bad_bodies(endpoint: BodyEndpoint, body: dict) -> dict[str, object]:
    """The bad bodies the tests below send field by field, all in one table (``body`` being the valid one)."""
    bodies = {f"{name}-missing": {k: v for k, v in body.items() if k != name} for name in endpoint.required}
    for name in body:
        bodies |= {f"{name}-{kind}": {**body, name: value} for kind, value in bad_values(endpoint, name).items()}
        if kind_of(endpoint, name) == "receipt":
            bodies |= {f"{name}.{how}": {**body, name: bad} for how, (_, bad) in broken_receipts(body[name]).items()}
    return bodies | {"unknown field": {**body, "is_admin": True}, "empty object": {}, "array": [], "number": 5}


REQUIRED_FIELDS = [
    pytest.param(endpoint, name, id=f"{endpoint}.{name}") for endpoint in NAMING_ENDPOINTS for name in endpoint.required
]
BAD_FIELD_VALUES = [
    pytest.param(endpoint, name, value, id=f"{endpoint}.{name}-{kind}")
    for endpoint in NAMING_ENDPOINTS
    for name in endpoint.body
    for kind, value in bad_values(endpoint, name).items()
]
# Receipts in a body (or as the other of a contest) with something wrong inside them.
BROKEN_RECEIPTS = [
    pytest.param(endpoint, name, how, id=f"{endpoint}.{name}.{how}")
    for endpoint in NAMING_ENDPOINTS
    for name in endpoint.body
    if kind_of(endpoint, name) in ("receipt", "receipt or line")
    for how in broken_receipts({})
]
# Endpoints with a refusal of their own, and the names of their bad bodies (names only: any values do).
OWN_REFUSALS = [
    pytest.param(endpoint, how, id=f"{endpoint}-{how}")
    for endpoint in BODY_ENDPOINTS
    if endpoint not in NAMING_ENDPOINTS
    for how in bad_bodies(endpoint, filled(endpoint.body, defaultdict(dict)))
]


def test_the_table_covers_every_endpoint_that_takes_input():
    endpoints = api_endpoints()
    inputs = {path: view.Input for (_, path), view in endpoints.items() if hasattr(view, "Input")}
    assert set(inputs) == {e.path for e in BODY_ENDPOINTS}
    for endpoint in BODY_ENDPOINTS:
        fields = inputs[endpoint.path]().fields
        optional = {name for name, value in fields.items() if not value.required}
        assert set(endpoint.body) | set(endpoint.others) == set(fields), endpoint
        if endpoint.others:  # a field of one form only is required by the endpoint, not by its Input
            assert set(endpoint.optional) | set(endpoint.others) <= optional, endpoint
            assert set(fields) - optional <= set(endpoint.required), endpoint
        else:
            assert set(endpoint.optional) == optional, endpoint
    posts = {path for method, path in endpoints if method == "post"}
    assert posts == set(inputs) | set(NO_BODY_ENDPOINTS)


@pytest.fixture
def world(shared_world):
    """The world is built once for this module (tests.conftest.shared_world); each test changes it only in its own
    transaction, rolled back after it."""
    return shared_world


class Call(NamedTuple):
    client: APIClient  # signed in as the endpoint needs
    body: dict  # the endpoint's body, with its prepared values
    url: str  # the endpoint's URL on alpha, its parameters filled in


def _call(world, endpoint: BodyEndpoint) -> Call:
    """What the endpoint acts on, set up on alpha's side, and its call by the endpoint's caller, signed in now."""
    values = endpoint.prepare(world.a) if endpoint.prepare else {}
    client = token_client(getattr(world.a, endpoint.caller)) if endpoint.caller else APIClient()
    return Call(client, filled(endpoint.body, values), api("alpha", endpoint_path(endpoint.path, **values)))


class EndpointStates:
    """What the tests of one endpoint start from, set up once for each run of them.

    An endpoint's tests come one after another (the endpoint is their outer parameter), and each starts from
    the same state: the world, alpha's invite, what the endpoint acts on and its caller signed in. The first of
    a run sets it up in a savepoint of the module transaction; each test runs in a savepoint of its own above it
    (pytest-django's db) and is rolled back to it; the next test of another endpoint (or of none) rolls it back.
    """

    def __init__(self, world, blocker) -> None:
        self.world, self.blocker = world, blocker
        self.key, self.call, self.savepoint = None, None, None

    def start(self, key: tuple[bool, BodyEndpoint | None]) -> Call | None:
        """The state for ``(caller, endpoint)``: ``caller`` adds the invite, ``endpoint`` its call on top of it."""
        if (key == (False, None) and self.savepoint is None) or key == self.key:
            return self.call
        with self.blocker.unblock():
            assert len(connection.atomic_blocks) == 1, "an endpoint's state is set up outside its tests' transactions"
            if self.savepoint is not None:
                transaction.savepoint_rollback(self.savepoint)
                transaction.savepoint_commit(self.savepoint)  # released: the savepoints do not pile up
                self.key, self.call, self.savepoint = None, None, None
            if key != (False, None):
                self.savepoint = transaction.savepoint()
                self.key, self.call = key, self._set_up(*key)
        return self.call

    def _set_up(self, caller: bool, endpoint: BodyEndpoint | None) -> Call | None:
        world = copy.deepcopy(self.world)
        InviteFactory(community=world.a.community, code=INVITE)
        forget_all()  # routing graphs of earlier tests' communities never serve this one's
        if endpoint is None:
            return None
        with override_settings(REGISTRATION_POW_BITS=EASY_POW_BITS):
            return _call(world, endpoint)


@pytest.fixture(scope="module")
def endpoint_states(world_once, django_db_blocker) -> EndpointStates:
    return EndpointStates(world_once, django_db_blocker)


@pytest.fixture(autouse=True)
def _endpoint_state(request) -> tuple[BodyEndpoint | None, Call | None]:
    """Set up before the test's own transaction: the endpoint and call its tests share (see EndpointStates); for
    a test that takes no ``caller``, the world alone."""
    if "world" not in request.fixturenames:  # no database
        return None, None
    caller = "caller" in request.fixturenames
    endpoint = getattr(request.node, "callspec", None) and request.node.callspec.params.get("endpoint")
    key = (caller, endpoint if caller else None)
    return key[1], request.getfixturevalue("endpoint_states").start(key)


@pytest.fixture
def caller(_endpoint_state, world, settings):
    """Returns the call of an endpoint, once the world and what the endpoint acts on are set up."""
    settings.REGISTRATION_POW_BITS = EASY_POW_BITS
    forget_all()  # the graphs in memory may hold what an earlier test changed, then rolled back

    set_up_for, shared = _endpoint_state

    def call_for(endpoint: BodyEndpoint) -> Call:
        if shared is None or endpoint is not set_up_for:
            return _call(world, endpoint)
        # A client of this test's own (a client keeps the cookies of its answers), signed in the same way.
        client = APIClient()
        client.credentials(**shared.client._credentials)
        client.cookies = copy.deepcopy(shared.client.cookies)
        return Call(client, copy.deepcopy(shared.body), shared.url)

    return call_for


def post(call: Call, body=None, **kwargs):
    if "content_type" in kwargs:
        return call.client.post(call.url, body, **kwargs)
    return call.client.post(call.url, body, format="json")


def assert_refused(call: Call, body, status, code, *, field=None, **kwargs) -> dict:
    before = db_snapshot()
    error = assert_error(post(call, body, **kwargs), status, code, field=field)
    assert db_snapshot() == before
    return error


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=str)
def test_the_valid_bodies_are_accepted(caller, endpoint):
    """The tables' bodies are sound: the refusals below are down to what each test breaks."""
    call = caller(endpoint)
    response = post(call, call.body)

    assert response.status_code in (200, 201, 204), response.content


@pytest.mark.parametrize("endpoint", [e for e in BODY_ENDPOINTS if e.optional], ids=str)
def test_the_optional_fields_may_be_left_out(caller, endpoint):
    call = caller(endpoint)
    body = {name: call.body[name] for name in endpoint.required}

    response = post(call, body)

    assert response.status_code in (200, 201, 204), response.content


@pytest.mark.parametrize(("endpoint", "field"), REQUIRED_FIELDS)
def test_a_missing_field_is_named(caller, endpoint, field):
    call = caller(endpoint)
    body = {name: value for name, value in call.body.items() if name != field}

    if field in endpoint.missing:
        assert_refused(call, body, *endpoint.missing[field])
        return
    error = assert_refused(call, body, 400, "invalid_input", field=field)
    assert list(error["fields"]) == [field]


@pytest.mark.parametrize(("endpoint", "field", "value"), BAD_FIELD_VALUES)
def test_a_bad_value_is_named(caller, endpoint, field, value):
    call = caller(endpoint)
    body = {**call.body, field: value}

    if kind_of(endpoint, field) in KIND_REFUSALS:
        assert_refused(call, body, 400, KIND_REFUSALS[kind_of(endpoint, field)])
        return
    error = assert_refused(call, body, 400, "invalid_input", field=field)
    assert list(error["fields"]) == [field]


@pytest.mark.parametrize(("endpoint", "field", "how"), BROKEN_RECEIPTS)
def test_what_is_wrong_inside_a_receipt_is_named_by_its_path(caller, endpoint, field, how):
    call = caller(endpoint)
    part, receipt = broken_receipts(call.body["receipt"])[how]
    path = f"{field}.{part}"

    error = assert_refused(call, {**call.body, field: receipt}, 400, "invalid_input", field=path)
    assert list(error["fields"]) == [path]


@pytest.mark.parametrize(("endpoint", "how"), OWN_REFUSALS)
def test_an_endpoint_with_a_refusal_of_its_own_refuses_every_bad_body_with_it(caller, endpoint, how):
    """ledger/verify answers every bad body with receipt_malformed (naming no field), a receipt it cannot read."""
    call = caller(endpoint)

    assert_refused(call, bad_bodies(endpoint, call.body)[how], 400, endpoint.refusal)


@pytest.mark.parametrize("endpoint", NAMING_ENDPOINTS, ids=str)
def test_an_unknown_field_is_named(caller, endpoint):
    call = caller(endpoint)
    body = {**call.body, "is_admin": True}

    error = assert_refused(call, body, 400, "invalid_input", field="is_admin")
    assert list(error["fields"]) == ["is_admin"]


@pytest.mark.parametrize("endpoint", NAMING_ENDPOINTS, ids=str)
def test_an_empty_object_names_every_field(caller, endpoint):
    """Every field the Input requires; a form's own fields are checked after it, so when the Input requires
    none (keys/rotate), the endpoint refuses the first of them."""
    call = caller(endpoint)
    fields = api_endpoints()[("post", endpoint.path)].Input().fields
    required = {name for name, value in fields.items() if value.required}
    if not required:
        first = endpoint.required[0]
        if first in endpoint.missing:
            assert_refused(call, {}, *endpoint.missing[first])
        else:
            assert list(assert_refused(call, {}, 400, "invalid_input", field=first)["fields"]) == [first]
        return
    error = assert_refused(call, {}, 400, "invalid_input")

    assert set(error["fields"]) == required


# A field of an endpoint's other form, with a value of its kind.
OTHER_FORM_VALUES = {
    "passphrase": PASSWORD,
    "new_pubkey": "02" + "ab" * 32,
    "effective_from": "2031-01-01T00:00:00+00:00",
    "rotation_signature": "3006020101020101",
    "signature": "3006020101020101",
    "cast_at": "2031-01-01T00:00:00+00:00",
}


@pytest.mark.parametrize(
    ("endpoint", "field"), [pytest.param(e, name, id=f"{e}+{name}") for e in BODY_ENDPOINTS for name in e.others]
)
def test_a_body_that_mixes_the_two_forms_is_refused(caller, endpoint, field):
    """A passphrase for a key the app holds, or the app's fields for a key the server holds (docs/api.md)."""
    call = caller(endpoint)

    assert_refused(call, {**call.body, field: OTHER_FORM_VALUES[field]}, 400, "invalid_input")


@pytest.mark.parametrize(
    "raw",
    [
        '{"username": "member"',
        "{not json}",
        '{"username": NaN}',
        b"\xff\xfe\x00",
        "[" * 1000 + "]" * 1000,
        '{"a":' * 1000 + "1" + "}" * 1000,
        '{"username": "\\ud800"}',
        '{"\\udfff": "member"}',
    ],
    ids=["truncated", "not json", "NaN", "not utf-8", "nested arrays", "nested objects", "lone surrogate", "in a key"],
)
@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=str)
def test_malformed_json_is_refused(caller, endpoint, raw):
    assert_refused(caller(endpoint), raw, 400, "malformed_request", content_type="application/json")


@pytest.mark.parametrize(
    "raw", ["[]", "[{}]", "null", "5", '"member"'], ids=["array", "array of objects", "null", "number", "string"]
)
@pytest.mark.parametrize("endpoint", NAMING_ENDPOINTS, ids=str)
def test_json_that_is_not_an_object_is_refused(caller, endpoint, raw):
    error = assert_refused(caller(endpoint), raw, 400, "invalid_input", field="body", content_type="application/json")
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
    call = caller(endpoint)
    body = encode(call.body)

    assert_refused(call, body, 415, "unsupported_media_type", content_type=content_type)


def test_a_multipart_body_is_refused(caller):
    endpoint = BODY_ENDPOINTS[0]
    before = db_snapshot()

    call = caller(endpoint)
    response = call.client.post(call.url, call.body, format="multipart")

    assert_error(response, 415, "unsupported_media_type")
    assert db_snapshot() == before


# Endpoints that take no body refuse one all the same, as the others refuse unknown fields


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ('{"everywhere": true}', 400, "invalid_input"),
        ('{"role": "admin"}', 400, "invalid_input"),
        ("{bad", 400, "malformed_request"),
        ("[]", 400, "invalid_input"),
    ],
    ids=["a field", "another field", "malformed", "array"],
)
@pytest.mark.parametrize("path", NO_BODY_ENDPOINTS)
def test_a_body_where_none_is_taken_is_refused(world, path, raw, status, code):
    role, state = NO_BODY_ENDPOINTS[path]
    forget_all()
    parameters = state(world.a) if state else {}
    client = token_client(getattr(world.a, role))
    before = db_snapshot()

    response = client.post(api("alpha", endpoint_path(path, **parameters)), raw, content_type="application/json")

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
        pytest.param("post", "user/accounts", "member", id="POST user/accounts"),
        pytest.param("get", "user/payment", "member", id="GET user/payment"),
        pytest.param("put", "user/set_trustline", "member", id="PUT user/set_trustline"),
        pytest.param("delete", "user/trust_index", "member", id="DELETE user/trust_index"),
        pytest.param("get", "user/payments/1/refund", "member", id="GET user/payments/<id>/refund"),
        pytest.param("post", "user/payments/1", "member", id="POST user/payments/<id>"),
        pytest.param("post", "user/receipts", "member", id="POST user/receipts"),
    ],
)
def test_a_method_the_endpoint_does_not_serve(world, method, path, caller_role):
    client = token_client(getattr(world.a, caller_role)) if caller_role else APIClient()
    before = db_snapshot()

    response = getattr(client, method)(api("alpha", path))

    assert_error(response, 405, "method_not_allowed")
    assert method.upper() not in response["Allow"]
    assert db_snapshot() == before


@pytest.mark.parametrize(
    "path",
    [
        "nope",
        "auth/login/",
        "auth",
        "",
        "admin/list_users/extra",
        "user",
        "user/payments/",
        "user/payments/abc",
        "user/payments/-1",
        "user/payments/1/approve",
        "user/payment/preview/",
    ],
)
def test_an_unknown_path_under_the_api(world, path):
    response = token_client(world.a.admin).get(api("alpha", path))

    assert_error(response, 404, "not_found")


def test_an_unknown_community(world):
    before = db_snapshot()

    body = {"username": "member", "password": PASSWORD}

    response = APIClient().post(api("nowhere", "auth/login"), body, format="json")

    assert_error(response, 404, "community_not_found")
    assert db_snapshot() == before
