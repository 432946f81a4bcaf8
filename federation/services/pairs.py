"""Pairing a local member with an account on a remote instance."""

from bank.models import Member
from federation.errors import AddressInvalid, RemoteNotFound
from federation.models import Pair
from federation.protocols.datagrams import NAME_SIZE, fits
from federation.selectors import remote_serving


def address_parts(*, member: Member, address: str) -> tuple[str, str]:
    """``(handle, host)`` of a federated address that ``member`` can pair with; raises ``AddressInvalid``."""
    handle, at, host = address.strip().lower().rpartition("@")
    if not (at and handle and host):
        raise AddressInvalid(f"{address!r} is not a federated address (handle@host).")
    for name in (handle, host, member.community.address_domain):
        if not fits(name):
            raise AddressInvalid(
                f"{name!r} is longer than the {NAME_SIZE} bytes (UTF-8) a federated username or server may have.",
                code="address_too_long",
            )
    return handle, host


def pair_open(*, member: Member, address: str) -> Pair:
    """The pair of ``member`` with ``handle@host`` on a known remote (made the first time)."""
    handle, host = address_parts(member=member, address=address)
    remote = remote_serving(host)
    if remote is None:
        raise RemoteNotFound(f"No known instance serves {host}.", code="server_not_found")
    pair, _ = Pair.objects.get_or_create(member=member, handle=handle, host=host, defaults={"remote": remote})
    return pair
