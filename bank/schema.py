"""OpenAPI schema generation (drf-spectacular) adapted to this code base's conventions.

Operations are tagged by the first segment of their path after ``/c/{community_slug}/api/`` (``SCHEMA_PATH_PREFIX``)
and named by ``name_operations``; their descriptions and examples are ``OPERATIONS`` below, never a view's
docstring.
"""

import re
from dataclasses import dataclass
from types import SimpleNamespace

from django.urls import resolve
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, AllowAny

from bank import idempotency
from bank.models import AppToken
from bank.permissions import IsCommunityAdmin, app_token_allows
from core.pagination import LIMIT_HEADER

# What any operation may answer besides its success (docs/api.md, Errors); bodies add what only they can cause.
ERRORS = {
    "400": "Bad input: `invalid_input` (with `fields`), `malformed_request`, `bad_request`.",
    "401": "Not signed in, or a bad token: `not_authenticated`, `authentication_failed`, `invalid_credentials`, "
    "`app_token_invalid` and the other app-token codes.",
    "403": "Not allowed: `forbidden`, `not_a_member`, `admin_required`, `member_inactive`, `app_scope_denied`, ...",
    "404": "Nothing there: `community_not_found`, `not_found` and the `*_not_found` codes.",
    "405": "`method_not_allowed`.",
    "406": "`not_acceptable`: only JSON is served.",
    "409": "The state forbids it: `status_change_not_allowed`, routing refusals (`insufficient_capacity` with "
    "`max_sendable`, `no_trust_path`, `too_many_hops`, `route_changed`) and the other conflicts.",
    "500": "`server_error`: logged on the server, never with a traceback in the answer.",
    "503": "`routing_timeout`: try again later.",
}
BODY_ERRORS = {
    "413": "`payload_too_large`: a body over 2.5 MB.",
    "415": "`unsupported_media_type`: bodies are JSON.",
    "422": "`idempotency_key_reused`: the key was sent with another request.",
}
# The operations that count failed sign-ins (bank.throttling): they answer 429 and say where a sign-in stands.
THROTTLED_ROUTES = {"bank:api:login", "bank:api:change-password"}
THROTTLED_ERRORS = {"429": "`too_many_attempts`: wait `Retry-After` seconds (docs/api.md, Rate limits)."}
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "Failed sign-ins allowed in the window (1 while the account is slowed).",
    "RateLimit-Remaining": "Failed sign-ins left before sign-ins are refused.",
    "RateLimit-Reset": "Seconds until the window ends.",
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "required": True, "description": "Seconds to wait."}}


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="A stable code; see docs/api.md, Errors.")
    message = serializers.CharField(help_text="A sentence for a person.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="With invalid_input: each bad field's messages.",
    )


class Error(serializers.Serializer):
    """The API's one error shape. Some codes carry more members: `insufficient_capacity` has `max_sendable`."""

    error = ErrorDetail()


class Refusal:
    """An example of an error answer: its status, code and message, and the members some codes add (``fields``)."""

    def __init__(self, status: str, code: str, message: str, **extra) -> None:
        self.status, self.code = status, code
        self.body = {"error": {"code": code, "message": message, **extra}}


@dataclass(frozen=True)
class Operation:
    """An operation as app developers read it: what it does, an example body, examples of its own refusals."""

    description: str
    request: dict | None = None
    refusals: tuple[Refusal, ...] = ()


# Refusals any operation may answer, as its examples; an operation's own come first.
NOT_SIGNED_IN = Refusal("401", "not_authenticated", "Authentication credentials were not provided.")
NOT_A_MEMBER = Refusal("403", "not_a_member", "You are not a member of this community.")
NOT_AN_ADMIN = Refusal("403", "admin_required", "Only community admins may do this.")
COMMON_REFUSALS = (
    Refusal("404", "community_not_found", "There is no community at this address."),
    Refusal("405", "method_not_allowed", 'Method "PUT" not allowed.'),
    Refusal("406", "not_acceptable", "Could not satisfy the request Accept header."),
    Refusal("500", "server_error", "Something went wrong on our side. It has been logged; please try again later."),
)
BODY_REFUSALS = (
    Refusal("400", "malformed_request", "JSON parse error - Expecting value: line 1 column 1 (char 0)"),
    Refusal("413", "payload_too_large", "The request body is larger than 2621440 bytes, the most this server takes."),
    Refusal("415", "unsupported_media_type", 'Unsupported media type "text/plain" in request.'),
    Refusal(
        "422",
        "idempotency_key_reused",
        "This idempotency key was used for another request; send a new key with each new request.",
    ),
)

