"""Identity keys: ECDSA P-256, the public half as a compressed point in hex.

Custody scheme 0 keeps the private half sealed with AES-256-GCM under ``scrypt(passphrase)``, the public
key as associated data (so a sealed key cannot be swapped onto another identity's row). Verifying reuses
``ledger.signatures`` (pure, no database), so identity and ledger signatures are checked one way.
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from identity.errors import PassphraseInvalid
from ledger.signatures import member_signature_valid

CURVE = ec.SECP256R1()
SALT_BYTES = 16
NONCE_BYTES = 12
SCALAR_BYTES = 32


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(CURVE)


def compressed_hex(public: ec.EllipticCurvePublicKey) -> str:
    return public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint).hex()


def public_key_from_hex(pubkey_hex: str) -> ec.EllipticCurvePublicKey:
    """The key of a compressed point in hex; ``ValueError`` for anything else."""
    if not (isinstance(pubkey_hex, str) and len(pubkey_hex) == 66):
        raise ValueError("A public key is a compressed P-256 point: 66 hex characters.")
    return ec.EllipticCurvePublicKey.from_encoded_point(CURVE, bytes.fromhex(pubkey_hex))


def _cipher(passphrase: str, salt: bytes) -> AESGCM:
    kdf = Scrypt(salt=salt, length=32, n=2**14, r=8, p=1)
    return AESGCM(kdf.derive(passphrase.encode()))


def seal_with_passphrase(private: ec.EllipticCurvePrivateKey, passphrase: str) -> tuple[bytes, bytes]:
    """``(nonce || ciphertext, salt)``: the private scalar sealed under a key derived from the passphrase."""
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    scalar = private.private_numbers().private_value.to_bytes(SCALAR_BYTES, "big")
    associated = compressed_hex(private.public_key()).encode()
    return nonce + _cipher(passphrase, salt).encrypt(nonce, scalar, associated), salt


def unseal_with_passphrase(sealed: bytes, salt: bytes, passphrase: str, pubkey_hex: str) -> ec.EllipticCurvePrivateKey:
    """The private key sealed for ``pubkey_hex``; a wrong passphrase raises ``passphrase_invalid``."""
    sealed, salt = bytes(sealed), bytes(salt)
    try:
        scalar = _cipher(passphrase, salt).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], pubkey_hex.encode())
    except InvalidTag:
        raise PassphraseInvalid("The passphrase does not unlock this identity key.") from None
    return ec.derive_private_key(int.from_bytes(scalar, "big"), CURVE)


def sign(private: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA P-256 with SHA-256, DER-encoded."""
    return private.sign(data, ec.ECDSA(hashes.SHA256()))


def signature_valid(pubkey_hex: str, signature: bytes, data: bytes) -> bool:
    return member_signature_valid(pubkey_hex, signature, data)
