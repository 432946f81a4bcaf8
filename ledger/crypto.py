"""The ledger's keys: communities' ledger keys, sealing of entries, and accounts' signing keys.

- Ledger key: per community an X25519 key pair derived (HKDF) from ``settings.LEDGER_KEY``.
- Sealing: each writing process makes an ephemeral X25519 key per community and stores its public
  half (``SealingKey``); the entries it writes are AES-256-GCM under
  ``HKDF(X25519(ephemeral, ledger public))``, so writing needs only the ledger's public key and
  reading its private key. The associated data binds a ciphertext to its community and position.
- Account keys: ECDSA P-256, sealed by the server (``core.crypto.server.seal_by_server``). They sign receipts
  only for accounts without an identity key (the commons, members who never signed in); members' receipts
  are signed by the receipt key their identity key certified.
"""

from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from core.crypto import hkdf, p256
from core.crypto import server as server_keys

RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@lru_cache(maxsize=256)
def _ledger_private(master: bytes, community_id: int) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(hkdf.derive(master, f"trustbank:ledger-key:{community_id}"))


def ledger_private_key(community_id: int) -> X25519PrivateKey:
    return _ledger_private(settings.LEDGER_KEY, community_id)


def ledger_public_key(community_id: int) -> bytes:
    return ledger_private_key(community_id).public_key().public_bytes(*RAW)


def _entry_key(shared: bytes, ephemeral_public: bytes, ledger_public: bytes) -> AESGCM:
    return AESGCM(hkdf.derive(shared, "trustbank:ledger-entries:" + ephemeral_public.hex() + ledger_public.hex()))


def new_sealer(community_id: int) -> tuple[bytes, AESGCM]:
    """A writer's ephemeral public key and the cipher it seals with (from the public ledger key only)."""
    ephemeral = X25519PrivateKey.generate()
    ledger_public = ledger_public_key(community_id)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(ledger_public))
    ephemeral_public = ephemeral.public_key().public_bytes(*RAW)
    return ephemeral_public, _entry_key(shared, ephemeral_public, ledger_public)


def opener(community_id: int, ephemeral_public: bytes) -> AESGCM:
    """The cipher that opens what the writer of ``ephemeral_public`` sealed (needs the ledger private key)."""
    private = ledger_private_key(community_id)
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    return _entry_key(shared, ephemeral_public, private.public_key().public_bytes(*RAW))


def position(community_id: int, receipt_id: int, kind: str = "entry") -> bytes:
    """Associated data: a sealed text is valid only at its own place."""
    return f"{kind}:{community_id}:{receipt_id}".encode()


# --- accounts' signing keys (held by the server, for accounts without an identity key) ---------


def new_account_key(account_id: int) -> tuple[str, bytes]:
    """A fresh P-256 key: its compressed public key (hex) and its private key sealed for storage."""
    private = p256.new_key()
    return p256.compressed_hex(private.public_key()), server_keys.seal_by_server(private, f"account-key:{account_id}")


def open_account_key(account_id: int, sealed: bytes) -> ec.EllipticCurvePrivateKey:
    return server_keys.open_by_server(sealed, f"account-key:{account_id}")
