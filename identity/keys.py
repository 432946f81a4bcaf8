"""Identity keys: ECDSA P-256, the public half as a compressed point in hex.

Custody scheme 0 keeps the private half sealed with AES-256-GCM under ``scrypt(passphrase)``, the public
key as associated data (so a sealed key cannot be swapped onto another identity's row).

Each identity key certifies a receipt key: a P-256 key the server holds sealed under a key derived from
``SERVER_KEY``, so that receipts are signed in the member's name while the member is away (an intermediary
of a routed payment never enters a passphrase). See docs/design-notes.md, "Receipt keys".
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings

from bank.keys import derived_key, seal, unseal
from bank.signatures import member_signature_valid, receipt_key_text
from identity.errors import PassphraseInvalid

CURVE = ec.SECP256R1()
SALT_BYTES = 16
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
    kdf = Scrypt(salt=salt, length=32, n=2**settings.PASSPHRASE_SCRYPT_LOG2_N, r=8, p=1)
    return AESGCM(kdf.derive(passphrase.encode()))


def seal_with_passphrase(private: ec.EllipticCurvePrivateKey, passphrase: str) -> tuple[bytes, bytes]:
    """``(nonce || ciphertext, salt)``: the private scalar sealed under a key derived from the passphrase."""
    salt = os.urandom(SALT_BYTES)
    scalar = private.private_numbers().private_value.to_bytes(SCALAR_BYTES, "big")
    return seal(_cipher(passphrase, salt), scalar, compressed_hex(private.public_key()).encode()), salt


def unseal_with_passphrase(sealed: bytes, salt: bytes, passphrase: str, pubkey_hex: str) -> ec.EllipticCurvePrivateKey:
    """The private key sealed for ``pubkey_hex``; a wrong passphrase raises ``passphrase_invalid``."""
    try:
        scalar = unseal(_cipher(passphrase, bytes(salt)), bytes(sealed), pubkey_hex.encode())
    except InvalidTag:
        raise PassphraseInvalid("The passphrase does not unlock this identity key.") from None
    return ec.derive_private_key(int.from_bytes(scalar, "big"), CURVE)


def _server_cipher() -> AESGCM:
    return AESGCM(derived_key("account-signing-keys"))


def seal_by_server(private: ec.EllipticCurvePrivateKey, label: str) -> bytes:
    """``nonce || ciphertext`` of the key (PKCS#8 DER) under a key derived from ``SERVER_KEY``; ``label``
    (associated data) names the key's one place, so a sealed key cannot be moved to another row."""
    der = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return seal(_server_cipher(), der, label.encode())


def open_by_server(sealed: bytes, label: str) -> ec.EllipticCurvePrivateKey:
    """Raises ``cryptography.exceptions.InvalidTag`` when the sealed key or its label was changed."""
    der = unseal(_server_cipher(), bytes(sealed), label.encode())
    return serialization.load_der_private_key(der, password=None)


def receipt_key_label(receipt_public_key: str) -> str:
    return f"receipt-key:{receipt_public_key}"


def new_receipt_key(identity_public_key: str, identity_private: ec.EllipticCurvePrivateKey | None) -> dict:
    """A server-held receipt key for an identity key, certified by it when its private half is at hand
    (custody 0); a withheld key's app certifies later. The fields of ``IdentityKey`` it fills."""
    receipt = new_key()
    receipt_public = compressed_hex(receipt.public_key())
    certificate = b""
    if identity_private is not None:
        certificate = sign(identity_private, receipt_key_text(identity_public_key, receipt_public))
    return {
        "receipt_public_key": receipt_public,
        "sealed_receipt_key": seal_by_server(receipt, receipt_key_label(receipt_public)),
        "receipt_certificate": certificate,
    }


def sign(private: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA P-256 with SHA-256, DER-encoded."""
    return private.sign(data, ec.ECDSA(hashes.SHA256()))


def signature_valid(pubkey_hex: str, signature: bytes, data: bytes) -> bool:
    return member_signature_valid(pubkey_hex, signature, data)
