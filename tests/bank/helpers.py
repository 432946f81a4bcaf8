"""Small helpers the API tests share: URLs, error assertions, database snapshots, clients, money states."""

import os
import re
import weakref
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.sql.compiler import SQLCompiler
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from bank.app_tokens import app_token_create
from bank.models import AuthToken, Community, Invite, Member
from core.crypto import p256
from core.crypto.signatures import receipt_key_text
from core.money import MICRO
from identity import pow
from identity.models import Block, Challenge, Identity, IdentityKey, ProofSeed, Proposition, Review, Vote
from identity.selectors import key_in_force
from identity.services import challenges, custody, registration, votes
from ledger import selectors as ledger_selectors
from ledger.models import Conflict, Entry, Head, Ticket
from ledger.services import motions
from tests.factories import PASSWORD
from tests.identity.test_score import months_of_payments
from tests.trust.helpers import account, mutual_credit
from trust.models import Account, Payment, PaymentLeg, Trustline
from trust.services import payments

API_ROUTE = "c/<slug:community_slug>/api/"
# Passes every configured password validator and differs from tests.factories.PASSWORD.
NEW_PASSWORD = "a-fresh-passphrase-for-2031"
WEAK_PASSWORD = "123"
# REGISTRATION_POW_BITS for the tables' registrations (20 would take a second or more per proof).
EASY_POW_BITS = 6


def api(community, suffix: str) -> str:
    """The URL of a community API endpoint; ``community`` is a Community or a slug."""
    slug = community if isinstance(community, str) else community.slug
    return f"/c/{slug}/api/{suffix}"


def assert_error(response, status: int, code: str, *, field: str | None = None, **extra) -> dict:
    """Assert the API's one error shape and return its ``error`` object.

    ``{"error": {"code", "message"}}`` exactly; validation errors (``invalid_input``) also carry
    ``fields``. With ``field``, the message and ``fields`` must name that field. ``extra`` are the
    further members the error must carry, with their values (``max_sendable="5.000000"``).
    """
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    expected_keys = {"code", "message", "fields"} if code == "invalid_input" else {"code", "message"}
    assert set(error) == expected_keys | set(extra), error
    assert {key: error[key] for key in extra} == extra, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    if code == "invalid_input":
        assert isinstance(error["fields"], dict) and error["fields"], error
        assert all(isinstance(m, str) for messages in error["fields"].values() for m in messages), error
    if field is not None:
        assert field in error["fields"], error
        assert error["message"].startswith(f"{field}: "), error
    return error


SNAPSHOT_MODELS = {
    "communities": Community,
    "users": get_user_model(),
    "members": Member,
    "invites": Invite,
    "tokens": AuthToken,
    "accounts": Account,
    "trustlines": Trustline,
    "payments": Payment,
    "legs": PaymentLeg,
    "ledger heads": Head,
    "ledger entries": Entry,
    "tickets": Ticket,
    "conflicts": Conflict,
    "identities": Identity,
    "identity keys": IdentityKey,
    "proof seeds": ProofSeed,
    "challenges": Challenge,
    "identity chain": Block,
    "identity reviews": Review,
    "propositions": Proposition,
    "votes": Vote,
}


def db_snapshot() -> dict:
    """Everything the API can change: communities, logins, memberships, invites, tokens, the money, the books,
    identities (keys, proofs, challenges, the chain) and votes.

    ``{name: list(model.objects.order_by("pk").values())}``, the very rows and values: the queries are the ones
    the ORM compiles, once per connection, and their rows go through the ORM's converters. On PostgreSQL all
    of them go in one round trip (the tables' tests take two snapshots each, a tenth of the time of 42 queries).
    """
    connection = connections[DEFAULT_DB_ALIAS]
    plan = _snapshot_plans.get(connection)
    if plan is None:
        plan = _snapshot_plans[connection] = _snapshot_plan(connection)
    snapshot = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # several statements in one execute, their results one by one
            cursor.execute(";\n".join(query.sql for query in plan))
            for index, query in enumerate(plan):
                if index:
                    cursor.nextset()
                snapshot[query.name] = query.rows(cursor.fetchall())
        else:
            for query in plan:
                cursor.execute(query.sql)
                snapshot[query.name] = query.rows(cursor.fetchall())
    return snapshot


