"""What the listener answers, on the Django side: plain functions the event loop runs in a thread.

A datagram is acknowledged by the seed's answer to its command (ACK_PAYMENT to DIRECT_PAYMENT,
ACK_TRUSTLINE to SYNC_TRUSTLINE, ...; ACK_COMMIT with a status where the seed names none). An
acknowledgement carries the counter of the datagram it answers, authenticated with that datagram's
session key: it uses no counter of its own and acting on it twice changes nothing. A datagram that
cannot be answered with a MAC (unknown pair, bad MAC, replayed counter) gets a notice.
"""

import hashlib
import logging
import time
from dataclasses import dataclass, field
from functools import partial

from bank import selectors as bank_selectors
from bank.models import Member
from federation import documents, selectors
from federation.pairing import session_key
from federation.protocols import datagrams, text
from federation.protocols.datagrams import Notice, PeerCommand, PeerDatagram, Session, Status
from federation.protocols.results import CMResult
from federation.services import datagrams as datagram_services
from federation.services import pairs
from federation.services.datagrams import Acceptance
from federation.services.scores import own_score
from trust.services.settlement import with_retries

logger = logging.getLogger("federation.listener")

ACKNOWLEDGEMENTS = {
    PeerCommand.DIRECT_PAYMENT: PeerCommand.ACK_PAYMENT,
    PeerCommand.SYNC_TRUSTLINE: PeerCommand.ACK_TRUSTLINE,
    PeerCommand.DIRECT_TRANSFER: PeerCommand.ACK_TRANSFER,
    PeerCommand.SYNC_PAYMENT: PeerCommand.ACK_SYNC,
    PeerCommand.FINALIZE_PAYMENT: PeerCommand.ACK_PREIMAGE,
    PeerCommand.CANCEL_PAYMENT: PeerCommand.ACK_PREIMAGE,
}
ACKNOWLEDGING = {*ACKNOWLEDGEMENTS.values(), PeerCommand.ACK_COMMIT}
# What may come from an account no member here is paired with yet: a trustline opened, a payment announced,
# a payment asked for (FIND_PATH "in" between the payment's two ends).
FIRST_CONTACTS = {PeerCommand.SYNC_TRUSTLINE, PeerCommand.SYNC_PAYMENT}


def _opens_contact(message: PeerDatagram) -> bool:
    if message.command in FIRST_CONTACTS:
        return True
    asked = message.command == PeerCommand.FIND_PATH and message.arguments.get("in_or_out") == 1
    return asked and message.session == Session.COUNTERPART


PAIR_CACHE_SECONDS = 2.0  # pairs looked up lately: a flood of forged datagrams does not reach the database
_pairs: dict[tuple[str, str, str], tuple[float, list[selectors.PairKey]]] = {}


@dataclass
class Snapshot:
    """What PING tells, read from the database every ``SNAPSHOT_SECONDS`` rather than per PING."""

    seen: list[str] = field(default_factory=list)
    score: str | None = None


SNAPSHOT_SECONDS = 1.0


def snapshot() -> Snapshot:
    score = own_score()
    return Snapshot(selectors.remotes_seen(), score.to_text() if score else None)


def ping(request: text.Request, peer_ip: str, known: Snapshot) -> text.Response:
    """PING: the caller's address as seen here, this instance's, the remotes that answered lately, and its
    score. SUCC and PRED stay empty until the instances form a ring."""
    headers = [
        ("YOUR-IP", peer_ip),
        ("MY-IP", documents.advertised_host()),
        ("SUCC", ""),
        ("PRED", ""),
        ("SEEN", ",".join(known.seen)),
    ]
    if known.score is not None:
        headers.append(("SCORE", known.score))
    return text.Response(CMResult.S_OK, request.nonce, headers=tuple(headers))


def account_get(request: text.Request, peer_ip: str) -> text.Response:
    """``GET ACCNT/<handle@host>``: whether a member here has that address (part 3 adds the record)."""
    kind, _, address = (request.args[0] if request.args else "").partition("/")
    if kind != "ACCNT" or len(request.args) != 1:
        return text.Response(CMResult.E_Invalid_Object_Path, request.nonce)
    handle, at, host = address.lower().rpartition("@")
    if not (at and handle and host):
        return text.Response(CMResult.E_Account_ID_Invalid, request.nonce)
    community = bank_selectors.community_get_by_address_domain(host=host)
    member = bank_selectors.member_get(community=community, handle=handle) if community else None
    if member is None or not member.is_active:
        return text.Response(CMResult.E_Item_Not_Found, request.nonce)
    return text.Response(CMResult.S_OK, request.nonce, headers=(("ID", member.address),))


