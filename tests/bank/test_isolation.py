"""Tenant isolation: nothing signed in to community A works on community B.

ENDPOINTS is the table of every community API endpoint; test_the_table_covers_every_endpoint
fails when an endpoint is added under /c/<slug>/api/ without a row here. Public endpoints answer
anyone, about the community asked only.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from ledger import selectors as ledger_selectors
from ledger.formats import parse_record
from tests.bank.helpers import (
    EASY_POW_BITS,
    NEW_PASSWORD,
    PAYMENT_STATES,
    Prepared,
    admin_may_vote,
    admin_paid,
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
    proposition_opened,
    receipt_held,
    receipt_key_certifiable,
    registration_solved,
    session_client,
    ticket_requested,
)
from tests.conftest import token_client
from tests.factories import PASSWORD, InviteFactory, MemberFactory
from trust.routing.graph import forget_all

ALPHA_INVITE = "alpha-invite-code"
BETA_PASSWORD = "beta-has-passwords-of-its-own"
ACTOR = object()  # stands for the handle of the member making the request


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    body: dict | None = None
    # The endpoints that need no authentication refuse with their own error; all others say not_a_member.
    refusal: tuple[int, str] = (403, "not_a_member")
    # Sets up what the request acts on in a community (both are set up); returns the URL's parameters
    # and the body's Prepared values.
    prepare: Callable | None = None
    # Answers anyone, signed in anywhere or not, about the community asked (so beta's, on beta).
    public: bool = False

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"

    def prepared(self, side) -> tuple[str, dict]:
        """Sets up what the request acts on in the side's community; returns the request's URL there and the values."""
        values = self.prepare(side) if self.prepare else {}
        return api(side.community, endpoint_path(self.path, **values)), values


PAYMENT = {"username": "member", "amount": "1"}
RECEIPT = {"receipt": Prepared("receipt")}
RESOLUTION = {"conflict_id": Prepared("conflict_id"), "option_id": "acknowledge"}
PROOF = {"seed": Prepared("seed"), "nonce": Prepared("nonce")}
PROPOSITION = {"title": "Open on Sundays?", "closes_at": "2099-01-01T00:00:00+00:00"}
ENDPOINTS = [
    Endpoint("post", "auth/login", {"username": ACTOR, "password": PASSWORD}, (401, "invalid_credentials")),
    Endpoint("post", "auth/logout"),
    Endpoint("get", "auth/whoami"),
    Endpoint("post", "auth/change_password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}),
    Endpoint("post", "admin/create_user", {"user_id": "intruder", "password": NEW_PASSWORD}),
    Endpoint("post", "admin/delete_user", {"user_id": "member"}),
    Endpoint("post", "admin/reset_password", {"user_id": "member", "new_password": NEW_PASSWORD}),
    Endpoint("get", "admin/list_users"),
    Endpoint("post", "admin/create_invite"),
    Endpoint(
        "post",
        "invite/register",
        {"invite": ALPHA_INVITE, "username": "intruder", "password": NEW_PASSWORD},
        (404, "invite_invalid"),
    ),
    Endpoint("get", "user/accounts"),
    Endpoint("post", "user/add_account", {"username": "member"}),
    Endpoint("post", "federated/add_account", {"username": "member"}),
    Endpoint("post", "user/remove_account", {"username": "member"}, prepare=linked),
    Endpoint("post", "user/set_trustline", {"username": "member", "amount": "5"}, prepare=linked),
    Endpoint("get", "user/trust_index"),
    Endpoint("post", "user/trust_index", {"value": "0.5"}),
    Endpoint("post", "user/local_payment", PAYMENT, prepare=linked),
    Endpoint("post", "user/payment", PAYMENT, prepare=linked),
    Endpoint("post", "federated/payment", PAYMENT, prepare=linked),
    Endpoint("post", "user/payment/preview", PAYMENT, prepare=linked),
    Endpoint("post", "user/receive_payment", PAYMENT),
    Endpoint("get", "user/payments"),
    Endpoint("get", "user/payments/<int:payment_id>", prepare=admin_paid),
    *(
        Endpoint("post", f"user/payments/<int:payment_id>/{action}", prepare=state)
        for action, state in PAYMENT_STATES.items()
    ),
    Endpoint("get", "user/receipts"),
    Endpoint("get", "user/app_tokens"),
    Endpoint("post", "user/app_tokens", {"name": "App", "scopes": ["read", "pay"]}),
    Endpoint("post", "user/app_tokens/<slug:token>/revoke", prepare=app_token_made),
    Endpoint("get", "public/records", prepare=admin_paid, public=True),
    Endpoint("get", "ledger/balance", prepare=admin_paid),
    Endpoint("post", "ledger/verify", RECEIPT, prepare=receipt_held),
    Endpoint("post", "ledger/contest", {**RECEIPT, "other": Prepared("line")}, prepare=receipt_held),
    Endpoint("post", "ledger/audit"),
    Endpoint("post", "ledger/second", {"ticket": Prepared("number")}, prepare=ticket_requested),
    Endpoint("get", "ledger/tickets/<slug:number>", prepare=ticket_requested),
    Endpoint("post", "ledger/resolve", RESOLUTION, prepare=conflict_found),
    Endpoint("get", "identity/status", prepare=identity_registered),
    Endpoint("get", "identity/identities", prepare=identity_registered),
    Endpoint("get", "identity/my-identity", prepare=identity_opened),
    Endpoint("post", "identity/register", PROOF, prepare=registration_solved),
    Endpoint("post", "identity/authenticate", {"pubkey": Prepared("pubkey")}, prepare=identity_registered),
    Endpoint("post", "identity/keys/rotate", {"passphrase": PASSWORD}, prepare=identity_opened),
    Endpoint("get", "identity/receipt-key", prepare=identity_opened),
    Endpoint("post", "identity/receipt-key", {"signature": Prepared("signature")}, prepare=receipt_key_certifiable),
    Endpoint("post", "identity/heartbeat", prepare=identity_opened),
    Endpoint("post", "identity/challenge", {"target_pubkey": Prepared("member_pubkey")}, prepare=identity_registered),
    Endpoint("get", "identity/challenges", prepare=challenges_pending),
    Endpoint("get", "identity/incoming-challenges", prepare=challenges_pending),
    Endpoint("get", "identity/issued-challenges", prepare=challenges_pending),
    Endpoint(
        "post", "identity/challenges/<int:challenge_id>/solve", {"nonce": Prepared("nonce")}, prepare=challenges_pending
    ),
    Endpoint("get", "identity/propositions", prepare=proposition_opened),
    Endpoint("post", "identity/propositions", PROPOSITION),
    Endpoint("get", "identity/propositions/<int:proposition_id>", prepare=proposition_opened),
    Endpoint(
        "post",
        "identity/propositions/<int:proposition_id>/vote",
        {"value": 1, "passphrase": PASSWORD},
        prepare=admin_may_vote,
    ),
    Endpoint("get", "user/reputation", prepare=admin_paid),
]
PAYMENT_ENDPOINTS = [endpoint for endpoint in ENDPOINTS if "<int:payment_id>" in endpoint.path]
PRIVATE_ENDPOINTS = [endpoint for endpoint in ENDPOINTS if not endpoint.public]
PUBLIC_ENDPOINTS = [endpoint for endpoint in ENDPOINTS if endpoint.public]


def test_the_table_covers_every_endpoint():
    assert set(api_endpoints()) == {(e.method, e.path) for e in ENDPOINTS}


@pytest.fixture
def world(shared_world):
    """The world is built once for this module (tests.conftest.shared_world); each test changes it only in its own
    transaction, rolled back after it."""
    return shared_world


@pytest.fixture
def sides(world, settings):
    """The world, with an invite into alpha and beta's members on passwords alpha's members don't have."""
    settings.REGISTRATION_POW_BITS = EASY_POW_BITS
    forget_all()  # routing graphs of earlier tests' communities never serve this one's
    InviteFactory(community=world.a.community, code=ALPHA_INVITE)
    for member in (world.b.admin, world.b.member):
        member.user.set_password(BETA_PASSWORD)
        member.user.save()
    return world


