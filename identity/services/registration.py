"""Opening identities, registering them with a proof of work, signing and rotating their keys.

Custody 0: the server keeps the private key sealed under the member's passphrase (their password) and
unlocks it only to sign. Custody 1: the key is withheld; the member's app signs and sends signatures.
A rotation appends a key signed by the previous one over ``rotation_text``; old keys stay, so whatever
they signed still verifies with the key in force at its time (``selectors.key_in_force``).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from bank.errors import ApplicationError, InvalidInput
from bank.keys import server_sign
from bank.models import Member
from bank.signatures import receipt_key_certified
from identity import chain, keys, pow
from identity.errors import (
    AlreadyRegistered,
    ProofInvalid,
    ProofReused,
    RotationUnsigned,
    SeedMalformed,
    SignatureInvalid,
    identity_revoked,
)
from identity.models import Identity, IdentityKey, ProofSeed
from identity.selectors import identity_required, key_in_force

# How far a withheld key's rotation time may be from the server's clock (Civil Money's timestamp error).
ROTATION_CLOCK_SKEW = timedelta(minutes=10)


def rotation_text(*, public_key: str, effective_from: datetime) -> bytes:
    """What the previous key signs for a rotation: ``new_pubkey|effective_from`` (UTC, ISO 8601)."""
    return f"{public_key}|{effective_from.isoformat()}".encode()


def _locked_identity(member: Member) -> Identity:
    identity = identity_required(member=member)
    return Identity.objects.select_for_update().get(pk=identity.pk)


def _seed(seed_hex: str) -> bytes:
    try:
        return pow.seed_from_hex(seed_hex)
    except ValueError as exc:
        raise SeedMalformed(str(exc)) from None


def _accept_proof(*, identity: Identity, pubkey_hex: str, seed_hex: str, nonce: int) -> None:
    """Check the proof over ``pubkey_hex`` and spend its seed; a seed is accepted once, for any key."""
    seed = _seed(seed_hex)
    seed_hex = seed.hex()
    if ProofSeed.objects.filter(seed=seed_hex).exists():
        raise ProofReused("This proof's seed has been used already; pick a new seed and solve again.")
    bits = settings.REGISTRATION_POW_BITS
    if not pow.proof_valid(pow.challenge_for(bytes.fromhex(pubkey_hex), seed), nonce, bits):
        raise ProofInvalid(f"The nonce does not solve this key's challenge at {bits} bits.")
    try:
        with transaction.atomic():
            ProofSeed.objects.create(seed=seed_hex, identity=identity, nonce=nonce)
    except IntegrityError:  # the same seed, accepted a moment ago for someone else
        raise ProofReused("This proof's seed has been used already; pick a new seed and solve again.") from None


def _registered(identity: Identity) -> Identity:
    identity.registered_at = timezone.now()
    identity.save(update_fields=["registered_at", "custody"])
    chain.chain_record(chain.events_for("register", [identity]))
    return identity


def _refuse_registered(identity: Identity) -> None:
    if identity.registered_at is not None:
        raise AlreadyRegistered("Your identity is registered already.")


@transaction.atomic
def identity_open(*, member: Member, passphrase: str) -> Identity:
    """The member's identity, opened now (custody 0, a new key sealed under ``passphrase``) if it has none."""
    existing = Identity.objects.filter(member=member).first()
    if existing is not None:
        return existing
    private = keys.new_key()
    sealed, salt = keys.seal_with_passphrase(private, passphrase)
    try:
        with transaction.atomic():
            identity = Identity.objects.create(member=member, custody=Identity.Custody.SERVER)
            public_key = keys.compressed_hex(private.public_key())
            IdentityKey.objects.create(
                identity=identity,
                public_key=public_key,
                sealed_private_key=sealed,
                kdf_salt=salt,
                effective_from=timezone.now(),
                **keys.new_receipt_key(public_key, private),
            )
    except IntegrityError:  # a concurrent first sign-in opened it
        return Identity.objects.get(member=member)
    return identity


@transaction.atomic
def identity_register(*, member: Member, seed_hex: str, nonce: int) -> Identity:
    """Register my identity (custody 0) with a proof of work over my current key."""
    identity = _locked_identity(member)
    _refuse_registered(identity)
    key = key_in_force(identity=identity, at=timezone.now())
    _accept_proof(identity=identity, pubkey_hex=key.public_key, seed_hex=seed_hex, nonce=nonce)
    return _registered(identity)


def _checked_pubkey(pubkey_hex: str, *, field: str = "pubkey") -> str:
    try:
        keys.public_key_from_hex(pubkey_hex)
    except ValueError:
        raise InvalidInput(field, ["This is not a compressed P-256 public key in hex (66 characters)."]) from None
    return pubkey_hex.lower()


def _signature(signature_hex: str) -> bytes:
    try:
        return bytes.fromhex(signature_hex)
    except ValueError:
        raise SignatureInvalid("The signature is not hex.") from None


