"""OpenAPI schema generation (drf-spectacular) adapted to this code base's conventions.

Besides naming and the ``Idempotency-Key`` header, ``TrustbankAutoSchema`` documents what drf-spectacular
cannot see:

- the errors every operation can answer, in the one error shape (the ``Error`` component), by status and
  with the codes of that operation as an enum (``ERRORS`` lists what each view adds to the generic ones);
- the input rules the fields check beyond their types: amounts and rates as decimal strings, handles, no
  NUL and no blank text, new passwords, bounded whole numbers in paths and queries, and no unknown fields
  (``additionalProperties: false``: ``bank.api_helpers.InputSerializer`` refuses them).

What no JSON Schema can say (a password that is too common, a key that is not a point of the curve, a time
that must be in the future) is listed per operation under ``x-checked-by-server`` and in the field's
description: a schema-valid request may be refused with ``invalid_input`` for those fields only.
"""

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny

from bank import idempotency
from bank.api_helpers import InputSerializer, PasswordField
from bank.numbers import MAX_ID

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    str,
    location=OpenApiParameter.HEADER,
    description=(
        "Optional. A fresh key (a UUID, 1 to 255 visible ASCII characters) per request: a retry with the same key "
        "and body within 24 hours gets the first answer and changes nothing more (docs/api.md, Retries). "
        "The same key with another body: 422 `idempotency_key_reused`."
    ),
)
# Visible ASCII, spaces only inside (bank.idempotency.requested_key).
IDEMPOTENCY_KEY_PATTERN = rf"^[!-~](?:[ -~]{{0,{idempotency.MAX_KEY_LENGTH - 2}}}[!-~])?$"

# ---------------------------------------------------------------------------------------------------------
# Text rules.

# What Python's str.strip() removes (DRF trims text fields with it), as a regex class body.
_PY_SPACE = r"\t\n\u000b\f\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# DRF's CharField refuses NUL (ProhibitNullCharactersValidator); trimmed fields refuse text that is all space.
_WS = f"[{_PY_SPACE}]"


def trimmed(max_length: int | None, *, min_length: int | None = None, blank: bool = False) -> str:
    """Text DRF reads trimmed: no NUL, from ``min_length`` to ``max_length`` characters once the spaces around it
    are off (JSON Schema's minLength and maxLength would count those spaces), and something left (unless ``blank``)."""
    low = max((min_length or 1) - 2, 0)
    inner = "{%d,%s}" % (low, max_length - 2 if max_length else "")
    end = rf"[^\u0000]{inner}[^\u0000{_PY_SPACE}]"
    core = rf"[^\u0000{_PY_SPACE}]" + (f"(?:{end})?" if low == 0 else end)
    if max_length == 1:
        core = rf"[^\u0000{_PY_SPACE}]"
    return rf"^(?:{_WS}+|{_WS}*{core}{_WS}*)$" if blank else rf"^{_WS}*{core}{_WS}*$"


NO_NUL_NOT_EMPTY = r"^[^\u0000]+$"

# A handle (bank.models.HANDLE_PATTERN) as the API reads one: trimmed, then lowercased.
HANDLE = rf"^[{_PY_SPACE}]*[A-Za-z0-9][A-Za-z0-9_-]{{1,31}}[{_PY_SPACE}]*$"
HANDLE_DESCRIPTION = (
    "A handle: 2 to 32 of `a-z 0-9 _ -`, starting with a letter or digit (read trimmed and lowercased)."
)

# New passwords pass Django's password validators (config.settings.AUTH_PASSWORD_VALIDATORS).
NEW_PASSWORD_MIN = 8
NEW_PASSWORD = r"^[^\u0000]*[^\u00000-9][^\u0000]*$"  # not all digits
NEW_PASSWORD_DESCRIPTION = (
    f"A new password: {NEW_PASSWORD_MIN} to 128 characters, not all digits; also refused (`invalid_input`) "
    "when it is too common or too like the username."
)
NEW_PASSWORDS = {
    ("CreateUserApi.Input", "password"),
    ("ResetPasswordApi.Input", "new_password"),
    ("ChangePasswordApi.Input", "new_password"),
    ("RegisterApi.Input", "password"),
}

# Identity keys and proofs (identity.pow, identity.services.registration).
SEED_PATTERN = r"^[0-9a-fA-F]{32}$"
PUBKEY_PATTERN = r"^0[23][0-9a-fA-F]{64}$"
PUBKEY_DESCRIPTION = "a compressed P-256 point in hex (66 characters; a value off the curve is `invalid_input`)"

