"""Pieces every app's API uses: strict input serializers and the client's address."""

from collections.abc import Mapping

from django.http import HttpRequest
from rest_framework import serializers
from rest_framework.request import Request


class InputSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know, so a typo is an error, not a no-op."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["This field is not accepted here."] for name in unknown})
        return super().to_internal_value(data)


class TextField(serializers.CharField):
    """A CharField that accepts only JSON strings (DRF's own would turn 12 into "12")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class PasswordField(TextField):
    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=128, trim_whitespace=False, style={"input_type": "password"}, **kwargs)


def client_address(request: Request | HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"
