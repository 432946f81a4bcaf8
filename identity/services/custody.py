"""What members do with their identity keys: sign, rotate, reseal, certify receipt keys, recover.

A rotation appends a key signed by the previous one over ``rotation_text``; old keys stay, so whatever
they signed still verifies with the key in force at its time (``selectors.key_in_force``).
"""

from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ec
from django.db import transaction
from django.utils import timezone

from bank.models import Member
from core.crypto import p256
from core.crypto.server import server_sign
from core.crypto.signatures import receipt_key_certified
from core.errors import ApplicationError, InvalidInput
from identity import chain, keys
from identity.errors import AlreadyRegistered, RotationUnsigned, SignatureInvalid, identity_revoked
from identity.models import Identity, IdentityKey
from identity.selectors import identity_required, key_in_force
from identity.services.registration import checked_pubkey, locked_identity, signature_bytes

# How far a withheld key's rotation time may be from the server's clock (Civil Money's timestamp error).
ROTATION_CLOCK_SKEW = timedelta(minutes=10)


def rotation_text(*, public_key: str, effective_from: datetime) -> bytes:
    """What the previous key signs for a rotation: ``new_pubkey|effective_from`` (UTC, ISO 8601)."""
    return f"{public_key}|{effective_from.isoformat()}".encode()


def unlocked(key: IdentityKey, passphrase: str) -> ec.EllipticCurvePrivateKey:
    """A custody-0 key's private half, for one signature (``passphrase_invalid`` if it does not open)."""
    return keys.unseal_with_passphrase(key.sealed_private_key, key.kdf_salt, passphrase, key.public_key)


@transaction.atomic
def key_sign(*, member: Member, passphrase: str, data: bytes) -> tuple[IdentityKey, bytes]:
    """Sign ``data`` with my server-held key in force now; a revoked identity signs nothing."""
    identity = identity_required(member=member)
    if identity.revoked:
        raise identity_revoked(identity.revoked_reason)
    if identity.custody != Identity.Custody.SERVER:
        raise InvalidInput("passphrase", ["Your key is withheld: your app signs, not the server."])
    key = key_in_force(identity=identity, at=timezone.now())
    return key, p256.sign(unlocked(key, passphrase), data)


def _effective_from(text: str | None) -> datetime:
    """A withheld key's rotation time as the app signed it, which must be the canonical UTC form."""
    try:
        at = datetime.fromisoformat(text or "")
    except ValueError:
        at = None
    if at is None or at.tzinfo is None or at.utcoffset() or at.isoformat() != text:
        raise InvalidInput("effective_from", ["Give the time in UTC as ISO 8601, e.g. 2025-05-01T12:00:00+00:00."])
    if abs(at - timezone.now()) > ROTATION_CLOCK_SKEW:
        raise InvalidInput("effective_from", ["This time is more than 10 minutes from the server's clock."])
    return at


def _rotation_by_server(previous: IdentityKey, passphrase: str | None) -> dict:
    """Custody 0: a new key sealed under the same passphrase, the rotation signed with the unlocked old key."""
    if not passphrase:
        raise RotationUnsigned("A rotation is signed by your current key: give your passphrase to unlock it.")
    old_private, new_private = unlocked(previous, passphrase), p256.new_key()
    public_key, at = p256.compressed_hex(new_private.public_key()), timezone.now()
    sealed, salt = keys.seal_with_passphrase(new_private, passphrase)
    signature = p256.sign(old_private, rotation_text(public_key=public_key, effective_from=at))
    return {
        "public_key": public_key,
        "effective_from": at,
        "sealed_private_key": sealed,
        "kdf_salt": salt,
        "rotation_signature": signature,
        **keys.new_receipt_key(public_key, new_private),
    }


def _rotation_by_app(
    previous: IdentityKey, new_pubkey_hex: str | None, effective_from: str | None, signature_hex: str | None
) -> dict:
    """Custody 1: the app's new key, with the old key's signature over ``rotation_text``."""
    public_key, at = checked_pubkey(new_pubkey_hex or "", field="new_pubkey"), _effective_from(effective_from)
    try:
        signature = bytes.fromhex(signature_hex or "")
    except ValueError:
        signature = b""
    text = rotation_text(public_key=public_key, effective_from=at)
    if at <= previous.effective_from or not p256.signature_valid(previous.public_key, signature, text):
        raise RotationUnsigned("The rotation is not signed by your current key: sign new_pubkey|effective_from.")
    return {
        "public_key": public_key,
        "effective_from": at,
        "rotation_signature": signature,
        **keys.new_receipt_key(public_key, None),
    }


