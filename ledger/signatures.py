"""Checking the two signatures of a receipt; needs only ``cryptography`` (``ledger.offline`` uses it)."""

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