# --- every operation, as app developers read it ------------------------------------------------------------------
# Keyed by method and the path after /c/{community_slug}/api/, as docs/api.md writes them. Views' docstrings are
# written for this code base's developers, so the schema never takes its descriptions from them: an operation's
# description is the one here, then how to sign in for it (tests/bank/test_middleware.py asks for both).

PUBKEY = "02" + "5a1c" * 16  # a compressed P-256 public key, 66 hex digits
SIGNATURE = "3045022100" + "ab" * 32 + "0220" + "cd" * 32  # DER ECDSA, hex
RECEIPT = {
    "text": f"2026-12-02T14:05:00.000000Z|alice@demo.localhost|bob@demo.localhost|12.500000|{'0' * 64}|41",
    "member_signature": SIGNATURE,
    "server_signature": "ef" * 64,
}
PAYMENT = {"username": "bob", "amount": "12.50", "memo": "Lunch on Friday", "tag": "lunch"}
NO_PATH = Refusal("409", "no_trust_path", "There is no chain of trustlines between you and bob.")
TOO_LITTLE = Refusal(
    "409",
    "insufficient_capacity",
    "The trust paths to bob cannot carry 12.50 DEMO; at most 5.00 DEMO can be sent.",
    max_sendable="5.000000",
)
NO_PAYEE = Refusal("404", "payee_not_found", "There is no account 'bob' in this community.")
NO_PAYMENT = Refusal("404", "payment_not_found", "There is no such payment of yours.")
NOT_NOW = Refusal("409", "status_change_not_allowed", "The payee has already answered this payment.")
NOT_PENDING = Refusal("409", "status_change_not_allowed", "This request is no longer pending.")
NO_IDENTITY = Refusal("404", "identity_not_found", "You have no identity yet; sign in with your password to open one.")
BAD_LIMIT = Refusal(
    "400",
    "invalid_input",
    "limit: This must be a whole number from 1 to 9223372036854775807.",
    fields={"limit": ["This must be a whole number from 1 to 9223372036854775807."]},
)
THROTTLED = Refusal("429", "too_many_attempts", "Too many failed sign-in attempts. Try again in 240 seconds.")
TICKET = "Answers a ticket, `awaiting_second` until another active member seconds it (`ledger/second`); then it runs."
STATUS_CHANGE = (
    "The answer is the payment after the change (Civil Money's rules). A change the payment's state does not allow "
    "is 409 `status_change_not_allowed`; one that is the other side's to make, 403 `not_allowed_for_role`."
)

