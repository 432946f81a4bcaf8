"""Opening identities and registering them with a proof of work (custody 0 or 1).

Custody 0: the server keeps the private key sealed under the member's passphrase (their password) and
unlocks it only to sign. Custody 1: the key is withheld; the member's app signs and sends signatures.
What is done with the keys afterwards (signing, rotation, resealing, recovery) is in ``custody``.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from bank.models import Member
from core.crypto import p256
from core.errors import InvalidInput
from identity import chain, keys, pow
from identity.errors import AlreadyRegistered, ProofInvalid, ProofReused, SeedMalformed, SignatureInvalid
from identity.models import Identity, IdentityKey, ProofSeed
from identity.selectors import identity_required, key_in_force


def locked_identity(member: Member) -> Identity:
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
    private = p256.new_key()
    sealed, salt = keys.seal_with_passphrase(private, passphrase)
    try:
        with transaction.atomic():
            identity = Identity.objects.create(member=member, custody=Identity.Custody.SERVER)
            public_key = p256.compressed_hex(private.public_key())
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
    identity = locked_identity(member)
    _refuse_registered(identity)
    key = key_in_force(identity=identity, at=timezone.now())
    _accept_proof(identity=identity, pubkey_hex=key.public_key, seed_hex=seed_hex, nonce=nonce)
    return _registered(identity)


def checked_pubkey(pubkey_hex: str, *, field: str = "pubkey") -> str:
    try:
        p256.public_key_from_hex(pubkey_hex)
    except ValueError:
        raise InvalidInput(field, ["This is not a compressed P-256 public key in hex (66 characters)."]) from None
    return pubkey_hex.lower()


def signature_bytes(signature_hex: str) -> bytes:
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
    pubkey_hex = checked_pubkey(pubkey_hex)
    identity, _ = Identity.objects.get_or_create(member=member, defaults={"custody": Identity.Custody.WITHHELD})
    identity = Identity.objects.select_for_update().get(pk=identity.pk)
    _refuse_registered(identity)
    if IdentityKey.objects.filter(public_key=pubkey_hex).exists():
        raise AlreadyRegistered("This key is registered already.")
    if not p256.signature_valid(pubkey_hex, signature_bytes(signature_hex), _seed(seed_hex)):
        raise SignatureInvalid("The signature over the seed is not by this key; sign the 16 seed bytes.")
    _accept_proof(identity=identity, pubkey_hex=pubkey_hex, seed_hex=seed_hex, nonce=nonce)
    IdentityKey.objects.create(
        identity=identity,
        public_key=pubkey_hex,
        effective_from=timezone.now(),
        **keys.new_receipt_key(pubkey_hex, None),
    )
    identity.custody = Identity.Custody.WITHHELD
    return _registered(identity)
