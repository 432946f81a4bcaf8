"""Keys between two accounts on two instances, agreed without any manual exchange (Resilience).

The base key of a pair is X25519 between the two instances' agreement keys, then HKDF-SHA256 over
both full addresses (``handle@host``, lower case) in sorted order, so either side derives the same
key from its own private key and the other's public one. Each datagram is authenticated with a
session key: HKDF of the base key, the datagram's sender and its counter, so no two datagrams share a
MAC key and none can be reflected back to its sender as the other side's.
"""

from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from core.crypto import hkdf
from core.crypto.server import server_agreement_key


def pair_key(*, peer_agree_key: str, local: str, remote: str, own: X25519PrivateKey | None = None) -> bytes:
    """The base key of ``local`` (an account here) and ``remote`` (one on the instance whose agreement key,
    hex, is ``peer_agree_key``)."""
    own = own or server_agreement_key()
    return _pair_key(own.private_bytes_raw(), peer_agree_key, *sorted((local.lower(), remote.lower())))


@lru_cache(maxsize=4096)
def _pair_key(own: bytes, peer_agree_key: str, first: str, second: str) -> bytes:
    private = X25519PrivateKey.from_private_bytes(own)
    shared = private.exchange(X25519PublicKey.from_public_bytes(bytes.fromhex(peer_agree_key)))
    return hkdf.derive(shared, f"trustbank:pair:{first}|{second}")


def session_key(base: bytes, *, sender: str, counter: int) -> bytes:
    """The MAC key of the datagram numbered ``counter`` that ``sender`` (``handle@host``) sends in a pair."""
    return hkdf.derive(base, f"trustbank:session:{sender.lower()}:{counter}")