OPERATIONS = {
    # auth
    "POST auth/login": Operation(
        "Signs in with a handle and password and answers an API token, shown only here: send it as "
        "`Authorization: Token <token>`. The token works only in this community. Failed attempts are limited per "
        "account and address (see Rate limits in the API's description); the answer's `RateLimit-*` headers say "
        "how many are left.",
        request={"username": "alice", "password": "correct horse battery staple"},
        refusals=(
            Refusal("401", "invalid_credentials", "Wrong username or password."),
            Refusal("403", "member_inactive", "This membership has been deactivated by a community admin."),
            THROTTLED,
        ),
    ),
    "POST auth/logout": Operation(
        "Signs out: revokes the token the request is made with, or ends the session. Other tokens keep working."
    ),
    "GET auth/whoami": Operation("The member the request speaks for: handle, community, role and address."),
    "POST auth/change_password": Operation(
        "Changes my password. Every other token of my login stops working; the one making the request (or the "
        "session) keeps working. A wrong old password counts as a failed sign-in, with the `RateLimit-*` headers.",
        request={"old_password": "correct horse battery staple", "new_password": "a-fresh-passphrase-for-2031"},
        refusals=(
            Refusal(
                "400",
                "invalid_input",
                "old_password: The current password is wrong.",
                fields={"old_password": ["The current password is wrong."]},
            ),
            THROTTLED,
        ),
    ),
    # admin
    "POST admin/create_user": Operation(
        "Creates a member of this community with a login of its own (`<handle>@<community>`) and a password.",
        request={"user_id": "dave", "password": "a-long-unusual-passphrase"},
        refusals=(Refusal("409", "username_taken", "The username 'dave' is already taken in this community."),),
    ),
    "POST admin/delete_user": Operation(
        "Deactivates a member: their tokens stop working and they can no longer sign in. Nothing is deleted; "
        "their history stays. An admin cannot deactivate themselves.",
        request={"user_id": "dave"},
        refusals=(
            Refusal("404", "user_not_found", "There is no user 'dave' in this community."),
            Refusal("409", "cannot_deactivate_self", "You cannot deactivate your own membership."),
        ),
    ),
    "POST admin/reset_password": Operation(
        "Sets a member's password and signs out all their tokens. Refused for a login that is also a member of "
        "another community, which that community's admins would otherwise lose control of.",
        request={"user_id": "dave", "new_password": "a-fresh-passphrase-for-2031"},
        refusals=(
            Refusal(
                "409",
                "login_shared",
                "This login is also used in other communities; only its owner can change its password.",
            ),
        ),
    ),
    "GET admin/list_users": Operation("Every member of the community, active or not, with their role."),
    "POST admin/create_invite": Operation(
        "Creates a single-use invite code, shown only here, valid for `INVITE_LIFETIME_HOURS` (a week by "
        "default). Whoever has it joins with `invite/register` or the registration page."
    ),
    # invite
    "POST invite/register": Operation(
        "Joins the community with an invite code as a new member with a login of its own. Each code works once.",
        request={
            "invite": "Hk3v9QeXy0bC4sYtZ1mN8pLrA2uWdE5fG7hJ6kT0oIq",
            "username": "erin",
            "password": "a-long-unusual-passphrase",
        },
        refusals=(
            Refusal("404", "invite_invalid", "This invite code is not valid for this community."),
            Refusal("409", "invite_used", "This invite has already been used."),
            Refusal("409", "username_taken", "The username 'erin' is already taken in this community."),
        ),
    ),
    # user: trustlines and the trust index
    "GET user/accounts": Operation(
        "My trustlines, one row per counterpart, from my side: `balance` above 0 means they owe me; `limit_out` is "
        "the credit I extend, `limit_in` the credit extended to me. My line with the `commons` is among them."
    ),
    "POST user/add_account": Operation(
        "Opens a trustline with another member, with no credit either way yet: of this community (`server` left "
        "out), or of another instance (`server` its community's host, or `username` as `handle@host`), whose "
        "keys are agreed with no exchange by hand; the row's `sync` is `pending` until that instance acknowledges.",
        request={"username": "bob"},
        refusals=(
            NO_PAYEE,
            Refusal("409", "trustline_exists", "You already have a trustline with bob."),
            Refusal("404", "server_not_found", "No instance answers for lake.example."),
            Refusal("404", "account_not_found", "There is no account bob@lake.example on lake.example."),
        ),
    ),
    "POST federated/add_account": Operation(
        "The seed's name of `user/add_account` for a member of another instance: the same operation.",
        request={"username": "bob", "server": "lake.example"},
        refusals=(
            Refusal("404", "server_not_found", "No instance answers for lake.example."),
            Refusal("404", "account_not_found", "There is no account bob@lake.example on lake.example."),
        ),
    ),
    "POST user/remove_account": Operation(
        "Closes a trustline that is settled (balance 0) and has no pending payment.",
        request={"username": "bob"},
        refusals=(Refusal("409", "balance_not_zero", "The balance on this trustline is not zero; settle it first."),),
    ),
    "POST user/set_trustline": Operation(
        'Sets the credit I extend to a counterpart (`"0"` allowed), a decimal string with at most 6 places.',
        request={"username": "bob", "amount": "250.00"},
        refusals=(Refusal("404", "trustline_not_found", "You have no trustline with bob; add the account first."),),
    ),
    "GET user/trust_index": Operation(
        'My trust index: the tax rate on my payments (a decimal string, `"0.050000"` is 5%), and the community\'s '
        "minimum."
    ),
    "POST user/trust_index": Operation(
        "Sets my trust index, a rate between the community's minimum and 1 written as a decimal string.",
        request={"value": "0.05"},
        refusals=(
            Refusal(
                "400",
                "invalid_input",
                "value: The trust index may not be below the community's minimum, 0.02.",
                fields={"value": ["The trust index may not be below the community's minimum, 0.02."]},
            ),
        ),
    ),
    # user: payments
    "POST user/payment": Operation(
        "Pays a member along paths of trust: the amount is split over as many paths as it takes, each at most "
        "`max_hops` long. The payer also pays tax (the amount times their trust index) and the community's fee per "
        "intermediary hop, both to the commons. Settled at once: the answer is the finalized payment. To a member "
        "of another instance (`server`, or `handle@host`) it goes through the trust graph across instances with "
        "hashlock settlement: 201 when it settles within `FEDERATED_PAYMENT_WAIT_SECONDS`, else 202 `{id, state}` "
        "(`user/payments/{payment_id}` follows it).",
        request=PAYMENT,
        refusals=(
            NO_PAYEE,
            NO_PATH,
            TOO_LITTLE,
            Refusal("503", "routing_timeout", "Finding a route took too long; try a smaller amount or again later."),
            Refusal("404", "server_not_found", "No instance answers for lake.example."),
        ),
    ),
    "POST federated/payment": Operation(
        "The seed's name of `user/payment` for a member of another instance: the same operation.",
        request={"username": "carol", "server": "sea.example", "amount": "12.50"},
        refusals=(
            NO_PATH,
            TOO_LITTLE,
            Refusal("404", "server_not_found", "No instance answers for sea.example."),
            Refusal("404", "account_not_found", "There is no account carol@sea.example on sea.example."),
        ),
    ),
    "POST user/local_payment": Operation(
        "Pays a member over our direct trustline only, never through others; also a member of another instance "
        "we hold a trustline with (201 once that instance accepted, 409 `payment_refused`, else 202).",
        request=PAYMENT,
        refusals=(NO_PAYEE, TOO_LITTLE),
    ),
    "POST user/payment/preview": Operation(
        "The paths, tax and fees a payment would take now. Moves nothing: a payment made next may route otherwise.",
        request=PAYMENT,
        refusals=(NO_PATH, TOO_LITTLE),
    ),
    "POST user/receive_payment": Operation(
        "Requests a payment from a member (the payer in `username`): a pending payment they settle with "
        "`user/payments/{payment_id}/accept` within `PAYMENT_REQUEST_LIFETIME_SECONDS` (a day by default). A "
        "member of another instance (`server`, or `handle@host`) gets the request on their instance; accepted "
        "there, it is paid through the trust graph across instances.",
        request={"username": "alice", "amount": "12.50", "memo": "Your half of the groceries"},
        refusals=(
            Refusal("404", "payer_not_found", "There is no account 'alice' in this community."),
            Refusal("404", "server_not_found", "No instance answers for lake.example."),
        ),
    ),
    "GET user/payments": Operation(
        "My payments, made or received, newest first, a page at a time: follow `next` for the following page. "
        "`limit` above 200 is taken as 200; the answer's `Page-Limit` header says the page size used.",
        refusals=(BAD_LIMIT,),
    ),
    "GET user/payments/{payment_id}": Operation(
        "One of my payments, with its paths and statuses, and its `preimage` once settled (`null` before).",
        refusals=(NO_PAYMENT,),
    ),
    "POST user/payments/{payment_id}/accept": Operation(
        "The payer pays a pending payment request, routed as `user/payment` routes, and it is `finalized`; the "
        "payee accepts a settled payment they have not answered (`payee_status` Accept). " + STATUS_CHANGE,
        refusals=(NO_PAYMENT, NOT_PENDING, TOO_LITTLE),
    ),
    "POST user/payments/{payment_id}/cancel": Operation(
        "The payer cancels a pending payment the payee has not answered, or the payee withdraws their request: "
        "it is `cancelled`. " + STATUS_CHANGE,
        refusals=(NO_PAYMENT, NOT_NOW),
    ),
    "POST user/payments/{payment_id}/decline": Operation(
        "The payee declines a settled payment they have not answered: its amount goes back to the payer through "
        "the trust graph, without tax. " + STATUS_CHANGE,
        refusals=(NO_PAYMENT, NOT_NOW, NO_PATH),
    ),
    "POST user/payments/{payment_id}/dispute": Operation(
        "The payer disputes a settled payment they accepted: a mark on the record, no money moves. " + STATUS_CHANGE,
        refusals=(NO_PAYMENT, NOT_NOW),
    ),
    "POST user/payments/{payment_id}/refund": Operation(
        "The payee refunds a settled payment they accepted: its amount goes back to the payer through the trust "
        "graph, without tax. " + STATUS_CHANGE,
        refusals=(NO_PAYMENT, NOT_NOW, NO_PATH),
    ),
    "GET user/receipts": Operation(
        "My signed receipts, newest first: every ledger entry paid from or into my account (payments, tax, legs "
        "routed through me), each with the member's and the server's signatures, to check offline. Pages as "
        "`user/payments`: `next`, `limit` up to 200, `Page-Limit`.",
        refusals=(BAD_LIMIT,),
    ),
    "GET user/reputation": Operation(
        "My credit score: what I received and paid over the last two years (older amounts count less), the score "
        "from 0 to 100 and its rating, and whether I may vote (`can_vote`: payments in each of the last 12 months)."
    ),
    # user: app tokens
    "GET user/app_tokens": Operation("My app tokens, newest first, revoked ones too; never their secrets."),
    "POST user/app_tokens": Operation(
        "Issues an app token for a third-party app, with the scopes it may use: `read` (GET on members' endpoints) "
        "and `pay` (POST to the payment endpoints). The `secret` it signs requests with is shown only here.",
        request={"name": "Budget app", "scopes": ["read", "pay"]},
    ),
    "POST user/app_tokens/{token}/revoke": Operation(
        "Revokes one of my app tokens: it stops working at once. Revoking it again changes nothing.",
        refusals=(Refusal("404", "app_token_not_found", "You have no app token with this id."),),
    ),
    # public
    "GET public/records": Operation(
        "The community's public records, oldest first, a page at a time after the receipt id `after`: type, time, "
        "receipt id, amount and the hashes that chain the ledger. Anyone may read them.",
        refusals=(BAD_LIMIT,),
    ),
    # ledger
    "GET ledger/balance": Operation(
        "My trustlines as `user/accounts` lists them, with balances replayed from the ledger's entries: the two "
        "always agree."
    ),
    "POST ledger/verify": Operation(
        "Checks a receipt against the ledger: `valid` when the ledger holds this receipt at its id in this "
        "community and both signatures hold. An unknown id is `valid: false`.",
        request={"receipt": RECEIPT},
        refusals=(
            Refusal(
                "400", "receipt_malformed", "The receipt is not UTC|SOURCE|DESTINATION|AMOUNT|LEDGER_HASH|RECEIPT_ID."
            ),
        ),
    ),
    "POST ledger/contest": Operation(
        "Checks a receipt against another receipt, or against a public record by its line number (line n is "
        "receipt n - 1), and saves the conflicts found: an empty list when everything checks.",
        request={"receipt": RECEIPT, "other": 42},
        refusals=(
            Refusal("400", "receipt_unknown", "The ledger has no receipt 41, and the server did not sign this one."),
        ),
    ),
    "POST ledger/audit": Operation(
        "Moves an audit of the books: every entry, public record and archive, the chain head and the ledger's "
        "agreement with the balances. " + TICKET
    ),
    "POST ledger/resolve": Operation(
        "Moves the resolution of a conflict with one of its `options`. " + TICKET,
        request={"conflict_id": 7, "option_id": "restore_record"},
        refusals=(
            Refusal("404", "conflict_not_found", "There is no such conflict in this community."),
            Refusal("409", "conflict_resolved", "This conflict is already resolved."),
        ),
    ),
    "POST ledger/second": Operation(
        "Seconds another member's ticket, which then runs as a job (`queued`, `running`, then `done` or `failed`). "
        "Nobody seconds their own.",
        request={"ticket": "b3JkZXItNDI"},
        refusals=(
            Refusal("403", "own_ticket", "A motion needs a second member: you cannot second your own ticket."),
            Refusal("409", "already_seconded", "This ticket is already seconded."),
        ),
    ),
    "GET ledger/tickets/{number}": Operation(
        "A ticket's state, its progress while it runs and the conflicts it found.",
        refusals=(Refusal("404", "ticket_not_found", "There is no such ticket in this community."),),
    ),
    # identity
    "GET identity/status": Operation(
        "This instance's identities (registered, revoked), the proof-of-work difficulty of a registration and the "
        "identity chain's height."
    ),
    "GET identity/identities": Operation(
        "This community's identities by the key in force now: registration, reputation balance, revocation."
    ),
    "GET identity/my-identity": Operation(
        "My identity: the key in force, registration, reputation balance, revocation and custody (0: the server "
        "holds my key sealed under my password; 1: my app holds it).",
        refusals=(NO_IDENTITY,),
    ),
    "POST identity/register": Operation(
        "Registers my identity with a proof of work over my key: a 16-byte `seed` and a `nonce` such that "
        "`SHA256(SHA256(pubkey || seed) || nonce)` starts with `difficulty_bits` zero bits (`identity/status`). "
        "Custody 1 also sends the withheld `pubkey` and its `signature` over the seed.",
        request={"seed": "9f86d081884c7d659a2feaa0c55ad015", "nonce": 1048583},
        refusals=(
            Refusal("400", "proof_invalid", "The nonce does not solve this key's challenge at 20 bits."),
            Refusal("409", "already_registered", "Your identity is registered already."),
        ),
    ),
    "POST identity/authenticate": Operation(
        "Whether the identity of a key may act: registered, not revoked, with a reputation balance of at least 1. "
        "An unknown key is `false` with balance 0.",
        request={"pubkey": PUBKEY},
    ),
    "POST identity/keys/rotate": Operation(
        "Replaces my key, the new one signed by the previous one. Custody 0 sends my `passphrase` (the server makes "
        "and signs the new key); custody 1 sends `new_pubkey`, `effective_from` (UTC, within 10 minutes of now) and "
        "`rotation_signature` over `new_pubkey|effective_from`. Old keys keep verifying what they signed.",
        request={"passphrase": "correct horse battery staple"},
        refusals=(Refusal("403", "passphrase_invalid", "The passphrase does not unlock this identity key."),),
    ),
    "GET identity/receipt-key": Operation(
        "The receipt key of my key in force, which signs my receipts while I am away, the text my key certifies it "
        "with and the certificate (empty until a custody 1 app certifies it)."
    ),
    "POST identity/receipt-key": Operation(
        "Custody 1: certifies my receipt key with my app's key, a signature over `certificate_text` in hex. "
        "Custody 0 certifies itself (400 `invalid_input`).",
        request={"signature": SIGNATURE},
        refusals=(
            Refusal(
                "400", "signature_invalid", "The signature is not by your key over receipt-key|pubkey|receipt_pubkey."
            ),
        ),
    ),
    "POST identity/heartbeat": Operation(
        "Says my client is live, so it may be given reputation challenges. An open live socket does the same."
    ),
    "GET identity/challenges": Operation("My pending reputation challenges, each to be solved before `expires_at`."),
    "GET identity/incoming-challenges": Operation("Every challenge I was given: pending, solved or ignored."),
    "GET identity/issued-challenges": Operation("The challenges my identity issued, with their targets and states."),
    "POST identity/challenges/{challenge_id}/solve": Operation(
        "Answers a challenge with a `nonce` such that `SHA256(challenge_data || nonce)` starts with "
        "`difficulty_bits` zero bits. Solving adds 10 to my reputation; an unanswered challenge costs 15.",
        request={"nonce": 52731},
        refusals=(
            Refusal("404", "challenge_not_found", "You have no such challenge."),
            Refusal("409", "challenge_closed", "This challenge is no longer open."),
        ),
    ),
    "POST identity/challenge": Operation(
        "Admins: challenges an identity of this community now, issued by my identity.",
        request={"target_pubkey": PUBKEY},
        refusals=(Refusal("409", "challenge_pending", "carol already has a pending challenge."),),
    ),
    "GET identity/propositions": Operation(
        "The community's propositions, newest first, open or closed, with their yes and no counts."
    ),
    "POST identity/propositions": Operation(
        "Admins: opens a yes-or-no proposition that closes at `closes_at` (in the future).",
        request={"title": "Raise the commons limit to 150?", "closes_at": "2027-01-15T12:00:00Z"},
        refusals=(Refusal("403", "admin_required", "Only community admins open propositions."),),
    ),
    "GET identity/propositions/{proposition_id}": Operation(
        "A proposition with its signed votes: verify each `signature` over its `text` with its `public_key`.",
        refusals=(Refusal("404", "proposition_not_found", "There is no such proposition in this community."),),
    ),
    "POST identity/propositions/{proposition_id}/vote": Operation(
        "Votes 1 (yes) or 0 (no), or changes my vote until the proposition closes: 201 for a first vote, 200 for a "
        "change. Custody 0 sends my `passphrase`; custody 1 sends `cast_at` and a `signature` over "
        "`proposition_id|member address|value|cast_at`. Eligible: a registered identity, not revoked, with "
        "`can_vote` (`user/reputation`).",
        request={"value": 1, "passphrase": "correct horse battery staple"},
        refusals=(
            Refusal(
                "403", "not_eligible", "You may not vote: you have not paid someone in each of the last 12 months."
            ),
            Refusal("409", "proposition_closed", "This proposition is closed."),
        ),
    ),
}


IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    # Visible ASCII, no blank at either end (bank.idempotency.requested_key).
    {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH, "pattern": "^[!-~]([ -~]*[!-~])?$"},
    location=OpenApiParameter.HEADER,
    description=(
        "Optional. A fresh key (a UUID, 1 to 255 visible ASCII characters) per request: a retry with the same key "
        "and body within 24 hours gets the first answer and changes nothing more (docs/api.md, Retries)."
    ),
)


class TrustbankAutoSchema(AutoSchema):
    def operation_key(self) -> str:
        """``POST user/payment``: the method and the path after the API's prefix, as ``OPERATIONS`` and docs/api.md
        write them."""
        return f"{self.method} {re.sub(self.path_prefix, '', self.path)}"

    def operation(self) -> Operation:
        return OPERATIONS.get(self.operation_key(), Operation(""))

    def route(self) -> str:
        """The operation's URL name (``trust:api:payment``), by resolving its path with every parameter filled in."""
        return resolve(re.sub(r"\{[^}]+\}", "1", self.path)).view_name

    def get_description(self) -> str:
        # Never a docstring (drf-spectacular's default, inherited ones too): those are written for this code base.
        return "\n\n".join(part for part in (self.operation().description, self.sign_in()) if part)

    def permissions(self) -> set[type]:
        return {type(permission) for permission in self.view.get_permissions()}

    def sign_in(self) -> str:
        """How to sign in for the operation, from its permissions and bank.permissions' app-token scopes."""
        permissions = self.permissions()
        if AllowAny in permissions:
            return "**Sign-in:** none needed."
        if IsCommunityAdmin in permissions:
            return "**Sign-in:** a community admin's `Token` or session; app tokens are refused (`app_scope_denied`)."
        request = SimpleNamespace(resolver_match=SimpleNamespace(view_name=self.route()), method=self.method)
        scopes = [
            scope
            for scope in AppToken.Scope.values
            if app_token_allows(SimpleNamespace(allows=lambda wanted, scope=scope: wanted == scope), request)
        ]
        if not scopes:
            return "**Sign-in:** a member's `Token` or session; app tokens are refused (`app_scope_denied`)."
        scopes = " or ".join(f"`{scope}`" for scope in scopes)
        return f"**Sign-in:** a member's `Token` or session, or an app token with the {scopes} scope."

    def get_examples(self) -> list[OpenApiExample]:
        body = self.operation().request
        return [OpenApiExample("Request", value=body, request_only=True)] if body is not None else []

    def refusals(self) -> list[Refusal]:
        """Examples of the operation's error answers: its own, then those of its kind of sign-in and body."""
        refusals = list(self.operation().refusals)
        permissions = self.permissions()
        if AllowAny not in permissions:
            refusals += [NOT_SIGNED_IN, NOT_A_MEMBER, *([NOT_AN_ADMIN] if IsCommunityAdmin in permissions else [])]
        refusals += COMMON_REFUSALS
        return refusals + list(BODY_REFUSALS if self.method not in SAFE_METHODS else ())

    def get_override_parameters(self) -> list:
        parameters = super().get_override_parameters()
        if self.method not in SAFE_METHODS:
            parameters = [*parameters, IDEMPOTENCY_KEY]
        return parameters

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        throttled = self.route() in THROTTLED_ROUTES
        errors = (
            ERRORS | (BODY_ERRORS if self.method not in SAFE_METHODS else {}) | (THROTTLED_ERRORS if throttled else {})
        )
        for status, description in errors.items():
            responses.setdefault(status, {**self._get_response_for_code(Error, status), "description": description})
        for refusal in self.refusals():
            if refusal.status in responses:
                examples = responses[refusal.status]["content"]["application/json"].setdefault("examples", {})
                examples.setdefault(refusal.code, {"summary": refusal.code, "value": refusal.body})
        if throttled:
            for status, response in responses.items():
                headers = response.setdefault("headers", {})
                headers |= {
                    name: {"schema": {"type": "integer"}, "description": text}
                    for name, text in RATE_LIMIT_HEADERS.items()
                }
                if status == "429":
                    headers |= RETRY_AFTER
        if any(parameter.get("name") == "limit" for parameter in self._get_parameters()):
            for status, response in responses.items():
                if status.startswith("2"):
                    response.setdefault("headers", {})[LIMIT_HEADER] = {
                        "schema": {"type": "integer"},
                        "description": "The page size this answer used: `limit`, at most 200.",
                    }
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False) -> dict:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # DRF refuses "" unless allow_blank; drf-spectacular does not say so.
        blank_refused = isinstance(field, serializers.CharField) and not field.allow_blank
        if direction == "request" and blank_refused and schema.get("type") == "string":
            schema.setdefault("minLength", 1)
        return schema

    def get_serializer_name(self, serializer, direction) -> str:
        # Views nest their serializers as Input/Output; name them after the view ("LoginApi.Input" -> "LoginInput").
        qualname = type(serializer).__qualname__
        if "." in qualname:
            owner, name = qualname.rsplit(".", 1)
            return owner.removesuffix("Api") + name
        return super().get_serializer_name(serializer, direction)


