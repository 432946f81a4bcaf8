"""Members' identities: their keys, reputation, challenges, the identity chain, propositions and votes."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from bank.models import Community, Member
from identity import reputation_points


class Identity(models.Model):
    """A member's key-anchored identity and its reputation points (``balance``; ``identity.reputation_points``
    holds the rules). The credit score is computed from payments, never stored (``identity.credit``)."""

    class Custody(models.IntegerChoices):
        SERVER = 0, "held encrypted on the server, unlocked by the member's passphrase"
        WITHHELD = 1, "withheld: the member's app signs"

    member = models.OneToOneField(Member, on_delete=models.PROTECT, primary_key=True, related_name="identity")
    custody = models.PositiveSmallIntegerField(choices=Custody.choices, default=Custody.SERVER)
    balance = models.IntegerField(default=reputation_points.START)
    revoked = models.BooleanField(default=False)
    revoked_reason = models.CharField(max_length=255, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True, help_text="When its proof of work was accepted")
    last_seen_at = models.DateTimeField(null=True, blank=True, help_text="A live client: socket or heartbeat")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return str(self.member)

    @property
    def standing(self) -> reputation_points.Standing:
        return reputation_points.Standing(self.balance, self.revoked)


class IdentityKey(models.Model):
    """One of an identity's ECDSA P-256 keys; the key in force at a time is the latest effective by then.

    A rotation's key carries the previous key's signature over ``public_key|effective_from``. Each key has
    a server-held receipt key that signs receipts in its name, certified by it (``identity.keys``).
    """

    identity = models.ForeignKey(Identity, on_delete=models.PROTECT, related_name="keys")
    public_key = models.CharField(max_length=66, unique=True, help_text="Compressed P-256 point, hex")
    sealed_private_key = models.BinaryField(blank=True, help_text="Custody 0: AES-GCM under scrypt(passphrase)")
    kdf_salt = models.BinaryField(blank=True)
    effective_from = models.DateTimeField()
    rotation_signature = models.BinaryField(blank=True, help_text="By the previous key; empty for the first")
    recovery = models.BooleanField(
        default=False, help_text="Appended after an admin reset the password: rotation_signature is the server's"
    )
    receipt_public_key = models.CharField(max_length=66, blank=True, help_text="Compressed P-256 point, hex")
    sealed_receipt_key = models.BinaryField(blank=True, help_text="AES-GCM under a key derived from SERVER_KEY")
    receipt_certificate = models.BinaryField(
        blank=True, help_text="This key's signature over receipt-key|public_key|receipt_public_key; empty until given"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["identity", "effective_from"]


class ProofSeed(models.Model):
    """A registration proof's seed, used once: a proof is never accepted twice, for any key."""

    seed = models.CharField(max_length=32, primary_key=True)
    identity = models.ForeignKey(Identity, on_delete=models.PROTECT, related_name="+")
    nonce = models.DecimalField(max_digits=20, decimal_places=0, help_text="0 to 2**64 - 1")
    accepted_at = models.DateTimeField(auto_now_add=True)


class Challenge(models.Model):
    """A reputation challenge: prove work over ``data`` before ``expires_at``, or lose reputation."""

    class State(models.TextChoices):
        PENDING = "pending"
        SOLVED = "solved"
        IGNORED = "ignored"

    target = models.ForeignKey(Identity, on_delete=models.PROTECT, related_name="incoming_challenges")
    issuer = models.ForeignKey(
        Identity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issued_challenges",
        help_text="Empty: issued by the server's schedule",
    )
    data = models.CharField(max_length=64, help_text="The challenge bytes, hex")
    difficulty_bits = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    issued_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    solved_at = models.DateTimeField(null=True, blank=True)
    nonce = models.DecimalField(max_digits=20, decimal_places=0, null=True, blank=True, help_text="0 to 2**64 - 1")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target"], condition=Q(state="pending"), name="one_pending_challenge"),
            models.CheckConstraint(condition=~Q(issuer=models.F("target")), name="never_self_challenged"),
        ]
        indexes = [models.Index(fields=["state", "expires_at"])]


class Block(models.Model):
    """A block of this instance's identity chain: register, mine and ignore events, hash-linked, signed."""

    index = models.PositiveIntegerField(unique=True)
    previous_hash = models.CharField(max_length=64)
    block_hash = models.CharField(max_length=64, unique=True)
    events = models.JSONField(help_text='[{"type": "register"|"mine"|"ignore"|..., "pubkey": ..., ...}]')
    signature = models.CharField(max_length=128, help_text="The server's Ed25519 signature of block_hash, hex")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["index"]


class Review(models.Model):
    """An admin's review of an identity (a revoked one restored), with the reason recorded."""

    identity = models.ForeignKey(Identity, on_delete=models.PROTECT, related_name="reviews")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    balance_before = models.IntegerField()
    balance_after = models.IntegerField()
    reviewed_at = models.DateTimeField(auto_now_add=True)


class Proposition(models.Model):
    """A binary question a community's admins put to its eligible members."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="propositions")
    title = models.CharField(max_length=255)
    created_by = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    closes_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class Vote(models.Model):
    """A member's vote (0 or 1), signed with the identity key in force; changeable until the close."""

    proposition = models.ForeignKey(Proposition, on_delete=models.PROTECT, related_name="votes")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="votes")
    value = models.PositiveSmallIntegerField(choices=[(0, "no"), (1, "yes")])
    key = models.ForeignKey(IdentityKey, on_delete=models.PROTECT, related_name="+")
    signature = models.BinaryField(help_text="ECDSA over the vote text (see identity.services.votes)")
    cast_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposition", "member"], name="one_vote_per_member")]
