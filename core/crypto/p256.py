"""Members' keys: ECDSA P-256 with SHA-256, the public half a compressed point in hex (no Django needed)."""

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

CURVE = ec.SECP256R1()


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(CURVE)


def compressed_hex(public: ec.EllipticCurvePublicKey) -> str:
    return public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint).hex()


def public_key_from_hex(pubkey_hex: str) -> ec.EllipticCurvePublicKey:
    """The key of a compressed point in hex; ``ValueError`` for anything else."""
    if not (isinstance(pubkey_hex, str) and len(pubkey_hex) == 66):
        raise ValueError("A public key is a compressed P-256 point: 66 hex characters.")
    return ec.EllipticCurvePublicKey.from_encoded_point(CURVE, bytes.fromhex(pubkey_hex))


def sign(private: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """DER-encoded signature."""
    return private.sign(data, ec.ECDSA(hashes.SHA256()))


def signature_valid(public_key_hex: str, signature: bytes, data: bytes) -> bool:
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(CURVE, bytes.fromhex(public_key_hex))
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True