def body_for(endpoint: Endpoint, actor, values: dict) -> dict | None:
    if endpoint.body is None:
        return None
    return {key: actor.handle if value is ACTOR else value for key, value in filled(endpoint.body, values).items()}


def signed_in(actor, how: str):
    return token_client(actor) if how == "token" else session_client(actor)


@pytest.mark.parametrize("how", ["token", "session"])
@pytest.mark.parametrize("role", ["member", "admin"])
@pytest.mark.parametrize("endpoint", PRIVATE_ENDPOINTS, ids=str)
def test_nothing_from_alpha_works_on_beta(sides, endpoint, role, how):
    actor = getattr(sides.a, role)
    client = signed_in(actor, how)
    endpoint.prepared(sides.a)  # alpha is ready for the request too: it is refused for being on beta alone
    url, values = endpoint.prepared(sides.b)
    before = db_snapshot()

    response = getattr(client, endpoint.method)(url, body_for(endpoint, actor, values), format="json")

    assert_error(response, *endpoint.refusal)
    assert db_snapshot() == before


def public_records(community) -> list[dict]:
    return [parse_record(line)._asdict() for line in ledger_selectors.records_lines(community=community)]


@pytest.mark.parametrize("how", ["token", "session"])
@pytest.mark.parametrize("role", ["member", "admin"])
@pytest.mark.parametrize("endpoint", PUBLIC_ENDPOINTS, ids=str)
def test_alpha_reads_betas_public_records_and_only_betas(sides, endpoint, role, how):
    """Public records are anyone's to read; beta's answer holds beta's records, none of alpha's."""
    client = signed_in(getattr(sides.a, role), how)
    endpoint.prepared(sides.a)
    url, _ = endpoint.prepared(sides.b)
    alpha, beta = public_records(sides.a.community), public_records(sides.b.community)
    assert alpha and beta
    before = db_snapshot()

    response = getattr(client, endpoint.method)(url, format="json")

    assert response.status_code == 200, response.content
    records = response.json()["records"]
    assert records == beta
    assert not [record for record in records if record in alpha]
    assert db_snapshot() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_the_same_requests_work_on_alpha(sides, endpoint):
    """The matrix's requests are sound: refused on beta only because beta is not alpha."""
    actor = sides.a.admin
    url, values = endpoint.prepared(sides.a)
    response = getattr(token_client(actor), endpoint.method)(url, body_for(endpoint, actor, values), format="json")

    assert response.status_code in (200, 201, 204), response.content


