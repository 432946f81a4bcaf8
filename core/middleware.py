"""The outermost middleware: limits, the API's error shape for Django's own errors, security headers."""

from collections.abc import Callable
from contextlib import suppress
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

from core.exception_handler import error_page, is_api_path, status_error
from core.parsers import body_too_large

# Scripts, styles and everything else from this origin only; the live socket of the identity page is
# same-origin too ('self' covers it in CSP 3 browsers, the explicit ws(s) origin in older ones).
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
DENIED_FEATURES = (
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)


class EdgeMiddleware:
    """The outermost middleware: what every request and response passes, whoever answers it.

    Before anything reads a request it refuses a body longer than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413, by
    Content-Length) and a query holding NUL, which PostgreSQL refuses in text. On API paths, errors that Django
    answers itself (the resolver's 404s, 500s, the debug pages) take the API's error shape. Every response gets
    the security headers; a view may widen a CSP directive with ``response.csp_sources`` (the API docs do).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = _refusal(request) or self.get_response(request)
        api_error = response.status_code >= 400 and is_api_path(request.path_info) and not response.streaming
        if api_error and not _is_json(response):
            # The same response, logged already and with its headers (Allow, say), in the error shape.
            shaped = status_error(request, response.status_code)
            response.content, response["Content-Type"] = shaped.content, shaped["Content-Type"]
        debug_page = settings.DEBUG and response.status_code >= 400 and not _is_json(response)
        if not debug_page:  # Django's debug pages need their inline scripts and styles
            response.headers.setdefault("Content-Security-Policy", _content_security_policy(request, response))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


def _refusal(request: HttpRequest) -> HttpResponse | None:
    if _too_large(request.META.get("CONTENT_LENGTH", "")):
        refusal = body_too_large()
        return error_page(request, refusal.code, refusal.message, refusal.status)
    query = parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
    name = next((name for name, value in query if "\x00" in name + value), None)
    if name is not None:
        message = "This must not hold a NUL character."
        return error_page(request, "invalid_input", f"{name}: {message}", 400, fields={name: [message]})
    return None


def _too_large(content_length: str) -> bool:
    """More than ``DATA_UPLOAD_MAX_MEMORY_SIZE``; more digits than the limit has is more (never int() of thousands)."""
    limit, digits = settings.DATA_UPLOAD_MAX_MEMORY_SIZE, content_length.lstrip("0")
    if limit is None or not (digits.isascii() and digits.isdigit()):
        return False
    return len(digits) > len(str(limit)) or int(digits) > limit


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def _content_security_policy(request: HttpRequest, response: HttpResponse) -> str:
    policy = dict(CONTENT_SECURITY_POLICY)
    with suppress(DisallowedHost):  # refused already (400); the policy stays 'self'
        policy["connect-src"] += f" {'wss' if request.is_secure() else 'ws'}://{request.get_host()}"
    for directive, sources in getattr(response, "csp_sources", {}).items():
        policy[directive] += f" {sources}"
    return "; ".join(f"{directive} {sources}" for directive, sources in policy.items())