# ---------------------------------------------------------------------------------------------------------
# Amounts (trust.money.parse_amount): 1 to 13 digits, at most 6 places, at most MAX_AMOUNT micro-units.

MAX_WHOLE, MAX_FRACTION = "9223372036854", "775807"  # trust.money.MAX_AMOUNT = 2**63 - 1 micro-units


def _greater(digits: str) -> str:
    """A regex for the strings of ``len(digits)`` digits greater than ``digits``."""
    options = []
    for index, digit in enumerate(digits):
        if digit != "9":
            rest = len(digits) - index - 1
            options.append(f"{digits[:index]}[{int(digit) + 1}-9]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return "|".join(options)


_TOO_LARGE = (
    f"(?:{_greater(MAX_WHOLE)})(?:\\.|$)|{MAX_WHOLE}\\.(?:"
    + "|".join(f"(?:{_greater(MAX_FRACTION[:places])})$" for places in range(1, 7))
    + ")"
)
LIMIT_PATTERN = rf"^(?!{_TOO_LARGE})[0-9]{{1,13}}(\.[0-9]{{1,6}})?$"
AMOUNT_PATTERN = rf"^(?!0*(\.0*)?$)(?!{_TOO_LARGE})[0-9]{{1,13}}(\.[0-9]{{1,6}})?$"
AMOUNT_MAX_LENGTH = 20  # 13 digits, a point, 6 places
RATE_PATTERN = r"^(?:0{1,13}(\.[0-9]{1,6})?|0{0,12}1(\.0{1,6})?)$"  # 0 to 1 (trust.money.parse_rate)
AMOUNT = {
    "type": "string",
    "pattern": AMOUNT_PATTERN,
    "maxLength": AMOUNT_MAX_LENGTH,
    "example": "12.5",
    "description": (
        "A decimal string with at most 6 places, above zero and at most 9223372036854.775807: ASCII digits only, "
        "no sign, exponent or space (\"12.5\", \"0.000001\")."
    ),
}
LIMIT = {**AMOUNT, "pattern": LIMIT_PATTERN, "example": "100", "description": AMOUNT["description"].replace(
    "above zero", "zero or more")}
RATE = {
    "type": "string",
    "pattern": RATE_PATTERN,
    "maxLength": 16,
    "example": "0.05",
    "description": "A rate from 0 to 1 as a decimal string (\"0.05\"), at least the community's `minimum`.",
}

# ---------------------------------------------------------------------------------------------------------
# Errors.

ERROR_COMPONENT = "Error"
# The generic codes by status, for the Error component's description (docs/api.md, Errors, has them all).
COMMON_CODES = {
    400: "`invalid_input` (with `fields`), `malformed_request`",
    401: "`not_authenticated`, `authentication_failed`, `invalid_credentials`, `app_token_invalid`, "
    "`app_signature_invalid`, `app_timestamp_expired`, `app_request_replayed`, `app_token_revoked`",
    403: "`not_a_member`, `admin_required`, `member_inactive`, `identity_revoked`, `app_scope_denied`, "
    "`permission_denied` (a session's CSRF check)",
    404: "`community_not_found`, `not_found`, and one per kind of thing (`user_not_found`, `payment_not_found`, ...)",
    405: "`method_not_allowed` (with `Allow`)",
    406: "`not_acceptable` (only JSON is served)",
    409: "one per rule (`username_taken`, `trustline_exists`, `no_trust_path`, `insufficient_capacity`, ...)",
    413: "`payload_too_large`",
    415: "`unsupported_media_type`",
    422: "`idempotency_key_reused`",
    429: "`too_many_attempts` (with `Retry-After`)",
    500: "`server_error`",
    503: "`routing_timeout`",
}
ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Every error: `{\"error\": {\"code\", \"message\"}}`, with `fields` for `invalid_input` (each bad field "
        "and its messages) and other details where a code has them (`max_sendable`). Apps match on `code`; "
        "`message` is a sentence for a person. Codes by status: "
        + "; ".join(f"{status} {codes}" for status, codes in COMMON_CODES.items())
        + ". Each operation lists its own codes."
    ),
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "`invalid_input`: the bad fields (dotted paths into the body) and their messages.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["code", "message"],
            "additionalProperties": True,
        },
    },
    "required": ["error"],
    "additionalProperties": False,
}

