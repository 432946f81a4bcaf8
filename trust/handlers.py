from bank.models import Member
from trust.services.accounts import account_open


def open_account(sender, *, member: Member, **kwargs) -> None:
    """Every new member gets an account and a trustline with the commons, in the joining transaction."""
    account_open(member=member)
