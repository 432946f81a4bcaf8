"""OpenAPI schema generation (drf-spectacular) adapted to this code base's conventions."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class TrustbankAutoSchema(AutoSchema):
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
