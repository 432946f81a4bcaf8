"""Reads of federation: the pairs a datagram may be for, the datagrams due to be sent, the remotes seen."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from bank.models import Member
from federation import pairing, peers
from federation.models import Outbound, Pair, Remote, Transit
from federation.protocols.datagrams import PeerCommand, PeerDatagram, Session


@dataclass(frozen=True)
class PairKey:
    """A pair as the listener needs it: who is on each side and the base key of their datagrams."""

    pair_id: int
    local_handle: str
    local_host: str
    remote_handle: str
    remote_host: str
    base_key: bytes

    @property
    def local_address(self) -> str:
        return f"{self.local_handle}@{self.local_host}"

    def datagram(
        self, counter: int, command: PeerCommand, arguments: dict, *, session: Session = Session.ACCOUNT
    ) -> PeerDatagram:
        """A datagram from the member here to the remote account, numbered ``counter``."""
        names = (self.remote_handle, self.local_handle, self.local_host)
        return PeerDatagram(session, *names, counter, command, arguments)


def pairs_addressed(*, recipient: str, sender: str, sender_server: str) -> list[PairKey]:
    """The pairs of a local member ``recipient`` with ``sender@sender_server`` (one per community the handle
    is a member of; the datagram's MAC tells which one it is for)."""
    pairs = Pair.objects.filter(member__handle=recipient, handle=sender, host=sender_server, member__is_active=True)
    return [pair_key_of(pair) for pair in pairs.select_related("member__community", "remote")]


def remote_serving(host: str) -> Remote | None:
    """The known remote whose document lists a community at ``host``."""
    host = host.lower()
    for remote in Remote.objects.all():
        if any(str(community.get("host", "")).lower() == host for community in remote.communities):
            return remote
    return None


@dataclass(frozen=True)
class Candidate:
    """A member here who may be the recipient of a first datagram from an account on a known remote."""

    member_id: int
    base_key: bytes


def pair_candidates(*, recipient: str, sender: str, sender_server: str) -> list[Candidate]:
    """Members named ``recipient`` (one per community) and the base key each would share with
    ``sender@sender_server``, when a known remote serves that host."""
    remote = remote_serving(sender_server)
    if remote is None:
        return []
    members = Member.objects.filter(handle=recipient, is_active=True).select_related("community")
    return [
        Candidate(
            member.pk,
            pairing.pair_key(
                peer_agree_key=remote.agree_key,
                local=f"{member.handle}@{member.community.address_domain}",
                remote=f"{sender}@{sender_server}",
            ),
        )
        for member in members
    ]


def pair_key_of(pair: Pair) -> PairKey:
    local_host = pair.member.community.address_domain
    base = pairing.pair_key(
        peer_agree_key=pair.remote.agree_key, local=f"{pair.member.handle}@{local_host}", remote=pair.remote_address
    )
    return PairKey(pair.pk, pair.member.handle, local_host, pair.handle, pair.host, base)


@dataclass(frozen=True)
class Due:
    """A datagram to send now: the first unacknowledged one of its pair."""

    outbound_id: int
    datagram: bytes
    destination: tuple[str, int]
    attempts: int


def outbound_due(*, now: datetime, limit: int = 100) -> list[Due]:
    first_open = (
        Outbound.objects.filter(pair=OuterRef("pair"), acked_at__isnull=True).order_by("counter").values("counter")[:1]
    )
    rows = (
        Outbound.objects.filter(acked_at__isnull=True, next_at__lte=now, counter=Subquery(first_open))
        .select_related("pair__remote")
        .order_by("next_at")[:limit]
    )
    due = []
    for row in rows:
        host, port = peers.parse_address(row.pair.remote.udp_endpoint)
        due.append(Due(row.pk, bytes(row.datagram), (host, port or 0), row.attempts))
    return due


def remotes_seen(*, within: timedelta = timedelta(days=1)) -> list[str]:
    """The web addresses of the remotes that answered lately, best score first (PING's SEEN)."""
    since = timezone.now() - within
    return [remote.address for remote in Remote.objects.filter(last_seen__gte=since).order_by("-score", "host")]


def sync_pending(*, pair_ids: list[int]) -> bool:
    """Whether a change of the pairs' trustline awaits the other instance's acknowledgement."""
    return Outbound.objects.filter(
        pair_id__in=pair_ids, command=PeerCommand.SYNC_TRUSTLINE, acked_at__isnull=True
    ).exists()


def remotes_listed() -> list[dict]:
    """The known remotes with their scores (``GET /remotes``)."""
    return [
        {
            "host": remote.host,
            "port": remote.port,
            "url": remote.url,
            "score": remote.score,
            "score_time": remote.score_time,
            "last_seen": remote.last_seen,
            "failures": remote.failures,
        }
        for remote in Remote.objects.order_by("-score", "host")
    ]


def announced_hashlock(*, pair_id: int, request: bytes) -> bytes:
    """ACK_SYNC's id: the hashlock the payee here chose for the payment announced as ``request`` over the pair,
    or ``request`` itself when none was (the announcement was declined)."""
    hashlock = (
        Transit.objects.filter(counterpart_id=pair_id, request_id=request.hex(), role=Transit.Role.PAYEE)
        .values_list("hashlock", flat=True)
        .first()
    )
    return bytes.fromhex(hashlock) if hashlock else request
