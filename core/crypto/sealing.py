"""Sealing: whatever is sealed (ledger entries, archives, private keys) is ``nonce || ciphertext`` of
AES-256-GCM, with associated data that binds it to its one place."""

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


def seal(cipher: AESGCM, plaintext: bytes, associated: bytes) -> bytes:
    """``nonce || ciphertext`` under a fresh random nonce."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + cipher.encrypt(nonce, plaintext, associated)


def unseal(cipher: AESGCM, sealed: bytes, associated: bytes) -> bytes:
    """Raises ``cryptography.exceptions.InvalidTag`` when anything was changed."""
    return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
