"""Checking the server's signatures and receipt-key certificates; needs only ``cryptography``
(``ledger.offline`` uses it without Django).

Members sign with ECDSA P-256 (``core.crypto.p256``: identity keys, and the receipt keys they certify);
the server signs with Ed25519 (``core.crypto.server``).
"""

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core.crypto import p256


def server_signature_valid(public_key_hex: str, signature: bytes, data: bytes) -> bool:
    """Ed25519; the public key raw, in hex."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def receipt_key_text(identity_public_key: str, receipt_public_key: str) -> bytes:
    """What an identity key signs to let a server-held receipt key sign receipts in its name."""
    return f"receipt-key|{identity_public_key}|{receipt_public_key}".encode()


def receipt_key_certified(identity_public_key: str, receipt_public_key: str, certificate: bytes) -> bool:
    return p256.signature_valid(
        identity_public_key, certificate, receipt_key_text(identity_public_key, receipt_public_key)
    )
