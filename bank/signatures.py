"""Checking signatures; needs only ``cryptography`` (``ledger.offline`` uses it without Django).

Members sign with ECDSA P-256 (identity keys, and the receipt keys they certify); the server signs with
Ed25519.
"""

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def member_signature_valid(public_key_hex: str, signature: bytes, data: bytes) -> bool:
    """ECDSA P-256 with SHA-256; the public key compressed, in hex."""
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes.fromhex(public_key_hex))
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


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
    return member_signature_valid(
        identity_public_key, certificate, receipt_key_text(identity_public_key, receipt_public_key)
    )
