"""One error shape for the whole API: {"error": {"code": ..., "message": ...}}."""

import re
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions
from rest_framework.response import Response

from core.errors import ApplicationError, Throttled

DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}
API_PATH = re.compile(r"^(?:/c/[^/]+)?/api/")
# The errors Django itself answers, by status: the resolver's 404s, a handler500, its debug pages.
STATUS_ERRORS = {
    400: ("bad_request", "The request could not be understood."),
    403: ("forbidden", "This is not allowed."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not take that method."),
    500: ("server_error", "Something went wrong on our side. It has been logged; please try again later."),
}


def error_body(code: str, message: str, **extra: Any) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def error_response(code: str, message: str, status: int, **extra: Any) -> JsonResponse:
    """The error shape for responses made outside DRF (middleware, Django handlers)."""
    return JsonResponse(error_body(code, message, **extra), status=status)


def is_api_path(path: str) -> bool:
    """``/api/...`` (the instance's, or a community's on its own domain) or ``/c/<slug>/api/...``."""
    return API_PATH.match(path) is not None


def error_page(request: HttpRequest, code: str, message: str, status: int, **extra: Any) -> HttpResponse:
    """The error shape for API paths, a page saying the same for people elsewhere."""
    if is_api_path(request.path_info):
        return error_response(code, message, status=status, **extra)
    return render(request, "error.html", {"code": code, "message": message, "status": status}, status=status)


def status_error(request: HttpRequest, status: int) -> HttpResponse:
    """The error Django answers with ``status`` (no view said more), as the error shape or page."""
    code, message = STATUS_ERRORS.get(status) or STATUS_ERRORS[500 if status >= 500 else 400]
    return error_page(request, code, message, status)


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested validation detail into {"field.path": [messages]}."""
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = prefix if key == "non_field_errors" else (f"{prefix}.{key}" if prefix else str(key))
            fields.update(_flatten(value, name))
        return fields
    if isinstance(detail, list) and detail and not isinstance(detail[0], (dict, list)):
        return {prefix: [str(item) for item in detail]}
    if isinstance(detail, list):
        fields = {}
        for index, value in enumerate(detail):
            fields.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return fields
    return {prefix: [str(detail)]}


def _validation_response(exc: exceptions.ValidationError) -> Response:
    # Errors about the body as a whole (not an object, say) are filed under "body".
    fields = {name or "body": messages for name, messages in _flatten(exc.detail).items()}
    name, messages = next(iter(fields.items()))
    message = f"{name}: {messages[0]}"
    return Response(error_body("invalid_input", message, fields=fields), status=400)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApplicationError):
        response = Response(error_body(exc.code, exc.message, **exc.extra), status=exc.status)
        if isinstance(exc, Throttled):
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(exc)
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: let Django log it and answer 500 (see config.urls handler500)

    code = next((code for cls, code in DRF_CODES.items() if isinstance(exc, cls)), "error")
    response = Response(error_body(code, str(exc.detail)), status=exc.status_code)
    if getattr(exc, "auth_header", None):
        response["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        response["Retry-After"] = str(int(exc.wait))
    return response
