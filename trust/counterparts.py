"""Who a member names: an account of the community, or one of another instance (through ``trust.federated``)."""

from collections.abc import Callable

from bank import selectors as bank_selectors
from bank.models import Member
from core.errors import ApplicationError
from trust import selectors
from trust.federated import counterparts
from trust.models import Account


def counterpart_find(
    *,
    member: Member,
    username: str,
    server: str = "",
    missing: Callable[[str], ApplicationError],
    create: bool = False,
    paying: bool = False,
) -> Account:
    """The account ``username`` (``handle``, ``handle@host``, or ``handle`` with ``server``) names for ``member``:
    in its community, or an account of another instance it holds a trustline with (``create``: found there and
    opened now). A payment (``paying``) reaches any member of another instance, with or without a trustline;
    another community of this instance is never reached. Raises ``missing(message)`` or the federation's own
    refusals."""
    community = member.community
    handle, at, host = username.strip().rpartition("@")
    handle, server = (handle, host) if at else (username.strip(), server)
    server = server.strip().lower()
    if server and server != community.address_domain.lower():
        hub = counterparts()
        if bank_selectors.community_get_by_address_domain(host=server) is not None:
            raise missing(f"{server} is another community on this instance; its accounts are not reachable here.")
        if hub is None:
            raise missing(f"{server} is another server, and this instance does not federate.")
        if paying:
            return hub.remote_party(member=member, handle=handle, server=server)
        return hub.remote_account(member=member, handle=handle, server=server, create=create, missing=missing)
    account = selectors.account_find(community=community, handle=handle)
    if account is None:
        raise missing(f"There is no account {handle!r} in this community.")
    return account