@dataclass(frozen=True)
class _SnapshotQuery:
    """``model.objects.order_by("pk").values()`` compiled: its SQL, and how ValuesIterable makes its rows dicts."""

    name: str
    sql: str
    compiler: SQLCompiler
    converters: dict
    columns: list[str]

    def rows(self, fetched: list[tuple]) -> list[dict]:
        if self.converters:
            fetched = self.compiler.apply_converters(fetched, self.converters)
        return [dict(zip(self.columns, row, strict=True)) for row in fetched]


def _snapshot_plan(connection) -> list[_SnapshotQuery]:
    plan = []
    for name, model in SNAPSHOT_MODELS.items():
        query = model.objects.order_by("pk").values().query
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        assert not params, (name, sql, params)
        converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
        columns = [*query.extra_select, *query.values_select, *query.annotation_select]
        plan.append(_SnapshotQuery(name, sql, compiler, converters, columns))
    return plan


_snapshot_plans: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def session_client(member) -> APIClient:
    """An API client signed in by session (as the web pages sign in) as ``member``'s login."""
    client = APIClient()
    client.force_login(member.user)
    return client


class ApiUser:
    """A member signed in to the API by token (as ``tests.conftest.token_client``), calling endpoints by path."""

    def __init__(self, member) -> None:
        self.member = member
        self.client = APIClient()
        response = login(member.community, member.handle, client=self.client)
        assert response.status_code == 200, response.content
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")

    def get(self, path: str, params: dict | None = None):
        return self.client.get(api(self.member.community, path), params)

    def post(self, path: str, body: dict | None = None):
        return self.client.post(api(self.member.community, path), body, format="json")

    def accounts(self) -> dict[str, dict]:
        """user/accounts as ``{username: row}``."""
        response = self.get("user/accounts")
        assert response.status_code == 200, response.content
        rows = response.json()["accounts"]
        assert len({row["username"] for row in rows}) == len(rows), rows
        return {row["username"]: row for row in rows}


def login(community, username: str, password: str = PASSWORD, *, client: APIClient | None = None, **extra):
    """POST auth/login; ``extra`` goes to the request (e.g. ``REMOTE_ADDR``)."""
    client = client or APIClient()
    body = {"username": username, "password": password}
    return client.post(api(community, "auth/login"), body, format="json", **extra)


def _routes(resolver: URLResolver, prefix: str = ""):
    """(full route, view) for every URL pattern under ``resolver``, however deeply included."""
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.callback


def api_endpoints() -> dict[tuple[str, str], type]:
    """{(method, path): view class} for every community API endpoint, as the URLconf serves them."""
    endpoints = {}
    for route, callback in _routes(get_resolver()):
        view = getattr(callback, "view_class", None)
        if not route.startswith(API_ROUTE) or view is None:
            continue
        for method in view.http_method_names:
            if method not in ("options", "head") and hasattr(view, method):
                endpoints[(method, route.removeprefix(API_ROUTE))] = view
    return endpoints


def endpoint_path(route: str, **kwargs) -> str:
    """A URL route with its parameters filled in: ``user/payments/<int:payment_id>`` -> ``user/payments/7``."""
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(kwargs[match.group(1)]), route)


@dataclass(frozen=True)
class Prepared:
    """A body value that only exists once the endpoint's ``prepare`` has run: its answer's ``name``."""

    name: str


def filled(body: dict, values: dict) -> dict:
    """``body`` with each Prepared value replaced by the prepared one."""
    return {key: values[value.name] if isinstance(value, Prepared) else value for key, value in body.items()}


# Money and ledger states the endpoints' tables start from, on one side of the world (its admin and
# member). Each returns the URL parameters of the endpoint it prepares and the values its body takes.


