import re
import time

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.request import Request

from bank import app_tokens
from bank.app_signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_request
from bank.models import AppToken, AuthToken
from core.crypto import macs
from core.errors import Unauthorized


class MemberTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <key>`` with a key issued by ``auth/login``; ``Bearer <key>`` is refused saying so.

    A token belongs to one membership: ``bank.permissions`` grants it access only in that
    membership's community. It stops working at logout or when the membership or login is deactivated.
    """

    keyword = "Token"

    def authenticate(self, request: Request):
        parts = get_authorization_header(request).split()
        if parts and parts[0].lower() == b"bearer":
            # The scheme of OAuth's tokens, which apps send out of habit: say which one this API reads.
            raise NotAuthenticated("This API reads its tokens as 'Authorization: Token <token>', not 'Bearer <token>'.")
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("The Authorization header must be 'Token <key>'.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("The token has characters a token never has.") from None
        token = AuthToken.objects.for_key(key).select_related("member__user", "member__community").first()
        member = token.member if token else None
        if member is None or not (member.is_active and member.user.is_active):
            raise AuthenticationFailed("The token is not valid; sign in again.")
        return member.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class AppTokenRefused(Unauthorized):
    """A refused app-token request: 401 with a code of its own (the exception handler keeps the code,
    where DRF's ``AuthenticationFailed`` would always come out as ``authentication_failed``)."""


TIMESTAMP = re.compile(r"[0-9]{1,12}")
# App tokens are "app_" and URL-safe base64 (bank.app_tokens); only text of that form is looked up.
TOKEN_TEXT = re.compile(rb"app_[A-Za-z0-9_-]{1,64}")


class AppTokenAuthentication(BaseAuthentication):
    """``Authorization: App <token>`` on a request signed with the token's secret (``bank.app_signing``).

    Checks, in order: the token exists, the signature is right, the timestamp is within
    ``APP_TOKEN_WINDOW_SECONDS`` of now, the token is not revoked and its membership is active, and the
    signature has not been seen before. The last check keeps each signature in the cache for twice the
    window (as long as its timestamp can pass); ``cache.add`` is atomic on Redis, so of two processes
    receiving the same request only one lets it in. The scopes are enforced by ``bank.permissions``.
    """

    keyword = "App"

    def authenticate(self, request: Request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        app_token = self._token(parts)
        timestamp = request.META.get("HTTP_X_TRUSTBANK_TIMESTAMP", "")
        if not TIMESTAMP.fullmatch(timestamp):
            raise AppTokenRefused(
                f"The {TIMESTAMP_HEADER} header must be the time in Unix seconds.", code="app_token_invalid"
            )
        secret = app_tokens.app_token_secret(app_token.token)
        expected = sign_request(secret, request.method, request.get_full_path(), timestamp, request.body)
        signature = request.META.get("HTTP_X_TRUSTBANK_SIGNATURE", "")
        if not macs.same(expected, signature):
            raise AppTokenRefused("The request's signature is not right.", code="app_signature_invalid")
        window = settings.APP_TOKEN_WINDOW_SECONDS
        if abs(time.time() - int(timestamp)) > window:
            raise AppTokenRefused(
                f"The request's timestamp is more than {window} seconds from the server's clock.",
                code="app_timestamp_expired",
            )
        member = app_token.member
        if app_token.revoked_at is not None or not (member.is_active and member.user.is_active):
            raise AppTokenRefused("This app token has been revoked.", code="app_token_revoked")
        if not cache.add(f"app-token-seen:{app_token.token}:{signature}", 1, timeout=2 * window):
            raise AppTokenRefused(
                "This request has been made already; sign each one anew.", code="app_request_replayed"
            )
        app_tokens.app_token_used(app_token=app_token)
        return member.user, app_token

    def _token(self, parts: list[bytes]) -> AppToken:
        app_token = None
        if len(parts) == 2 and TOKEN_TEXT.fullmatch(parts[1]):  # nothing else reaches the database (NUL, say)
            app_token = AppToken.objects.filter(token=parts[1].decode()).select_related("member__user").first()
        if app_token is None:
            raise AppTokenRefused(
                "The Authorization header must be 'App <token>' with a known token.", code="app_token_invalid"
            )
        return app_token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class AppTokenScheme(OpenApiAuthenticationExtension):
    """The schema's description of app-token requests (kept here, beside the class it describes)."""

    target_class = AppTokenAuthentication
    name = "appToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An app token, sent as `App <token>`, with the request signed in the headers "
            f"`{TIMESTAMP_HEADER}` and `{SIGNATURE_HEADER}` (see docs/api.md, App tokens).",
        }
