"""The server's keys: its Ed25519 signing key, and keys derived from it for one purpose each.

``settings.SERVER_KEY`` (32 bytes) is the Ed25519 private key; every other server secret (the
ledger head MAC, app-token secrets, sealed private keys) is HKDF-SHA256 of it with its own
``purpose``, so one configured secret serves them all and no two purposes share a key.
"""

from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from core.crypto import hkdf
from core.crypto.sealing import seal, unseal


@lru_cache(maxsize=4)
def _signing_key(secret: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(secret)


def server_signing_key() -> Ed25519PrivateKey:
    return _signing_key(settings.SERVER_KEY)


def server_public_key_hex() -> str:
    """The server's Ed25519 public key, raw, as hex (what receipts are verified against)."""
    return public_hex(server_signing_key())


def server_sign(data: bytes) -> bytes:
    return server_signing_key().sign(data)


@lru_cache(maxsize=64)
def _derived(secret: bytes, purpose: str, length: int) -> bytes:
    return hkdf.derive(secret, f"trustbank:{purpose}", length)


def derived_key(purpose: str, length: int = 32) -> bytes:
    """A key for one purpose only (e.g. ``"ledger-head-mac"``), derived from the server key."""
    return _derived(settings.SERVER_KEY, purpose, length)


def server_agreement_key() -> X25519PrivateKey:
    """The server's X25519 key for agreeing keys with peer instances: HKDF of ``SERVER_KEY`` with its own label,
    so it needs no variable of its own and rotates with the signing key."""
    return X25519PrivateKey.from_private_bytes(derived_key("peer-agreement"))


def public_hex(key: Ed25519PrivateKey | X25519PrivateKey) -> str:
    """A key's raw public bytes as hex."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def _key_cipher() -> AESGCM:
    return AESGCM(derived_key("account-signing-keys"))


def seal_by_server(private: ec.EllipticCurvePrivateKey, label: str) -> bytes:
    """``nonce || ciphertext`` of a P-256 key (PKCS#8 DER) under a key derived from ``SERVER_KEY``; ``label``
    (associated data) names the key's one place, so a sealed key cannot be moved to another row."""
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return seal(_key_cipher(), der, label.encode())


def open_by_server(sealed: bytes, label: str) -> ec.EllipticCurvePrivateKey:
    """Raises ``cryptography.exceptions.InvalidTag`` when the sealed key or its label was changed."""
    der = unseal(_key_cipher(), bytes(sealed), label.encode())
    return serialization.load_der_private_key(der, password=None)