@transaction.atomic
def key_rotate(
    *,
    member: Member,
    new_pubkey_hex: str | None = None,
    passphrase: str | None = None,
    rotation_signature_hex: str | None = None,
    effective_from: str | None = None,
) -> IdentityKey:
    """Append a new key, signed by the previous one (refused with ``rotation_unsigned`` otherwise).

    Custody 0: given the passphrase, the server makes the new key and signs the rotation. Custody 1: the
    app sends the new public key, the time it takes effect and the old key's signature over ``rotation_text``.
    """
    identity = locked_identity(member)
    if identity.revoked:
        raise identity_revoked(identity.revoked_reason)
    previous = key_in_force(identity=identity, at=timezone.now())
    given = {
        "passphrase": passphrase,
        "new_pubkey": new_pubkey_hex,
        "effective_from": effective_from,
        "rotation_signature": rotation_signature_hex,
    }
    needed = (
        {"passphrase"}
        if identity.custody == Identity.Custody.SERVER
        else {"new_pubkey", "effective_from", "rotation_signature"}
    )
    stray = [name for name, value in given.items() if value is not None and name not in needed]
    if stray:  # a field of the other custody's form would be silently dropped
        raise InvalidInput(
            stray[0], ["Not part of a rotation of this identity's key: send only what its custody needs."]
        )
    if identity.custody == Identity.Custody.SERVER:
        new_key = _rotation_by_server(previous, passphrase)
    else:
        new_key = _rotation_by_app(previous, new_pubkey_hex, effective_from, rotation_signature_hex)
    if IdentityKey.objects.filter(public_key=new_key["public_key"]).exists():
        raise AlreadyRegistered("This key is in use already.")
    return IdentityKey.objects.create(identity=identity, **new_key)


@transaction.atomic
def passphrase_change(*, member: Member, old_passphrase: str, new_passphrase: str) -> None:
    """Reseal the member's server-held keys under a new passphrase (its password changed).

    Keys the old passphrase does not open (sealed before an admin reset the password) stay as they are.
    """
    for key in IdentityKey.objects.select_for_update().filter(identity__member=member).exclude(kdf_salt=b""):
        try:
            private = unlocked(key, old_passphrase)
        except ApplicationError:
            continue
        key.sealed_private_key, key.kdf_salt = keys.seal_with_passphrase(private, new_passphrase)
        key.save(update_fields=["sealed_private_key", "kdf_salt"])


@transaction.atomic
def receipt_key_certify(*, member: Member, signature_hex: str) -> IdentityKey:
    """A withheld key certifies its receipt key: ``signature_hex`` over ``core.crypto.signatures.receipt_key_text``.

    Until then the receipts of that key's time carry no certificate (they still verify with the receipt key).
    """
    identity = locked_identity(member)
    if identity.custody != Identity.Custody.WITHHELD:
        raise InvalidInput("signature", ["Your key is held by the server, which certified its receipt key itself."])
    key = key_in_force(identity=identity, at=timezone.now())
    signature = signature_bytes(signature_hex)
    if not receipt_key_certified(key.public_key, key.receipt_public_key, signature):
        raise SignatureInvalid("The signature is not by your key over receipt-key|pubkey|receipt_pubkey.")
    key.receipt_certificate = signature
    key.save(update_fields=["receipt_certificate"])
    return key


@transaction.atomic
def key_recover(*, member: Member, passphrase: str) -> IdentityKey | None:
    """After an admin reset the password, the old key is sealed under a passphrase nobody has: append a key
    sealed under the new one, its rotation signed by the server, and a ``recover`` block on the chain.

    Nothing happens for a withheld key (the app still holds it) or when the passphrase still opens the key.
    """
    identity = Identity.objects.select_for_update().filter(member=member).first()
    if identity is None or identity.custody != Identity.Custody.SERVER:
        return None
    previous = key_in_force(identity=identity, at=timezone.now())
    try:
        unlocked(previous, passphrase)
        return None
    except ApplicationError:  # passphrase_invalid: recover below
        pass
    private = p256.new_key()
    public_key, at = p256.compressed_hex(private.public_key()), timezone.now()
    sealed, salt = keys.seal_with_passphrase(private, passphrase)
    key = IdentityKey.objects.create(
        identity=identity,
        public_key=public_key,
        effective_from=at,
        sealed_private_key=sealed,
        kdf_salt=salt,
        rotation_signature=server_sign(rotation_text(public_key=public_key, effective_from=at)),
        recovery=True,
        **keys.new_receipt_key(public_key, private),
    )
    chain.chain_record(chain.events_for("recover", [identity]))
    return key