ROUTING_409 = ["no_trust_path", "too_many_hops", "insufficient_capacity", "route_changed"]
# What each view adds to the generic errors, by "module.View" (and ".METHOD" where one method differs), then
# by status. A view's permission, authentication, path and method give the rest (see TrustbankAutoSchema).
ERRORS: dict[str, dict[int, list[str]]] = {
    # bank
    "bank.apis.LoginApi": {401: ["invalid_credentials"], 403: ["member_inactive", "identity_revoked"],
                           429: ["too_many_attempts"]},
    "bank.apis.ChangePasswordApi": {429: ["too_many_attempts"]},
    "bank.apis.CreateUserApi": {409: ["username_taken"]},
    "bank.apis.DeleteUserApi": {404: ["user_not_found"], 409: ["cannot_deactivate_self"]},
    "bank.apis.ResetPasswordApi": {404: ["user_not_found"], 409: ["login_shared"]},
    "bank.apis.RegisterApi": {404: ["invite_invalid"],
                              409: ["invite_used", "invite_expired", "username_taken", "already_member"]},
    "bank.apis.AppTokenRevokeApi": {404: ["app_token_not_found"]},
    # trust
    "trust.apis.AddAccountApi": {404: ["payee_not_found"], 409: ["trustline_exists"]},
    "trust.apis.RemoveAccountApi": {404: ["trustline_not_found"],
                                    409: ["balance_not_zero", "payment_pending", "commons_trustline"]},
    "trust.apis.SetTrustlineApi": {404: ["trustline_not_found"], 409: ["commons_trustline"]},
    "trust.apis.PaymentApi": {404: ["payee_not_found"], 409: ROUTING_409, 503: ["routing_timeout"]},
    "trust.apis.LocalPaymentApi": {404: ["payee_not_found"], 409: ROUTING_409, 503: ["routing_timeout"]},
    "trust.apis.PaymentPreviewApi": {404: ["payee_not_found"], 409: ROUTING_409, 503: ["routing_timeout"]},
    "trust.apis.ReceivePaymentApi": {404: ["payer_not_found"]},
    "trust.apis.PaymentDetailApi": {404: ["payment_not_found"]},
    "trust.apis.PaymentActionApi": {403: ["not_allowed_for_role"], 404: ["payment_not_found"],
                                    409: ["status_change_not_allowed"]},
    # ledger
    "ledger.apis.VerifyApi": {400: ["receipt_malformed"]},
    "ledger.motion_apis.ResolveApi": {404: ["conflict_not_found"], 409: ["conflict_resolved"]},
    "ledger.motion_apis.SecondApi": {403: ["own_ticket"], 404: ["ticket_not_found"], 409: ["already_seconded"]},
    "ledger.motion_apis.TicketApi": {404: ["ticket_not_found"]},
    "ledger.motion_apis.ContestApi": {400: ["receipt_malformed", "receipt_unknown", "record_unknown"]},
    # identity
    "identity.apis.MyIdentityApi": {404: ["identity_not_found"]},
    "identity.apis.IdentityRegisterApi": {400: ["seed_malformed", "proof_invalid", "signature_invalid"],
                                          404: ["identity_not_found"], 409: ["proof_reused", "already_registered"]},
    "identity.apis.KeyRotateApi": {400: ["signature_invalid"], 403: ["passphrase_invalid", "rotation_unsigned"],
                                   404: ["identity_not_found"], 409: ["already_registered"]},
    "identity.apis.ReceiptKeyApi": {404: ["identity_not_found"]},
    "identity.apis.ReceiptKeyApi.POST": {400: ["signature_invalid"]},
    "identity.challenge_apis.ChallengeApi": {400: ["challenge_self"], 404: ["identity_not_found"],
                                             409: ["challenge_pending", "identity_revoked", "identity_unregistered"]},
    "identity.challenge_apis.SolveApi": {400: ["proof_invalid"], 404: ["challenge_not_found", "identity_not_found"],
                                         409: ["challenge_closed"]},
    "identity.challenge_apis.HeartbeatApi": {404: ["identity_not_found"]},
    "identity.vote_apis.PropositionDetailApi": {404: ["proposition_not_found"]},
    "identity.vote_apis.VoteApi": {400: ["value_invalid", "signature_invalid"],
                                   403: ["not_eligible", "passphrase_invalid"],
                                   404: ["proposition_not_found", "identity_not_found"],
                                   409: ["proposition_closed", "vote_unchanged"]},
}
# Payment status changes that route money (a request paid, a payment sent back).
ROUTED_ACTIONS = {"accept", "decline", "refund"}