def test_an_admin_cannot_reach_another_communitys_member_by_user_id(sides):
    MemberFactory(community=sides.b.community, handle="beta-only")
    client = token_client(sides.a.admin)
    before = db_snapshot()

    for path, body in [
        ("admin/delete_user", {"user_id": "beta-only"}),
        ("admin/reset_password", {"user_id": "beta-only", "new_password": NEW_PASSWORD}),
    ]:
        assert_error(client.post(api("alpha", path), body, format="json"), 404, "user_not_found")
    assert db_snapshot() == before


def test_a_token_speaks_only_for_its_own_membership(sides):
    """A login in both communities: its alpha token is refused on beta, its session is not."""
    MemberFactory(user=sides.a.member.user, community=sides.b.community, handle="traveller")

    assert_error(token_client(sides.a.member).get(api("beta", "auth/whoami")), 403, "not_a_member")
    response = session_client(sides.a.member).get(api("beta", "auth/whoami"))
    assert response.status_code == 200
    assert response.json()["username"] == "traveller"


@pytest.mark.parametrize("endpoint", PAYMENT_ENDPOINTS, ids=str)
def test_a_payment_of_beta_is_not_found_through_alpha(sides, endpoint):
    """Beta's payment id in alpha's URL, by an alpha admin who has a payment of that kind of their own."""
    endpoint.prepare(sides.a)
    beta_payment = endpoint.prepare(sides.b)
    url = api("alpha", endpoint_path(endpoint.path, **beta_payment))
    client = token_client(sides.a.admin)
    before = db_snapshot()

    response = getattr(client, endpoint.method)(url, format="json")

    assert_error(response, 404, "payment_not_found")
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("user/add_account", {"username": "beta-only"}, "payee_not_found"),
        ("user/set_trustline", {"username": "beta-only", "amount": "5"}, "trustline_not_found"),
        ("user/remove_account", {"username": "beta-only"}, "trustline_not_found"),
        ("user/payment", {"username": "beta-only", "amount": "1"}, "payee_not_found"),
        ("user/local_payment", {"username": "beta-only", "amount": "1"}, "payee_not_found"),
        ("user/payment/preview", {"username": "beta-only", "amount": "1"}, "payee_not_found"),
        ("user/receive_payment", {"username": "beta-only", "amount": "1"}, "payer_not_found"),
    ],
)
@pytest.mark.parametrize("with_server", [False, True], ids=["handle", "handle and beta's server"])
def test_a_member_of_beta_is_unknown_in_alpha(sides, path, body, code, with_server):
    """Neither by handle alone nor with beta's server: accounts of other communities are not federated yet."""
    MemberFactory(community=sides.b.community, handle="beta-only")
    beta_server = sides.b.community.address_domain
    if with_server:
        body = {**body, "server": beta_server}
    client = token_client(sides.a.member)
    before = db_snapshot()

    error = assert_error(client.post(api("alpha", path), body, format="json"), 404, code)

    assert (beta_server if with_server else "beta-only") in error["message"]
    assert db_snapshot() == before
