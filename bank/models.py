from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from core.crypto.secrets import digest

HANDLE_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,31}$"
# Names the platform gives accounts of its own; no member may take them.
RESERVED_HANDLES = frozenset({"commons"})
handle_validator = RegexValidator(
    HANDLE_PATTERN,
    "A handle has 2 to 32 characters: lowercase letters, digits, '-' and '_', starting with a letter or digit.",
)


class Community(models.Model):
    """A tenant: one community bank on this instance."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    domain = models.CharField(
        max_length=253, unique=True, null=True, blank=True, help_text="Optional own domain, e.g. bank.example.org"
    )
    currency_code = models.CharField(max_length=8, default="TRUST")
    currency_name = models.CharField(max_length=50, default="Trust")
    minimum_trust_index = models.DecimalField(
        max_digits=7,
        decimal_places=6,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Lowest tax rate a member may set, between 0 and 1.",
    )
    max_hops = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(30)], help_text="Longest payment path."
    )
    hop_fee_ppm = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(1_000_000)],
        help_text="Fee per intermediary hop, in millionths of the amount; paid to the commons with the tax.",
    )
    commons_limit = models.BigIntegerField(
        default=100_000_000,
        validators=[MinValueValidator(0)],
        help_text="Credit, in micro-units, that a new member and the commons extend to each other.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "communities"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Host headers are case-insensitive; stored domains are lowercase so lookups are exact.
        self.domain = (self.domain or "").strip().lower() or None

    def login_name(self, handle: str) -> str:
        """The instance username of a login made for a member joining without one (unique: handles
        are unique per community, and may not contain '@')."""
        return f"{handle}@{self.slug}"

    @property
    def address_domain(self) -> str:
        return self.domain or f"{self.slug}.{settings.INSTANCE_DOMAIN}"


class MemberQuerySet(models.QuerySet):
    def active(self) -> "MemberQuerySet":
        return self.filter(is_active=True, user__is_active=True)

    def admins(self) -> "MemberQuerySet":
        return self.filter(role=Member.Role.ADMIN)


class Member(models.Model):
    """A login's membership in one community."""

    class Role(models.TextChoices):
        MEMBER = "member"
        ADMIN = "admin"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="members")
    handle = models.CharField(max_length=32, validators=[handle_validator])
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(auto_now_add=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        ordering = ["community", "handle"]
        constraints = [
            models.UniqueConstraint(fields=["community", "handle"], name="member_handle_unique"),
            models.UniqueConstraint(fields=["community", "user"], name="member_user_unique"),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return f"{self.handle}@{self.community.address_domain}"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Invite(models.Model):
    """A single-use invitation into one community. Only the digest of the code is stored."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="invites")
    code_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invite to {self.community} ({self.code_digest[:8]})"


class AuthTokenQuerySet(models.QuerySet):
    def for_key(self, key: str) -> "AuthTokenQuerySet":
        return self.filter(key_digest=digest(key))


class AuthToken(models.Model):
    """An API token issued at login, valid only in its membership's community."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="auth_tokens")
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuthTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Token of {self.member} ({self.key_digest[:8]})"


class AppToken(models.Model):
    """A third-party app's token for one membership (the Tilde client API), limited to its scopes.

    ``token`` is a public id. Its secret is not stored: it is derived from the server key and the
    token (``bank.app_tokens.app_token_secret``), so nothing in the database can sign a request.
    """

    class Scope(models.TextChoices):
        READ = "read"
        PAY = "pay"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="app_tokens")
    name = models.CharField(max_length=64, help_text="The app's name, as the member gave it.")
    token = models.CharField(max_length=32, unique=True, editable=False)
    scopes = models.JSONField(default=list, help_text='Some of "read" and "pay".')
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token})"

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


class IdempotentRequest(models.Model):
    """The first answer to a request sent with an ``Idempotency-Key``, replayed to its retries (bank.idempotency).

    The row is written in the same transaction as the request's changes, so it exists exactly when
    they do: a request that failed or died left neither behind, and its retry runs afresh.
    """

    # Whose key it is: "<community id>:<user id>", "-" for none, so one caller's keys never meet another's.
    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body")
    status = models.PositiveSmallIntegerField(null=True)
    # The answer's JSON as text: jsonb would reorder its keys.
    body = models.TextField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotent_request_scope_key")]
