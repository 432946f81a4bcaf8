"""Identity's receivers of bank's signals (connected in ``IdentityConfig.ready``)."""

from django.contrib.auth.base_user import AbstractBaseUser

from bank.models import Member
from identity.errors import identity_revoked
from identity.selectors import revocation_of
from identity.services.custody import key_recover, passphrase_change
from identity.services.registration import identity_open


def refuse_revoked(sender, *, member: Member, **kwargs) -> None:
    reason = revocation_of(member=member)
    if reason is not None:
        raise identity_revoked(reason)


def open_at_sign_in(sender, *, member: Member, password: str, **kwargs) -> None:
    """Joining with an invite as a new login, or else the member's first sign-in, opens its identity: the
    password, its passphrase, is at hand only then (``member_joined`` does not carry it)."""
    identity_open(member=member, passphrase=password)


def reseal_on_password_change(
    sender, *, user: AbstractBaseUser, old_password: str, new_password: str, **kwargs
) -> None:
    for member in user.memberships.all():
        passphrase_change(member=member, old_passphrase=old_password, new_passphrase=new_password)


def recover_on_password_reset(sender, *, member: Member, new_password: str, **kwargs) -> None:
    key_recover(member=member, passphrase=new_password)
