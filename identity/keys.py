"""Custody of identity keys (ECDSA P-256, ``core.crypto.p256``) and the receipt keys they certify.

Custody scheme 0 keeps the private half sealed with AES-256-GCM under ``scrypt(passphrase)``, the public
key as associated data (so a sealed key cannot be swapped onto another identity's row).

Each identity key certifies a receipt key: a P-256 key the server holds sealed under a key derived from
``SERVER_KEY``, so that receipts are signed in the member's name while the member is away (an intermediary
of a routed payment never enters a passphrase). See docs/identity.md, "Receipt keys".
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings

from core.crypto import p256
from core.crypto.sealing import seal, unseal
from core.crypto.server import seal_by_server
from core.crypto.signatures import receipt_key_text
from identity.errors import PassphraseInvalid

SALT_BYTES = 16
SCALAR_BYTES = 32


def _cipher(passphrase: str, salt: bytes) -> AESGCM:
    kdf = Scrypt(salt=salt, length=32, n=2**settings.PASSPHRASE_SCRYPT_LOG2_N, r=8, p=1)
    return AESGCM(kdf.derive(passphrase.encode()))


def seal_with_passphrase(private: ec.EllipticCurvePrivateKey, passphrase: str) -> tuple[bytes, bytes]:
    """``(nonce || ciphertext, salt)``: the private scalar sealed under a key derived from the passphrase."""
    salt = os.urandom(SALT_BYTES)
    scalar = private.private_numbers().private_value.to_bytes(SCALAR_BYTES, "big")
    return seal(_cipher(passphrase, salt), scalar, p256.compressed_hex(private.public_key()).encode()), salt


def unseal_with_passphrase(sealed: bytes, salt: bytes, passphrase: str, pubkey_hex: str) -> ec.EllipticCurvePrivateKey:
    """The private key sealed for ``pubkey_hex``; a wrong passphrase raises ``passphrase_invalid``."""
    try:
        scalar = unseal(_cipher(passphrase, bytes(salt)), bytes(sealed), pubkey_hex.encode())
    except InvalidTag:
        raise PassphraseInvalid("The passphrase does not unlock this identity key.") from None
    return ec.derive_private_key(int.from_bytes(scalar, "big"), p256.CURVE)


def receipt_key_label(receipt_public_key: str) -> str:
    return f"receipt-key:{receipt_public_key}"


def new_receipt_key(identity_public_key: str, identity_private: ec.EllipticCurvePrivateKey | None) -> dict:
    """A server-held receipt key for an identity key, certified by it when its private half is at hand
    (custody 0); a withheld key's app certifies later. The fields of ``IdentityKey`` it fills."""
    receipt = p256.new_key()
    receipt_public = p256.compressed_hex(receipt.public_key())
    certificate = b""
    if identity_private is not None:
        certificate = p256.sign(identity_private, receipt_key_text(identity_public_key, receipt_public))
    return {
        "receipt_public_key": receipt_public,
        "sealed_receipt_key": seal_by_server(receipt, receipt_key_label(receipt_public)),
        "receipt_certificate": certificate,
    }
