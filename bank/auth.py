"""Signing in and out, tokens and passwords."""

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest

from bank import selectors, signals
from bank.models import AuthToken, Community, Member
from bank.services import password_validate
from bank.throttling import login_failed, login_guard
from core.crypto.secrets import digest, new_secret
from core.errors import Forbidden, InvalidInput, Unauthorized


def _account(community: Community, handle: str) -> str:
    return f"{community.pk}:{handle}"


def _login_account(username: str) -> str:
    """The throttle account of an instance login: a member's ``handle@slug`` counts with its membership."""
    handle, _, slug = username.strip().lower().rpartition("@")
    community = selectors.community_get_by_slug(slug=slug) if handle else None
    return _account(community, handle) if community else f"login:{username.strip().lower()}"


def admin_authenticate(*, request: HttpRequest, username: str, password: str, client_address: str) -> AbstractBaseUser:
    """The login that may use Django admin, throttled with the members' sign-ins.

    A right password of a login that is no admin is refused (and counted) as a wrong one, so the
    admin's sign-in page does not tell which passwords are right.
    """
    account = _login_account(username)
    login_guard(account=account, client_address=client_address)
    user = authenticate(request, username=username, password=password)
    if user is None or not selectors.user_may_use_admin(user=user):
        login_failed(account=account, client_address=client_address)
        raise Unauthorized("Wrong username or password, or this login is no community admin's.", code="invalid_login")
    return user


def member_authenticate(*, community: Community, handle: str, password: str, client_address: str) -> Member:
    """The active member whose handle and password these are, or an error saying why not."""
    handle = handle.strip().lower()
    account = _account(community, handle)
    login_guard(account=account, client_address=client_address)
    member = selectors.member_get(community=community, handle=handle)
    if member is None:
        get_user_model()().set_password(password)  # hash anyway: the timing must not tell who exists
    if member is None or not member.user.check_password(password):
        login_failed(account=account, client_address=client_address)
        raise Unauthorized("Wrong username or password.", code="invalid_credentials")
    if not (member.is_active and member.user.is_active):
        raise Forbidden("This membership has been deactivated by a community admin.", code="member_inactive")
    signals.access_requested.send(sender=Member, member=member)
    signals.password_checked.send(sender=Member, member=member, password=password)
    return member


@transaction.atomic
def token_create(*, member: Member) -> str:
    """Issue an API token for the membership; the key is returned once and stored only as a digest."""
    key = new_secret()
    AuthToken.objects.create(member=member, key_digest=digest(key))
    return key


@transaction.atomic
def token_revoke(*, token: AuthToken) -> None:
    token.delete()


def password_change(
    *, member: Member, old_password: str, new_password: str, client_address: str, keep: AuthToken | None = None
) -> None:
    """Change the login's password and sign out every other token of that login.

    Wrong old passwords count as failed sign-ins, so a stolen session cannot guess its way in.
    """
    account = _account(member.community, member.handle)
    login_guard(account=account, client_address=client_address)
    user = member.user
    if not user.check_password(old_password):
        login_failed(account=account, client_address=client_address)
        raise InvalidInput("old_password", ["The current password is wrong."])
    password_validate(new_password, field="new_password", user=user)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        others = AuthToken.objects.filter(member__user=user)
        if keep is not None:
            others = others.exclude(pk=keep.pk)
        others.delete()
        signals.password_changed.send(sender=Member, user=user, old_password=old_password, new_password=new_password)