def linked(side) -> dict:
    """The admin and the member extend 100 of credit to each other."""
    mutual_credit(side.admin, side.member, "100")
    return {}


def _paid(payer, payee) -> Payment:
    return payments.payment_send(payer=account(payer), payee=account(payee), amount=MICRO)


def admin_paid(side) -> dict:
    """The admin has paid the member 1."""
    linked(side)
    return {"payment_id": _paid(side.admin, side.member).pk}


def admin_was_paid(side) -> dict:
    """The member has paid the admin 1; the admin has not answered."""
    linked(side)
    return {"payment_id": _paid(side.member, side.admin).pk}


def admin_accepted(side) -> dict:
    """The member has paid the admin 1 and the admin has accepted it."""
    payment_id = admin_was_paid(side)["payment_id"]
    payment = Payment.objects.get(pk=payment_id)
    payments.payment_change_status(payment=payment, account=account(side.admin), action="accept")
    return {"payment_id": payment_id}


def admin_is_asked(side) -> dict:
    """The member has asked the admin for 1 (a pending payment request)."""
    linked(side)
    request = payments.payment_request(payee=account(side.member), payer=account(side.admin), amount=MICRO)
    return {"payment_id": request.pk}


# The payment each status action of the admin's can be taken on.
PAYMENT_STATES = {
    "dispute": admin_paid,
    "cancel": admin_is_asked,
    "decline": admin_was_paid,
    "accept": admin_is_asked,
    "refund": admin_accepted,
}


def app_token_made(side) -> dict:
    """The admin has an app token (for user/app_tokens/<token>/revoke)."""
    app_token, _ = app_token_create(member=side.admin, name="App", scopes=["read"])
    return {"token": app_token.token}


def receipt_held(side) -> dict:
    """The admin has paid the member 1: its newest signed receipt, and the line of that receipt's public record."""
    admin_paid(side)
    [receipt] = ledger_selectors.receipts_page(account=account(side.admin), before=None, limit=1)
    signed = {key: receipt[key] for key in ("text", "member_signature", "server_signature")}
    return {"receipt": signed, "line": receipt["receipt_id"] + 1}  # line n is receipt n - 1


def ticket_requested(side) -> dict:
    """The member has moved an audit: a ticket the admin may second."""
    return {"number": motions.audit_request(member=side.member).number}


def conflict_found(side) -> dict:
    """A contest found two receipts that differ: a conflict to resolve (it may be acknowledged)."""
    code = "receipts_disagree"
    conflict = Conflict.objects.create(
        community=side.community,
        code=code,
        description="Two receipts with the same receipt id differ.",
        options=motions.conflict_options(code),
    )
    return {"conflict_id": conflict.pk}


# Identity states. An identity opens at its member's first sign-in, its key sealed under the password
# (identity.handlers); registrations prove REGISTRATION_POW_BITS of work (the tables set EASY_POW_BITS).


def _key(member) -> str:
    return key_in_force(identity=Identity.objects.get(member=member), at=timezone.now()).public_key


def proof_over(*pubkeys: str) -> dict:
    """``{seed, nonce}``: one proof of REGISTRATION_POW_BITS of work over each of the keys."""
    seed, bits, nonce = os.urandom(pow.SEED_BYTES), settings.REGISTRATION_POW_BITS, 0
    first, *others = [pow.challenge_for(bytes.fromhex(pubkey), seed) for pubkey in pubkeys]
    while True:
        nonce = pow.solve(first, bits, nonce)
        if all(pow.proof_valid(challenge, nonce, bits) for challenge in others):
            return {"seed": seed.hex(), "nonce": nonce}
        nonce += 1


def identity_opened(side) -> dict:
    """The admin and the member have signed in (custody 0, keys sealed under PASSWORD): the admin's key."""
    for member in (side.admin, side.member):
        registration.identity_open(member=member, passphrase=PASSWORD)
    return {"pubkey": _key(side.admin)}


