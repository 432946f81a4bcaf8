from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bank.models import RESERVED_HANDLES, AuthToken, Community, Invite, Member, handle_validator
from bank.signals import member_joined, password_checked, password_reset
from core.crypto.secrets import digest, new_secret
from core.errors import Conflict, InvalidInput, NotFound

User = get_user_model()


def password_validate(password: str, *, field: str, user: AbstractBaseUser | None = None) -> None:
    """Run the configured password validators, reporting failures against ``field``."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput(field, list(exc.messages)) from None


def _check_handle(handle: str, *, field: str = "username") -> str:
    handle = handle.strip().lower()
    try:
        handle_validator(handle)
    except ValidationError as exc:
        raise InvalidInput(field, list(exc.messages)) from None
    if handle in RESERVED_HANDLES:
        raise InvalidInput(field, [f"The name {handle!r} is reserved."])
    return handle


def _new_login(*, community: Community, handle: str, password: str) -> AbstractBaseUser:
    """A login for a person joining without one, named by ``Community.login_name``."""
    user = User(username=community.login_name(handle))
    password_validate(password, field="password", user=user)
    user.set_password(password)
    user.save()
    return user


def _username_taken(handle: str) -> Conflict:
    return Conflict(f"The username {handle!r} is already taken in this community.", code="username_taken")


def _ensure_handle_free(*, community: Community, handle: str) -> None:
    if Member.objects.filter(community=community, handle=handle).exists():
        raise _username_taken(handle)


def _add_member(*, community: Community, handle: str, user: AbstractBaseUser, role: str) -> Member:
    if Member.objects.filter(community=community, user=user).exists():
        raise Conflict("You are already a member of this community.", code="already_member")
    try:
        with transaction.atomic():
            member = Member.objects.create(community=community, handle=handle, user=user, role=role)
    except IntegrityError:  # a concurrent registration took the handle since it was checked
        raise _username_taken(handle) from None
    member_joined.send(sender=Member, member=member)
    return member


@transaction.atomic
def community_create(
    *,
    slug: str,
    name: str,
    admin_handle: str,
    admin_password: str,
    domain: str | None = None,
    currency_code: str = "TRUST",
    currency_name: str = "Trust",
) -> Member:
    """Create a community with its first admin and return that admin's membership."""
    if Community.objects.filter(slug=slug).exists():
        raise Conflict(f"A community with the slug {slug!r} already exists.", code="community_exists")
    community = Community(slug=slug, name=name, domain=domain, currency_code=currency_code, currency_name=currency_name)
    try:
        community.full_clean()
    except ValidationError as exc:
        raise InvalidInput.from_model_validation(exc) from None
    community.save()
    return member_create(community=community, handle=admin_handle, password=admin_password, role=Member.Role.ADMIN)


@transaction.atomic
def member_create(
    *, community: Community, handle: str, password: str, role: str = Member.Role.MEMBER, handle_field: str = "username"
) -> Member:
    """``handle_field`` names the caller's input field for the handle in validation errors."""
    handle = _check_handle(handle, field=handle_field)
    _ensure_handle_free(community=community, handle=handle)
    user = _new_login(community=community, handle=handle, password=password)
    return _add_member(community=community, handle=handle, user=user, role=role)


@transaction.atomic
def member_deactivate(*, member: Member, by: Member | None) -> Member:
    """Deactivate a membership. Nothing is deleted: its history stays, its tokens stop working."""
    if by is not None and member.pk == by.pk:
        raise Conflict("You cannot deactivate your own membership.", code="cannot_deactivate_self")
    member.is_active = False
    member.save(update_fields=["is_active"])
    member.auth_tokens.all().delete()
    return member


@transaction.atomic
def member_reset_password(*, member: Member, new_password: str) -> Member:
    """Set a member's password on an admin's word.

    Refused when the login also belongs to other communities: an admin of one community must not
    be able to take over a person's memberships elsewhere.
    """
    user = member.user
    if user.memberships.exclude(community=member.community).exists():
        raise Conflict(
            "This login is also used in other communities; only its owner can change its password.",
            code="login_shared",
        )
    password_validate(new_password, field="new_password", user=user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    AuthToken.objects.filter(member__user=user).delete()
    password_reset.send(sender=Member, member=member, new_password=new_password)
    return member


@transaction.atomic
def invite_create(*, community: Community, created_by: Member | None) -> tuple[Invite, str]:
    """Create a single-use invite; returns it with its code, which is shown only this once."""
    code = new_secret()
    invite = Invite.objects.create(
        community=community,
        code_digest=digest(code),
        created_by=created_by,
        expires_at=timezone.now() + timedelta(hours=settings.INVITE_LIFETIME_HOURS),
    )
    return invite, code


@transaction.atomic
def invite_redeem(
    *,
    community: Community,
    code: str,
    handle: str,
    password: str | None = None,
    user: AbstractBaseUser | None = None,
) -> Member:
    """Join a community with an invite: as a new login (``password``) or as an existing one (``user``).

    A new login's password is at hand as at a sign-in, so ``password_checked`` is sent as a sign-in sends it
    (identity opens the member's key); an existing login's password is not, and waits for its next sign-in.
    """
    handle = _check_handle(handle)
    # Locking the invite makes two concurrent redemptions of one code queue up; the second sees it used.
    invite = Invite.objects.select_for_update().filter(community=community, code_digest=digest(code)).first()
    if invite is None:
        raise NotFound("This invite code is not valid for this community.", code="invite_invalid")
    if invite.used_at is not None:
        raise Conflict("This invite has already been used.", code="invite_used")
    if invite.expires_at <= timezone.now():
        raise Conflict("This invite has expired; ask an admin for a new one.", code="invite_expired")
    _ensure_handle_free(community=community, handle=handle)
    new_login = user is None
    if new_login:
        user = _new_login(community=community, handle=handle, password=password or "")
    member = _add_member(community=community, handle=handle, user=user, role=Member.Role.MEMBER)
    invite.used_at = timezone.now()
    invite.used_by = member
    invite.save(update_fields=["used_at", "used_by"])
    if new_login:
        password_checked.send(sender=Member, member=member, password=password)
    return member
