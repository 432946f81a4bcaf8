"""The instance's well-known document (``/.well-known/trustbank.json``): who it is, signed by its key.

The signature is Ed25519 by the server's signing key over the document's canonical JSON (keys sorted,
no spaces, UTF-8) without ``signature``. A peer pins the keys of the first document it accepts and
then accepts a document only when it verifies, is not older than the one it holds, and keeps the
pinned keys or carries a ``rotation`` signed by the pinned signing key.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

import core
from bank.models import Community
from core.crypto import server as server_keys
from core.crypto.hexes import is_hex
from core.crypto.signatures import server_signature_valid
from federation.errors import DocumentRefused

PROTOCOLS = ["civil-money-text/1.0", "resilience-udp/1"]
KEY_HEX_LENGTH = 64


def canonical(document: dict) -> bytes:
    """The signed bytes: the document without ``signature``, as canonical JSON."""
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def dht_id(endpoint: str) -> str:
    """Civil Money's DHT_ID: the first 8 bytes of MD5 of the endpoint (a placement hash, nothing secret), hex."""
    return hashlib.md5(endpoint.encode(), usedforsecurity=False).digest()[:8].hex()


def advertised_host() -> str:
    return urlsplit(settings.INSTANCE_URL).hostname or "127.0.0.1"


def endpoints() -> dict[str, str]:
    host = advertised_host()
    return {
        "ws": settings.PEER_PUBLIC_WS_URL or f"ws://{host}:{settings.PEER_WS_PORT}",
        "udp": settings.PEER_PUBLIC_UDP or f"{host}:{settings.PEER_UDP_PORT}",
    }


def own_keys() -> dict[str, str]:
    return {
        "sign": server_keys.public_hex(server_keys.server_signing_key()),
        "agree": server_keys.public_hex(server_keys.server_agreement_key()),
    }


def own_document(*, score: dict | None) -> dict:
    """This instance's document, signed now."""
    ends = endpoints()
    document = {
        "name": settings.INSTANCE_NAME,
        "url": settings.INSTANCE_URL,
        "version": core.VERSION,
        "protocols": PROTOCOLS,
        "endpoints": ends,
        "keys": own_keys(),
        "dht_id": dht_id(ends["ws"]),
        "communities": [
            {"slug": c.slug, "host": c.address_domain, "name": c.name, "currency": c.currency_code}
            for c in Community.objects.order_by("slug")
        ],
        "score": score,
        "signed_at": timezone.now().isoformat(),
    }
    if settings.PREVIOUS_SERVER_KEY:
        previous = Ed25519PrivateKey.from_private_bytes(settings.PREVIOUS_SERVER_KEY)
        keys = document["keys"]
        document["rotation"] = {
            "from": server_keys.public_hex(previous),
            "signature": previous.sign(rotation_text(keys["sign"], keys["agree"])).hex(),
        }
    document["signature"] = server_keys.server_sign(canonical(document)).hex()
    return document


@dataclass(frozen=True)
class Pinned:
    """What a peer already holds of an instance: its keys and when its latest document was signed."""

    sign_key: str
    agree_key: str
    signed_at: datetime | None


def rotation_text(sign_key: str, agree_key: str) -> bytes:
    """What the old signing key signs to hand the instance over to new keys."""
    return f"trustbank-rotation|{sign_key}|{agree_key}".encode()


def verified(document: object, *, pinned: Pinned | None) -> dict:
    """``document`` when it is a well-formed document that verifies against ``pinned`` (see the module's
    docstring); raises ``DocumentRefused`` naming what is wrong."""
    if not isinstance(document, dict):
        raise DocumentRefused("The peer's document is not a JSON object.")
    keys, ends = document.get("keys"), document.get("endpoints")
    if not (isinstance(keys, dict) and all(is_hex(keys.get(name), KEY_HEX_LENGTH) for name in ("sign", "agree"))):
        raise DocumentRefused("The peer's document has no valid keys (sign, agree: 64 hex digits each).")
    if not (isinstance(ends, dict) and all(isinstance(ends.get(name), str) for name in ("ws", "udp"))):
        raise DocumentRefused("The peer's document has no endpoints (ws, udp).")
    if not isinstance(document.get("url"), str) or not isinstance(document.get("communities"), list):
        raise DocumentRefused("The peer's document has no url or no list of communities.")
    signed_at = parse_datetime(document["signed_at"]) if isinstance(document.get("signed_at"), str) else None
    if signed_at is None or signed_at.tzinfo is None:
        raise DocumentRefused("The peer's document has no valid signed_at time.")
    signature = document.get("signature")
    if not (isinstance(signature, str) and _signature_valid(keys["sign"], signature, canonical(document))):
        raise DocumentRefused("The peer's document signature does not verify.", code="peer_signature_invalid")
    if pinned is None:
        return document
    if pinned.signed_at is not None and signed_at < pinned.signed_at:
        raise DocumentRefused("The peer's document is older than the one already held.", code="peer_document_old")
    if (keys["sign"], keys["agree"]) != (pinned.sign_key, pinned.agree_key):
        rotation = document.get("rotation")
        handed_over = (
            isinstance(rotation, dict)
            and rotation.get("from") == pinned.sign_key
            and isinstance(rotation.get("signature"), str)
            and _signature_valid(pinned.sign_key, rotation["signature"], rotation_text(keys["sign"], keys["agree"]))
        )
        if not handed_over:
            raise DocumentRefused(
                "The peer's keys changed without a rotation signed by its pinned key.", code="peer_keys_changed"
            )
    return document


def _signature_valid(key: str, signature_hex: str, data: bytes) -> bool:
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        return False
    return server_signature_valid(key, signature, data)