def peer_datagram(message: PeerDatagram, data: bytes) -> bytes | None:
    """The answer to an authentic datagram from a pair, or a notice; None for an acknowledgement."""
    sender = f"{message.sender}@{message.sender_server}"
    for pair in _pairs_addressed(message):
        if datagrams.authentic(data, session_key(pair.base_key, sender=sender, counter=message.counter)):
            break
    else:
        pair = _first_contact(message, data, sender)
        if pair is None:
            status = Status.BAD_SIGNATURE if _pairs_addressed(message) else Status.UNKNOWN_ACCOUNT
            return refusal(status, f"{sender} to {message.recipient}")
    if message.command in ACKNOWLEDGING:
        if with_retries(partial(datagram_services.outbound_acknowledged, pair_id=pair.pair_id, message=message)):
            logger.info("event=acknowledged pair=%s counter=%s", pair.pair_id, message.counter)
        return None
    # A deadlock's victim (a web process's step and this one locking two pairs the other way round) changed
    # nothing and runs again at once.
    outcome, status = with_retries(partial(datagram_services.datagram_accept, pair_id=pair.pair_id, message=message))
    if outcome is Acceptance.REPLAYED:
        return refusal(Status.REPLAYED, f"counter {message.counter} of pair {pair.pair_id}")
    logger.info(
        "event=accepted pair=%s counter=%s command=%s as=%s",
        pair.pair_id,
        message.counter,
        message.command.name,
        outcome.value,
    )
    answer = acknowledgement(message, pair, status)
    return datagrams.encode(answer, session_key(pair.base_key, sender=pair.local_address, counter=message.counter))


def _first_contact(message: PeerDatagram, data: bytes, sender: str) -> selectors.PairKey | None:
    """A first datagram (``FIRST_CONTACTS``) from an account on a known remote that no member here is paired
    with yet: the member it is for (the one whose agreed key it verifies with) is paired with it now."""
    if not _opens_contact(message):
        return None
    candidates = selectors.pair_candidates(
        recipient=message.recipient, sender=message.sender, sender_server=message.sender_server
    )
    for candidate in candidates:
        if datagrams.authentic(data, session_key(candidate.base_key, sender=sender, counter=message.counter)):
            member = Member.objects.select_related("community").get(pk=candidate.member_id)
            pair = pairs.pair_open(member=member, address=sender)
            _pairs.clear()
            return selectors.pair_key_of(pair)
    return None


def acknowledgement(message: PeerDatagram, pair: selectors.PairKey, status: Status = Status.OK) -> PeerDatagram:
    command = ACKNOWLEDGEMENTS.get(message.command, PeerCommand.ACK_COMMIT)
    given = message.arguments
    arguments = {
        PeerCommand.ACK_PAYMENT: lambda: {"counter": given["counter"], "status": status},
        PeerCommand.ACK_TRUSTLINE: lambda: {"limit": given["limit"]},
        PeerCommand.ACK_TRANSFER: lambda: {"counter": given["counter"]},
        PeerCommand.ACK_SYNC: lambda: {"id": selectors.announced_hashlock(pair_id=pair.pair_id, request=given["id"])},
        PeerCommand.ACK_PREIMAGE: lambda: {"id": hashlib.sha256(given["preimage"]).digest()},
        PeerCommand.ACK_COMMIT: lambda: {"id": given.get("id", bytes(32)), "status": status},
    }[command]()
    return pair.datagram(message.counter, command, arguments)


def refusal(status: Status, about: str) -> bytes:
    logger.info("event=refused status=%s about=%s", status.name, about)
    return datagrams.encode_notice(Notice(status, datagrams.DESCRIPTIONS[status]))


def _pairs_addressed(message: PeerDatagram) -> list[selectors.PairKey]:
    names = (message.recipient, message.sender, message.sender_server)
    now = time.monotonic()
    cached = _pairs.get(names)
    if cached is None or now - cached[0] > PAIR_CACHE_SECONDS:
        if len(_pairs) > 10_000:
            _pairs.clear()
        found = selectors.pairs_addressed(recipient=names[0], sender=names[1], sender_server=names[2])
        cached = _pairs[names] = (now, found)
    return cached[1]
