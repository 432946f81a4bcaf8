"""OpenAPI schema generation (drf-spectacular) adapted to this code base's conventions."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from bank import idempotency

# What any operation may answer besides its success (docs/api.md, Errors); bodies add what only they can cause.
ERRORS = {
    "400": "Bad input: `invalid_input` (with `fields`), `malformed_request`, `bad_request`.",
    "401": "Not signed in, or a bad token: `not_authenticated`, `authentication_failed`, `invalid_credentials`, "
    "`app_token_invalid` and the other app-token codes.",
    "403": "Not allowed: `forbidden`, `not_a_member`, `admin_required`, `member_inactive`, `scope_missing`, ...",
    "404": "Nothing there: `community_not_found`, `not_found` and the `*_not_found` codes.",
    "405": "`method_not_allowed`.",
    "406": "`not_acceptable`: only JSON is served.",
    "409": "The state forbids it: `status_change_not_allowed`, routing refusals (`insufficient_capacity` with "
    "`max_sendable`, `no_trust_path`, `too_many_hops`, `route_changed`) and the other conflicts.",
    "429": "`too_many_attempts` or `throttled`, with `Retry-After`.",
    "500": "`server_error`: logged on the server, never with a traceback in the answer.",
    "503": "`routing_timeout`: try again later.",
}
BODY_ERRORS = {
    "413": "`payload_too_large`: a body over 2.5 MB.",
    "415": "`unsupported_media_type`: bodies are JSON.",
    "422": "`idempotency_key_reused`: the key was sent with another request.",
}


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="A stable code; see docs/api.md, Errors.")
    message = serializers.CharField(help_text="A sentence for a person.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="With invalid_input: each bad field's messages.",
    )


class Error(serializers.Serializer):
    """The API's one error shape; some codes carry more members (``max_sendable``, say)."""

    error = ErrorDetail()


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
    def get_override_parameters(self) -> list:
        parameters = super().get_override_parameters()
        if self.method not in SAFE_METHODS:
            parameters = [*parameters, IDEMPOTENCY_KEY]
        return parameters

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        errors = ERRORS | (BODY_ERRORS if self.method not in SAFE_METHODS else {})
        for status, description in errors.items():
            responses.setdefault(status, {**self._get_response_for_code(Error, status), "description": description})
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
            "description": "The token from auth/login, sent as `Token <token>`.",
        }


def refuse_unknown_fields(result: dict, **kwargs) -> dict:
    """Input bodies take only the fields they name (``core.api.InputSerializer``): say so in the schema."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Input") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result
