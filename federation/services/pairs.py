"""Pairing a local member with an account on a remote instance."""

from bank.models import Member
from federation.errors import AddressInvalid, RemoteNotFound
from federation.models import Pair, Remote
from federation.protocols.datagrams import NAME_SIZE, fits


def remote_serving(host: str) -> Remote | None:
    """The known remote whose document lists a community at ``host``."""
    host = host.lower()
    for remote in Remote.objects.all():
        if any(str(community.get("host", "")).lower() == host for community in remote.communities):
            return remote
    return None


def pair_open(*, member: Member, address: str) -> Pair:
    """The pair of ``member`` with ``handle@host`` on a known remote (made the first time)."""
    handle, at, host = address.rpartition("@")
    if not (at and handle and host):
        raise AddressInvalid(f"{address!r} is not a federated address (handle@host).")
    own_host = member.community.address_domain
    for name in (handle, host, own_host):
        if not fits(name):
            raise AddressInvalid(
                f"{name!r} is longer than the {NAME_SIZE} bytes (UTF-8) a federated username or server may have.",
                code="address_too_long",
            )
    remote = remote_serving(host)
    if remote is None:
        raise RemoteNotFound(f"No known instance serves {host}.", code="server_not_found")
    pair, _ = Pair.objects.get_or_create(member=member, handle=handle, host=host.lower(), defaults={"remote": remote})
    return pair
