"""Peer instances made up in memory: their signed documents and their answers to PING."""

from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.utils import timezone

from core.crypto.server import public_hex
from federation import documents
from federation.errors import PeerUnreachable
from federation.protocols import text
from federation.protocols.results import CMResult
from federation.scores import Score

STRENGTH = 4


@dataclass
class FakePeer:
    host: str
    port: int = 8000
    seen: list[str] = field(default_factory=list)
    up: bool = True
    score_value: int = 3
    sign: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    agree: X25519PrivateKey = field(default_factory=X25519PrivateKey.generate)
    communities: list[dict] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://{self.host}:2013"

    def score(self, now: datetime) -> Score:
        score = Score.start(host=self.host, port=self.port, key=public_hex(self.sign), strength=STRENGTH, now=now)
        for _ in range(self.score_value):
            score = score.next()
        return score

    def document(self, **changes) -> dict:
        now = timezone.now()
        document = {
            "name": self.host,
            "url": f"http://{self.host}:{self.port}",
            "version": "1.0.0",
            "protocols": documents.PROTOCOLS,
            "endpoints": {"ws": self.ws, "udp": f"{self.host}:2012"},
            "keys": {"sign": public_hex(self.sign), "agree": public_hex(self.agree)},
            "dht_id": documents.dht_id(self.ws),
            "communities": self.communities,
            "score": self.score(now).to_dict(),
            "signed_at": now.isoformat(),
            **changes,
        }
        document["signature"] = self.sign.sign(documents.canonical(document)).hex()
        return document


class FakeNetwork:
    """Stands in for ``federation.peers``' network calls: documents and PINGs of the peers it holds."""

    def __init__(self, monkeypatch, *peers: FakePeer) -> None:
        self.peers = {peer.address: peer for peer in peers}
        monkeypatch.setattr("federation.peers.fetch_document", self.fetch_document)
        monkeypatch.setattr("federation.peers.ping", self.ping)

    def _up(self, address: str) -> FakePeer:
        peer = self.peers.get(address)
        if peer is None or not peer.up:
            raise PeerUnreachable(f"The peer at {address} did not answer.")
        return peer

    def fetch_document(self, host: str, port: int | None) -> dict:
        return self._up(f"{host}:{port}").document()

    def ping(self, ws_url: str, *, endpoint: str | None = None) -> text.Response:
        peer = next(peer for peer in self.peers.values() if peer.ws == ws_url)
        self._up(peer.address)
        return text.Response(CMResult.S_OK, "1", headers=(("SEEN", ",".join(peer.seen)),))