# Fields whose rules go beyond the schema: a schema-valid value may still be refused with invalid_input.
CHECKED_BY_SERVER: dict[str, dict[str, str]] = {
    "bank.apis.ChangePasswordApi": {"old_password": "must be the current password",
                                    "new_password": "not too common, not too like the username"},
    "bank.apis.CreateUserApi": {"password": "not too common, not too like the username",
                                "user_id": "not a reserved name (`commons`)"},
    "bank.apis.ResetPasswordApi": {"new_password": "not too common, not too like the username"},
    "bank.apis.RegisterApi": {"password": "not too common, not too like the username",
                              "username": "not a reserved name (`commons`)"},
    "trust.apis.AddAccountApi": {"username": "not my own"},
    "trust.apis.TrustIndexApi": {"value": "at least the community's minimum"},
    "trust.apis.PaymentApi": {"username": "not my own, not the commons", "memo": "at most 255 bytes of UTF-8",
                              "tag": "at most 48 bytes of UTF-8"},
    "trust.apis.LocalPaymentApi": {"username": "not my own, not the commons", "memo": "at most 255 bytes of UTF-8",
                                   "tag": "at most 48 bytes of UTF-8"},
    "trust.apis.PaymentPreviewApi": {"username": "not my own, not the commons"},
    "trust.apis.ReceivePaymentApi": {"username": "not my own, not the commons", "memo": "at most 255 bytes of UTF-8",
                                     "tag": "at most 48 bytes of UTF-8"},
    "trust.apis.PaymentsApi": {"before": "the id of one of my payments' pages"},
    "ledger.motion_apis.ResolveApi": {"option_id": "one of the conflict's options"},
    "identity.apis.IdentityRegisterApi": {"pubkey": "a point of P-256, compressed",
                                          "signature": "given with pubkey, and pubkey with it"},
    "identity.apis.KeyRotateApi": {"new_pubkey": "a point of P-256, compressed",
                                   "effective_from": "ISO 8601 within 10 minutes of the server's clock",
                                   "passphrase": "custody 0 only", "rotation_signature": "custody 1 only"},
    "identity.apis.ReceiptKeyApi.POST": {"signature": "custody 1 only"},
    "identity.challenge_apis.ChallengeApi": {"target_pubkey": "a point of P-256, compressed"},
    "identity.vote_apis.PropositionsApi.POST": {"closes_at": "in the future", "title": "not blank"},
    "identity.vote_apis.VoteApi": {"passphrase": "custody 0 only", "signature": "custody 1 only",
                                   "cast_at": "custody 1 only, within 5 minutes of now"},
}

# Whole numbers in queries (bank.numbers.query_number): from 1 unless said here, up to MAX_ID.
QUERY_MINIMUM = {"after": 0}


