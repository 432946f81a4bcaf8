"""Known peer instances (Zold's remotes): adding, removing and updating them, and ranking them by score."""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError
from federation import documents, peers
from federation.errors import PeerUnreachable, RemoteNotFound
from federation.models import Remote
from federation.protocols.results import CMResult
from federation.scores import Score

logger = logging.getLogger(__name__)


def remote_add(*, address: str) -> Remote:
    """Fetch, verify and pin the document of the instance at ``HOST[:PORT]``, then PING it."""
    host, port = peers.parse_address(address)
    remote = Remote.objects.filter(host=host, port=port).first() or Remote(host=host, port=port)
    _refresh(remote)
    return remote


def remote_remove(*, address: str) -> None:
    host, port = peers.parse_address(address)
    remote = Remote.objects.filter(host=host, port=port).first()
    if remote is None:
        raise RemoteNotFound(f"No remote {peers.web_address(host, port)} is known.")
    if remote.pairs.exists():
        raise ApplicationError(
            f"{remote.address} has accounts paired with members here; it cannot be removed.", code="remote_in_use"
        )
    remote.delete()


@dataclass
class Update:
    """What ``remote_update`` did."""

    refreshed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


def remote_update() -> Update:
    """PING every remote and refresh its document and score; drop those that failed ``REMOTE_MAX_FAILURES``
    times in a row; then add remotes they have seen, verified by their documents, while the sum of scores
    is below ``REMOTES_MIN_SCORE_SUM`` (Zold keeps it just above its MSS, not more)."""
    update, seen = Update(), set()
    for remote in list(Remote.objects.all()):
        try:
            seen |= _refresh(remote)
        except ApplicationError as exc:
            logger.info("remote %s failed: %s", remote.address, exc.message)
            remote.failures += 1
            if remote.failures >= settings.REMOTE_MAX_FAILURES and not remote.pairs.exists():
                remote.delete()
                update.dropped.append(remote.address)
            else:
                remote.save(update_fields=["failures"])
                update.failed.append(remote.address)
        else:
            update.refreshed.append(remote.address)
    known = {remote.address for remote in Remote.objects.all()} | {own_web_address()}
    total = sum(Remote.objects.values_list("score", flat=True))
    for address in sorted(seen - known):
        if total >= settings.REMOTES_MIN_SCORE_SUM:
            break
        try:
            total += remote_add(address=address).score
        except ApplicationError as exc:
            logger.info("seen remote %s not added: %s", address, exc.message)
        else:
            update.added.append(address)
    return update


def own_web_address() -> str:
    parts = urlsplit(settings.INSTANCE_URL)
    return peers.web_address((parts.hostname or "").lower(), parts.port)


def _refresh(remote: Remote) -> set[str]:
    """Verify the remote's current document against what is pinned, PING it, store both; returns the
    addresses it has seen."""
    pinned = None
    if remote.pk is not None:
        pinned = documents.Pinned(remote.sign_key, remote.agree_key, remote.signed_at)
    document = documents.verified(peers.fetch_document(remote.host, remote.port), pinned=pinned)
    answer = peers.ping(document["endpoints"]["ws"])
    if answer.result != CMResult.S_OK:
        raise PeerUnreachable(f"{remote.address} answered PING with {answer.result.name}.")
    now = timezone.now()
    remote.url, remote.name = document["url"], str(document.get("name", ""))[:200]
    remote.sign_key, remote.agree_key = document["keys"]["sign"], document["keys"]["agree"]
    remote.ws_endpoint, remote.udp_endpoint = document["endpoints"]["ws"], document["endpoints"]["udp"]
    remote.dht_id, remote.document = str(document.get("dht_id", ""))[:16], document
    remote.signed_at = datetime.fromisoformat(document["signed_at"])
    remote.score, remote.score_time = shown_score(document, now)
    remote.last_seen, remote.failures = now, 0
    with transaction.atomic():
        remote.save()
    return {address.strip() for address in ",".join(answer.values("SEEN")).split(",") if address.strip()}


def shown_score(document: dict, now: datetime) -> tuple[int, datetime | None]:
    """The worth of the score a document shows: 0 unless it is valid, fresh, and made for that instance's
    host, port and signing key."""
    try:
        score = Score.from_dict(document.get("score"))
    except ValueError:
        return 0, None
    parts = urlsplit(document["url"])
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if (score.host, score.port, score.key) != ((parts.hostname or "").lower(), port, document["keys"]["sign"]):
        return 0, None
    return score.worth(now), score.time