def identity_registered(side) -> dict:
    """Both identities are open and registered: the admin's key and the member's."""
    identity_opened(side)
    for member in (side.admin, side.member):
        proof = proof_over(_key(member))
        registration.identity_register(member=member, seed_hex=proof["seed"], nonce=proof["nonce"])
    return {"pubkey": _key(side.admin), "member_pubkey": _key(side.member)}


def registration_solved(side) -> dict:
    """The admin's identity is open, not registered; a proof over its key that is also one over a new
    withheld key, that key and its signature over the seed: identity/register's body in either form."""
    identity_opened(side)
    withheld = p256.new_key()
    pubkey = p256.compressed_hex(withheld.public_key())
    proof = proof_over(_key(side.admin), pubkey)
    signature = p256.sign(withheld, bytes.fromhex(proof["seed"])).hex()
    return {**proof, "pubkey": pubkey, "signature": signature}


def _withheld(member):
    """``member`` registers a withheld key (custody 1) as its app would; returns the private key."""
    private = p256.new_key()
    pubkey = p256.compressed_hex(private.public_key())
    proof = proof_over(pubkey)
    registration.identity_register_withheld(
        member=member,
        pubkey_hex=pubkey,
        seed_hex=proof["seed"],
        nonce=proof["nonce"],
        signature_hex=p256.sign(private, bytes.fromhex(proof["seed"])).hex(),
    )
    return private


def rotation_signed(side) -> dict:
    """The admin's app holds its key (custody 1) and has signed a rotation to a new one, effective now."""
    identity_opened(side)
    previous, new = _withheld(side.admin), p256.new_key()
    new_pubkey, effective_from = p256.compressed_hex(new.public_key()), timezone.now()
    text = custody.rotation_text(public_key=new_pubkey, effective_from=effective_from)
    return {
        "new_pubkey": new_pubkey,
        "effective_from": effective_from.isoformat(),
        "rotation_signature": p256.sign(previous, text).hex(),
    }


def receipt_key_certifiable(side) -> dict:
    """The admin's app holds its key (custody 1) and has signed the certificate of its receipt key."""
    identity_opened(side)
    private = _withheld(side.admin)
    key = IdentityKey.objects.get(public_key=p256.compressed_hex(private.public_key()))
    return {"signature": p256.sign(private, receipt_key_text(key.public_key, key.receipt_public_key)).hex()}


def challenges_pending(side) -> dict:
    """Registered identities; the member has challenged the admin and the admin the member: the admin's
    incoming challenge and the nonce that solves it."""
    identity_registered(side)
    admin, member = Identity.objects.get(member=side.admin), Identity.objects.get(member=side.member)
    challenges.challenge_issue(target=member, issuer=admin)
    challenge = challenges.challenge_issue(target=admin, issuer=member)
    return {"challenge_id": challenge.pk, "nonce": pow.solve(bytes.fromhex(challenge.data), challenge.difficulty_bits)}


def proposition_opened(side) -> dict:
    """The admin has opened a proposition that closes in a week."""
    closes_at = timezone.now() + timedelta(days=7)
    proposition = votes.proposition_create(by=side.admin, title="Paint the hall green?", closes_at=closes_at)
    return {"proposition_id": proposition.pk}


def _can_vote(side) -> None:
    """The admin paid the member in each of the 12 months before this one (CAN-VOTE)."""
    linked(side)
    months_of_payments(account(side.admin), account(side.member))


def admin_may_vote(side) -> dict:
    """The admin may vote on an open proposition: a registered identity (custody 0) and CAN-VOTE."""
    _can_vote(side)
    identity_registered(side)
    return proposition_opened(side)


def withheld_vote_signed(side) -> dict:
    """The admin's app (custody 1, CAN-VOTE) has signed a yes on an open proposition, cast now."""
    _can_vote(side)
    identity_opened(side)
    private = _withheld(side.admin)
    values, cast_at = proposition_opened(side), timezone.now()
    text = votes.vote_text(
        proposition_id=values["proposition_id"], address=side.admin.address, value=1, cast_at=cast_at
    )
    return {**values, "cast_at": cast_at.isoformat(), "signature": p256.sign(private, text).hex()}