def _error_response(codes: list[str]) -> dict:
    schema = {
        "allOf": [
            {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"},
            {"type": "object", "properties": {"error": {"type": "object", "properties": {"code": {"enum": codes}}}}},
        ]
    }
    return {
        "description": ", ".join(f"`{code}`" for code in codes),
        "content": {"application/json": {"schema": schema}},
    }


def _view_key(view) -> str:
    return f"{type(view).__module__}.{type(view).__qualname__}"


class TrustbankAutoSchema(AutoSchema):
    def get_override_parameters(self) -> list:
        parameters = super().get_override_parameters()
        if self.method in UNSAFE_METHODS:
            parameters = [*parameters, IDEMPOTENCY_KEY]
        return parameters

    def get_serializer_name(self, serializer, direction) -> str:
        # Views nest their serializers as Input/Output; name them after the view ("LoginApi.Input" -> "LoginInput").
        qualname = type(serializer).__qualname__
        if "." in qualname:
            owner, name = qualname.rsplit(".", 1)
            return owner.removesuffix("Api") + name
        return super().get_serializer_name(serializer, direction)

    def get_description(self) -> str:
        # The view's own docstring only: not ApiView's, which every view without one would inherit.
        handler = getattr(type(self.view), self.method.lower(), None)
        return (getattr(handler, "__doc__", None) or type(self.view).__dict__.get("__doc__") or "").strip()

    # --- operations -------------------------------------------------------------------------------------

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            self._bound_parameter(parameter)
        checked = self._lookup(CHECKED_BY_SERVER, lambda found, entry: {**found, **entry})
        if checked:
            operation["x-checked-by-server"] = sorted(checked)
            notes = "; ".join(f"`{name}`: {rule}" for name, rule in checked.items())
            operation["description"] = " ".join(
                part for part in (operation.get("description", ""), f"Checked beyond the schema ({notes}).") if part
            )
        return operation

    def _bound_parameter(self, parameter: dict) -> None:
        schema = parameter.get("schema", {})
        if parameter["in"] == "header" and parameter["name"] == idempotency.HEADER:
            schema.update(pattern=IDEMPOTENCY_KEY_PATTERN, minLength=1, maxLength=idempotency.MAX_KEY_LENGTH)
        elif schema.get("type") == "integer" and parameter["in"] in ("path", "query"):
            minimum = QUERY_MINIMUM.get(parameter["name"], 1) if parameter["in"] == "query" else 0
            schema.update(format="int64", minimum=minimum, maximum=MAX_ID)
        elif parameter["in"] == "path" and schema.get("type") == "string":
            schema.update(pattern=r"^[-a-zA-Z0-9_]+$")  # slugs (app tokens, ticket numbers)

    def _lookup(self, table: dict, merge=None) -> dict:
        """The view's entries in ``table``, by class (its own and its bases') and by class and method."""
        found: dict = {}
        for cls in reversed(type(self.view).__mro__):
            key = f"{cls.__module__}.{cls.__qualname__}"
            for entry in (table.get(key), table.get(f"{key}.{self.method}")):
                if entry:
                    found = (merge or _merge)(found, entry)
        return found

    def _is_public(self) -> bool:
        return any(isinstance(permission, AllowAny) for permission in self.view.get_permissions())

    def _error_codes(self) -> dict[int, list[str]]:
        codes: dict[int, list[str]] = {
            400: ["invalid_input"], 404: ["community_not_found"], 406: ["not_acceptable"], 500: ["server_error"],
        }
        unsafe = self.method in UNSAFE_METHODS
        if unsafe:
            codes[400].append("malformed_request")
            codes.update({413: ["payload_too_large"], 415: ["unsupported_media_type"], 422: ["idempotency_key_reused"]})
        if self._has_path_parameters():
            codes[404].append("not_found")  # a path parameter the URL does not take (the resolver's 404)
        authenticators = self.view.get_authenticators()
        if authenticators:
            codes[401] = ["authentication_failed", "app_token_invalid", "app_signature_invalid",
                          "app_timestamp_expired", "app_request_replayed", "app_token_revoked"]
            if unsafe and any(isinstance(a, SessionAuthentication) for a in authenticators):
                codes.setdefault(403, []).append("permission_denied")  # a session's CSRF check
        if not self._is_public():
            codes.setdefault(401, []).insert(0, "not_authenticated")
            codes.setdefault(403, []).extend(["not_a_member", "identity_revoked", "app_scope_denied"])
            if any(type(p).__name__ == "IsCommunityAdmin" for p in self.view.get_permissions()):
                codes[403].append("admin_required")
        codes = _merge(codes, self._lookup(ERRORS))
        if getattr(self.view, "action", None) in ROUTED_ACTIONS:
            codes = _merge(codes, {409: ROUTING_409, 503: ["routing_timeout"]})
        return codes

    def _has_path_parameters(self) -> bool:
        return any(name != "community_slug" for name in re.findall(r"{(\w+)}", self.path))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        self.registry.register_on_missing(
            ResolvedComponent(name=ERROR_COMPONENT, type=ResolvedComponent.SCHEMA, object=ERROR_COMPONENT,
                              schema=ERROR_SCHEMA)
        )
        for status, codes in sorted(self._error_codes().items()):
            response = _error_response(codes)
            if status == 429:
                response["headers"] = {"Retry-After": {
                    "schema": {"type": "integer", "minimum": 0}, "required": True,
                    "description": "Seconds until the next attempt may be made.",
                }}
            responses.setdefault(str(status), response)
        return responses

    # --- input rules --------------------------------------------------------------------------------------

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if isinstance(serializer, InputSerializer) or (
            isinstance(serializer, type) and issubclass(serializer, InputSerializer)
        ):
            schema["additionalProperties"] = False  # unknown fields are refused
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        # Trimmed text: its pattern bounds the length without the spaces around it; maxLength would count them.
        for target in (schema, *schema.get("oneOf", ())):
            if target.get("pattern", "").startswith((f"^{_WS}", f"^(?:{_WS}")):
                target.pop("maxLength", None)
                if target.get("minLength", 0) > 1:
                    target["minLength"] = 1

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        special = self._special_field(field, direction)
        if special is not None:
            return special
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or not isinstance(schema, dict):
            return schema
        if isinstance(field, serializers.CharField):
            self._text_rules(field, schema)
        elif isinstance(field, serializers.IntegerField):
            schema.setdefault("format", "int64")
        elif isinstance(field, serializers.ListField) and not field.allow_empty:
            schema["minItems"] = max(schema.get("minItems", 0), 1)
        return schema

    def _special_field(self, field, direction) -> dict | None:
        from ledger.motion_apis import ReceiptInput, ReceiptOrLineField
        from trust.serializers import AmountField, LimitField

        if isinstance(field, LimitField):
            return dict(LIMIT)
        if isinstance(field, AmountField):
            return dict(AMOUNT)
        if isinstance(field, ReceiptOrLineField):
            receipt = self.resolve_serializer(ReceiptInput, direction).ref
            line = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID,
                    "description": "A public record's line number (line n is receipt n - 1)."}
            return {"oneOf": [line, receipt]}
        name = (type(getattr(field, "parent", None)).__qualname__, getattr(field, "field_name", None))
        if name == ("IdentityRegisterApi.Input", "seed"):
            return {"type": "string", "pattern": SEED_PATTERN, "description": field.help_text}
        if name in (("IdentityRegisterApi.Input", "pubkey"), ("KeyRotateApi.Input", "new_pubkey")):
            return {"type": "string", "pattern": PUBKEY_PATTERN, "description": f"{field.help_text}: {PUBKEY_DESCRIPTION}"}
        if getattr(field, "field_name", None) == "value" and type(field.parent).__qualname__ == "TrustIndexApi.Input":
            return dict(RATE)
        if getattr(field, "field_name", None) == "value" and type(field.parent).__qualname__ == "VoteApi.Input":
            return {"type": "integer", "enum": [0, 1], "description": "0 (no) or 1 (yes); anything else: `value_invalid`."}
        return None

    def _text_rules(self, field: serializers.CharField, schema: dict) -> None:
        if "pattern" in schema or schema.get("type") != "string" or "format" in schema:
            return
        name = (type(field.parent).__qualname__, field.field_name)
        if field.field_name in ("username", "user_id") and isinstance(field.parent, InputSerializer):
            schema.update(pattern=HANDLE, description=HANDLE_DESCRIPTION)
            if field.field_name == "username":
                schema["example"] = "bob"
            return
        if name in NEW_PASSWORDS:
            schema.update(pattern=NEW_PASSWORD, minLength=max(schema.get("minLength", 0), NEW_PASSWORD_MIN),
                          description=NEW_PASSWORD_DESCRIPTION)
            return
        if field.trim_whitespace:
            # (with allow_blank drf-spectacular offers "" beside the pattern, in a oneOf: it must not match "" too)
            schema["pattern"] = trimmed(field.max_length, min_length=field.min_length, blank=field.allow_blank)
        elif field.allow_blank:
            schema["pattern"] = NO_NUL_NOT_EMPTY
        else:
            schema.update(pattern=NO_NUL_NOT_EMPTY, minLength=max(schema.get("minLength", 0), 1))


def _merge(into: dict, extra: dict) -> dict:
    merged = {status: list(codes) for status, codes in into.items()}
    for status, codes in extra.items():
        if isinstance(codes, str):  # CHECKED_BY_SERVER's entries are rules, not code lists
            merged[status] = codes
            continue
        merged.setdefault(status, [])
        merged[status].extend(code for code in codes if code not in merged[status])
    return merged


class MemberTokenScheme(OpenApiAuthenticationExtension):
    target_class = "bank.authentication.MemberTokenAuthentication"
    name = "memberToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "The token from auth/login, sent as `Token <token>`.",
        }


def refuse_unknown_fields(result: dict, **kwargs) -> dict:
    """Input bodies take only the fields they name (``bank.api_helpers.InputSerializer``): say so in the schema.

    (``TrustbankAutoSchema`` marks the components of input serializers already; this catches any other.)
    """
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Input") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result