@transaction.atomic
def identity_register_withheld(
    *, member: Member, pubkey_hex: str, seed_hex: str, nonce: int, signature_hex: str
) -> Identity:
    """Register a withheld key (custody 1): ``signature_hex`` over the 16 seed bytes proves the app holds it.

    The key takes over from now; a server-held key the member had before stays, to verify what it signed.
    """
    pubkey_hex = _checked_pubkey(pubkey_hex)
    identity, _ = Identity.objects.get_or_create(member=member, defaults={"custody": Identity.Custody.WITHHELD})
    identity = Identity.objects.select_for_update().get(pk=identity.pk)
    _refuse_registered(identity)
    if IdentityKey.objects.filter(public_key=pubkey_hex).exists():
        raise AlreadyRegistered("This key is registered already.")
    if not keys.signature_valid(pubkey_hex, _signature(signature_hex), _seed(seed_hex)):
        raise SignatureInvalid("The signature over the seed is not by this key; sign the 16 seed bytes.")
    _accept_proof(identity=identity, pubkey_hex=pubkey_hex, seed_hex=seed_hex, nonce=nonce)
    IdentityKey.objects.create(
        identity=identity, public_key=pubkey_hex, effective_from=timezone.now(), **keys.new_receipt_key(pubkey_hex, None)
    )
    identity.custody = Identity.Custody.WITHHELD
    return _registered(identity)


def _unlocked(key: IdentityKey, passphrase: str):
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
    return key, keys.sign(_unlocked(key, passphrase), data)


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
    old_private, new_private = _unlocked(previous, passphrase), keys.new_key()
    public_key, at = keys.compressed_hex(new_private.public_key()), timezone.now()
    sealed, salt = keys.seal_with_passphrase(new_private, passphrase)
    signature = keys.sign(old_private, rotation_text(public_key=public_key, effective_from=at))
    return {"public_key": public_key, "effective_from": at, "sealed_private_key": sealed, "kdf_salt": salt,
            "rotation_signature": signature, **keys.new_receipt_key(public_key, new_private)}


def _rotation_by_app(
    previous: IdentityKey, new_pubkey_hex: str | None, effective_from: str | None, signature_hex: str | None
) -> dict:
    """Custody 1: the app's new key, with the old key's signature over ``rotation_text``."""
    public_key, at = _checked_pubkey(new_pubkey_hex or "", field="new_pubkey"), _effective_from(effective_from)
    try:
        signature = bytes.fromhex(signature_hex or "")
    except ValueError:
        signature = b""
    text = rotation_text(public_key=public_key, effective_from=at)
    if at <= previous.effective_from or not keys.signature_valid(previous.public_key, signature, text):
        raise RotationUnsigned("The rotation is not signed by your current key: sign new_pubkey|effective_from.")
    return {"public_key": public_key, "effective_from": at, "rotation_signature": signature,
            **keys.new_receipt_key(public_key, None)}


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
    identity = _locked_identity(member)
    if identity.revoked:
        raise identity_revoked(identity.revoked_reason)
    previous = key_in_force(identity=identity, at=timezone.now())
    given = {"passphrase": passphrase, "new_pubkey": new_pubkey_hex, "effective_from": effective_from,
             "rotation_signature": rotation_signature_hex}
    needed = {"passphrase"} if identity.custody == Identity.Custody.SERVER else {"new_pubkey", "effective_from", "rotation_signature"}
    stray = [name for name, value in given.items() if value is not None and name not in needed]
    if stray:  # a field of the other custody's form would be silently dropped
        raise InvalidInput(stray[0], ["Not part of a rotation of this identity's key: send only what its custody needs."])
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
            private = _unlocked(key, old_passphrase)
        except ApplicationError:
            continue
        key.sealed_private_key, key.kdf_salt = keys.seal_with_passphrase(private, new_passphrase)
        key.save(update_fields=["sealed_private_key", "kdf_salt"])


@transaction.atomic
def receipt_key_certify(*, member: Member, signature_hex: str) -> IdentityKey:
    """A withheld key certifies its receipt key: ``signature_hex`` over ``bank.signatures.receipt_key_text``.

    Until then the receipts of that key's time carry no certificate (they still verify with the receipt key).
    """
    identity = _locked_identity(member)
    if identity.custody != Identity.Custody.WITHHELD:
        raise InvalidInput("signature", ["Your key is held by the server, which certified its receipt key itself."])
    key = key_in_force(identity=identity, at=timezone.now())
    signature = _signature(signature_hex)
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
        _unlocked(previous, passphrase)
        return None
    except ApplicationError:  # passphrase_invalid: recover below
        pass
    private = keys.new_key()
    public_key, at = keys.compressed_hex(private.public_key()), timezone.now()
    sealed, salt = keys.seal_with_passphrase(private, passphrase)
    key = IdentityKey.objects.create(
        identity=identity, public_key=public_key, effective_from=at, sealed_private_key=sealed, kdf_salt=salt,
        rotation_signature=server_sign(rotation_text(public_key=public_key, effective_from=at)), recovery=True,
        **keys.new_receipt_key(public_key, private),
    )
    chain.chain_record(chain.events_for("recover", [identity]))
    return key