class MemberTokenScheme(OpenApiAuthenticationExtension):
    target_class = "bank.authentication.MemberTokenAuthentication"
    name = "memberToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "The token from auth/login, sent as `Token <token>`; `Bearer <token>` is refused.",
        }


def refuse_unknown_fields(result: dict, **kwargs) -> dict:
    """Input bodies take only the fields they name (``core.api.InputSerializer``): say so in the schema, in place of
    the base class's docstring."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Input") and component.get("type") == "object":
            component["additionalProperties"] = False
            component["description"] = "Takes only these fields: any other is refused with `invalid_input`."
    return result


ACTIONS = {"post": "create", "put": "update", "patch": "partial_update", "delete": "destroy"}


def name_operations(result: dict, **kwargs) -> dict:
    """Operation ids from the path after the API's prefix and what the operation does, one rule for all:
    ``user_payment_create``, ``user_payments_list`` (a GET of rows), ``user_payments_retrieve`` (of one thing)."""
    schemas = result.get("components", {}).get("schemas", {})
    for path, methods in result["paths"].items():
        words = re.sub(f"^{spectacular_settings.SCHEMA_PATH_PREFIX}", "", path).split("/")
        base = "_".join(word for word in words if not word.startswith("{")).replace("-", "_")
        for method, operation in methods.items():
            action = ACTIONS.get(method) or ("list" if _answers_rows(path, operation, schemas) else "retrieve")
            operation["operationId"] = f"{base}_{action}"
    return result


def _answers_rows(path: str, operation: dict, schemas: dict) -> bool:
    """A GET of rows: not of one thing by its id, and answered with an array or an object holding one."""
    if path.endswith("}"):
        return False
    schema = operation["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
    properties = schema.get("properties", {}).values()
    return schema.get("type") == "array" or any(value.get("type") == "array" for value in properties)
