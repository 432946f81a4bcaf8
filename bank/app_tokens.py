"""Third-party app tokens (the Tilde client API): issuing, listing and revoking them, and their secrets.

A token's secret is ``HMAC-SHA256(derived_key("app-token-secret"), token)``: computed again for
every request, never stored, and shown to the member only when the token is made. Changing the
server key therefore changes every app token's secret.
"""

import secrets

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from bank.models import AppToken, Member
from core.crypto import macs
from core.crypto.server import derived_key

TOKEN_PREFIX = "app_"


def app_token_secret(token: str) -> str:
    return macs.mac_hex(derived_key("app-token-secret"), token.encode())


@transaction.atomic
def app_token_create(*, member: Member, name: str, scopes: list[str]) -> tuple[AppToken, str]:
    """Issue a token for an app; returns it with its secret, which is shown only this once."""
    wanted = set(scopes)
    app_token = AppToken.objects.create(
        member=member,
        name=name,
        token=TOKEN_PREFIX + secrets.token_urlsafe(18),  # 24 characters, 144 random bits
        scopes=[scope for scope in AppToken.Scope.values if scope in wanted],
    )
    return app_token, app_token_secret(app_token.token)


def app_tokens_of(*, member: Member) -> QuerySet[AppToken]:
    return AppToken.objects.filter(member=member)


def app_token_get(*, member: Member, token: str) -> AppToken | None:
    return app_tokens_of(member=member).filter(token=token).first()


def app_token_revoke(*, app_token: AppToken) -> AppToken:
    """Revoke the token from now on; revoking it again keeps the first revocation's time."""
    AppToken.objects.filter(pk=app_token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    app_token.refresh_from_db(fields=["revoked_at"])
    return app_token


def app_token_used(*, app_token: AppToken) -> None:
    app_token.last_used_at = timezone.now()
    AppToken.objects.filter(pk=app_token.pk).update(last_used_at=app_token.last_used_at)
