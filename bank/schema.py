"""OpenAPI schema generation (drf-spectacular) adapted to this code base's conventions."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from bank import idempotency

IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    str,
    location=OpenApiParameter.HEADER,
    description=(
        "Optional. A fresh key (a UUID, 1 to 255 visible ASCII characters) per request: a retry with the same key "
        "and body within 24 hours gets the first answer and changes nothing more (docs/api.md, Retries)."
    ),
)


class TrustbankAutoSchema(AutoSchema):
    def get_override_parameters(self) -> list:
        parameters = super().get_override_parameters()
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            parameters = [*parameters, IDEMPOTENCY_KEY]
        return parameters

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
