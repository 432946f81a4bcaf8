"""The server's keys: its Ed25519 signing key, and keys derived from it for one purpose each.

``settings.SERVER_KEY`` (32 bytes) is the Ed25519 private key; every other server secret (the
ledger head MAC, app-token secrets, sealed member keys) is HKDF-SHA256 of it with its own
``purpose``, so one configured secret serves them all and no two purposes share a key.

Whatever is sealed (ledger entries, archives, members' keys) is ``nonce || ciphertext`` of AES-256-GCM
(``seal``/``unseal``), with associated data that binds it to its one place.
"""

import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@lru_cache(maxsize=4)
def _signing_key(secret: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(secret)


def server_signing_key() -> Ed25519PrivateKey:
    return _signing_key(settings.SERVER_KEY)


def server_public_key_hex() -> str:
    """The server's Ed25519 public key, raw, as hex (what receipts are verified against)."""
    public = server_signing_key().public_key()
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def server_sign(data: bytes) -> bytes:
    return server_signing_key().sign(data)


@lru_cache(maxsize=64)
def _derived(secret: bytes, purpose: str, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=f"trustbank:{purpose}".encode()).derive(secret)


def derived_key(purpose: str, length: int = 32) -> bytes:
    """A key for one purpose only (e.g. ``"ledger-head-mac"``), derived from the server key."""
    return _derived(settings.SERVER_KEY, purpose, length)


NONCE_BYTES = 12


def seal(cipher: AESGCM, plaintext: bytes, associated: bytes) -> bytes:
    """``nonce || ciphertext`` under a fresh random nonce."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + cipher.encrypt(nonce, plaintext, associated)


def unseal(cipher: AESGCM, sealed: bytes, associated: bytes) -> bytes:
    """Raises ``cryptography.exceptions.InvalidTag`` when anything was changed."""
    return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
