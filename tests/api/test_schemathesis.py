"""Schemathesis against a live server: every operation of the OpenAPI schema, with requests drawn from the schema
(positive) and against it (negative), under every check schemathesis has.

The server is pytest-django's live server (a threaded WSGI server on a real socket) over a community set up here:
alice, bob and carol with credit around a cycle, payments between them (so the ledger has entries and
``user/payments/{payment_id}`` finds some: sequences start at 1), a payment request bob made of alice, an admin
and dave, whose password ``auth/change_password`` may change.

Every request carries a token of its own, minted just before it is sent: ``auth/logout`` revokes the token it
is sent with, ``admin/reset_password`` and ``admin/delete_user`` end a member's tokens, and a token reused across
requests would make every request after them a 401. Who sends: the admin for operations that only admins may
call (their 403 lists ``admin_required``), dave for ``auth/change_password`` (so alice's password stays), alice
for the rest. Nothing is skipped.

Beyond schemathesis' checks, ``refused_only_for_documented_reasons``: a request the schema allows may be
refused, but only with a code about the state of things (``payee_not_found``, ``no_trust_path``,
``proof_invalid``, ...) or ``invalid_input`` for a field the operation lists under ``x-checked-by-server``,
never for its form (``invalid_input`` elsewhere, ``malformed_request``, ...): that would be a rule the schema
misses.
"""

import itertools
import re
from types import SimpleNamespace

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure
from schemathesis.generation import GenerationMode

from bank import app_tokens, auth, idempotency
from bank.schema import IDEMPOTENCY_KEY_PATTERN
from tests.bank.helpers import login
from tests.factories import CommunityFactory, MemberFactory
from tests.trust.helpers import account, credit
from trust.services.accounts import commons_of
from trust.services.payments import payment_request, payment_send

pytestmark = pytest.mark.postgres

SLUG = "fuzz"
EXAMPLES = 12  # fuzzed requests per operation, beyond the schema's examples and the coverage phase's
SEED = 20261202

CONFIG = SchemathesisConfig.from_str(f"""
seed = {SEED}

[generation]
deterministic = true

[parameters]
community_slug = "{SLUG}"

# Refusals for the state of things, which the schema cannot rule out (an invite that is not one, a proof that
# does not solve, a reused idempotency key) are 400s and 422s too: refused_only_for_documented_reasons checks
# that each is one of them.
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429", "5xx"]
""")

# Codes that speak of a request's form: schema-valid input must never get them (invalid_input is allowed
# only for the fields an operation lists under x-checked-by-server).
FORM_CODES = {"invalid_input", "malformed_request", "seed_malformed", "value_invalid", "unsupported_media_type",
              "payload_too_large", "bad_request"}


class RefusedForUndocumentedReason(Failure):
    """A schema-valid request refused for its form: the schema misses a rule the server applies."""

    kind_title = "Schema-valid request refused for its form"

    @property
    def _unique_key(self) -> str:
        return self.message


def refused_only_for_documented_reasons(ctx, response, case) -> bool | None:
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE or response.status_code < 400:
        return None
    if response.status_code >= 500:
        return None  # not_a_server_error's
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return None  # the response checks report a body outside the schema
    code = error.get("code")
    if code not in FORM_CODES:
        return None
    if code == "invalid_input":
        checked = set(case.operation.definition.raw.get("x-checked-by-server", []))
        fields = {name.split(".")[0] for name in error.get("fields", {})}
        if fields and fields <= checked:
            return None
    raise RefusedForUndocumentedReason(
        operation=case.operation.label,
        message=f"{response.status_code} {code}: {error.get('message')} (fields: {error.get('fields')})",
    )


def _world() -> SimpleNamespace:
    community = CommunityFactory(slug=SLUG)
    commons_of(community)
    members = {
        handle: MemberFactory(community=community, handle=handle)
        for handle in ("alice", "bob", "carol", "dave")
    }
    members["admin"] = MemberFactory(community=community, handle="admin", role="admin")
    credit(members["bob"], members["alice"], "100")
    credit(members["carol"], members["bob"], "100")
    credit(members["alice"], members["carol"], "100")
    alice, bob, carol = (account(members[h]) for h in ("alice", "bob", "carol"))
    payment_send(payer=alice, payee=carol, amount=5_000_000)
    payment_send(payer=carol, payee=alice, amount=2_000_000)
    payment_send(payer=alice, payee=bob, amount=1_000_000, memo="lunch")
    payment_request(payee=bob, payer=alice, amount=3_000_000, memo="rent")
    for handle in ("alice", "bob"):  # the first sign-in with a password opens a member's identity (custody 0)
        assert login(community, handle).status_code == 200
    app_tokens.app_token_create(member=members["alice"], name="budget app", scopes=["read"])  # never used: nulls
    return SimpleNamespace(community=community, **members)


@pytest.fixture
def world(live_server, django_db_reset_sequences, settings) -> SimpleNamespace:
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]  # the live server; the test client
    return _world()


@pytest.fixture
def api_schema(world, live_server):
    response = requests.get(f"{live_server.url}/api/schema/", params={"format": "json"}, timeout=30)
    assert response.status_code == 200, response.text
    loaded = schemathesis.openapi.from_dict(response.json(), config=CONFIG)
    loaded.config.update(base_url=live_server.url)
    return loaded


def sender(world: SimpleNamespace, case) -> object:
    responses = case.operation.definition.raw.get("responses", {})
    if "admin_required" in str(responses.get("403", "")):
        return world.admin
    if case.path.endswith("/auth/change_password"):
        return world.dave
    return world.alice


@pytest.fixture(autouse=True)
def _node_id(request) -> None:
    """schemathesis 4.32's lazy schemas name each operation's subtest after ``node._nodeid``, which pytest 9.2
    no longer has (it keeps the id in ``node._id``): give it the attribute it reads and writes."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


_keys = itertools.count()


def fresh_idempotency_key(case) -> None:
    """Make a well-formed Idempotency-Key unique to this request, keeping its form.

    Hypothesis draws the same few keys again and again ("0", "!"), and the same key with another body is
    refused (422 idempotency_key_reused, documented): without this most requests would not reach their view.
    A malformed key stays as it was drawn (400 invalid_input).
    """
    key = (case.headers or {}).get(idempotency.HEADER)
    if isinstance(key, str) and re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
        prefix = f"{next(_keys)}-"
        case.headers[idempotency.HEADER] = (prefix + key[len(prefix):]) if len(prefix + key) > 255 else prefix + key


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_its_schema_says(case, world, live_server):
    fresh_idempotency_key(case)
    token = auth.token_create(member=sender(world, case))
    case.call_and_validate(
        base_url=live_server.url,
        headers={"Authorization": f"Token {token}"},
        additional_checks=[refused_only_for_documented_reasons],
        timeout=30,
    )

