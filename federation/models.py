"""Who this instance knows (remotes), the accounts it pairs with theirs, and the datagrams between them."""

from django.db import models
from django.db.models import Q

from bank.models import Member


class Remote(models.Model):
    """A peer instance, known by the web address of its well-known document (Zold's "remote")."""

    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField(null=True, blank=True, help_text="empty: the scheme's own port")
    url = models.URLField(help_text="its INSTANCE_URL, as its document states it")
    name = models.CharField(max_length=200, blank=True)
    sign_key = models.CharField(max_length=64, help_text="Ed25519 public key, hex: pinned at the first document")
    agree_key = models.CharField(max_length=64, help_text="X25519 public key, hex")
    ws_endpoint = models.CharField(max_length=300, blank=True)
    udp_endpoint = models.CharField(max_length=300, blank=True)
    dht_id = models.CharField(max_length=16, blank=True)
    document = models.JSONField(default=dict, help_text="its latest verified well-known document")
    signed_at = models.DateTimeField(null=True, blank=True, help_text="when it signed that document")
    score = models.PositiveIntegerField(default=0)
    score_time = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="failed updates in a row")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["host", "port"], name="remote_host_port_unique", nulls_distinct=False)
        ]
        ordering = ["-score", "host"]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host

    @property
    def communities(self) -> list[dict]:
        return list(self.document.get("communities", []))


class Pair(models.Model):
    """A local member and an account on a remote instance that exchange datagrams.

    The counters are Resilience's per-pair counters: ``sent`` is the last one this side used,
    ``received`` the highest it accepted from the other; a datagram at or below it is not applied again.
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="federated_pairs")
    remote = models.ForeignKey(Remote, on_delete=models.PROTECT, related_name="pairs")
    handle = models.CharField(max_length=32, help_text="the remote member's handle")
    host = models.CharField(max_length=32, help_text="the remote member's community host")
    sent = models.PositiveBigIntegerField(default=0)
    received = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "handle", "host"], name="pair_unique")]
        indexes = [models.Index(fields=["handle", "host"])]

    def __str__(self) -> str:
        return f"{self.member} ~ {self.remote_address}"

    @property
    def remote_address(self) -> str:
        return f"{self.handle}@{self.host}"


class Outbound(models.Model):
    """A datagram waiting for its acknowledgement: sent, and sent again with backoff, until acknowledged.

    One pair's datagrams go one at a time, in counter order (a receiver refuses a counter below the last
    it accepted, so a later one overtaking an earlier would lose it).
    """

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="outbound")
    counter = models.PositiveBigIntegerField()
    command = models.PositiveSmallIntegerField()
    datagram = models.BinaryField()
    attempts = models.PositiveIntegerField(default=0)
    next_at = models.DateTimeField(db_index=True)
    acked_at = models.DateTimeField(null=True, blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="the acknowledgement's status")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pair", "counter"], name="outbound_pair_counter_unique")]
        indexes = [models.Index(fields=["next_at"], condition=Q(acked_at__isnull=True), name="outbound_due")]


class Inbound(models.Model):
    """A datagram accepted from a pair: each counter once (the next issue's handlers act on them)."""

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="inbound")
    counter = models.PositiveBigIntegerField()
    command = models.PositiveSmallIntegerField()
    arguments = models.JSONField(default=dict)
    status = models.PositiveSmallIntegerField(default=0, help_text="the answer given (datagrams.Status)")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pair", "counter"], name="inbound_pair_counter_unique")]


class OwnScore(models.Model):
    """This instance's scores (one row): the one it shows, and the one beat grows to take its place
    before it expires (a score is worth nothing after 24 hours)."""

    shown = models.TextField(blank=True, help_text="federation.scores.Score.to_text()")
    growing = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class Transit(models.Model):
    """A payment routed across instances, as this instance takes part in it: its own segment of the path.

    ``hashlock`` is the payment's 32-byte id on the wire (hex), the hashlock ``SHA256(preimage)`` the
    payee's instance chose; the local ``payment`` carries the held legs and the state (``Payment.State``, the
    protocol's step). ``upstream`` is the pair value comes in over, ``downstream`` the one it goes out over,
    ``counterpart`` the payer's and payee's pair (no trustline). Deadlines decrease from the payer: a hop's
    own hold (``deadline``) ends a step before the one placed towards it (``deadline_in``).
    """

    class Role(models.TextChoices):
        PAYER = "payer"
        RELAY = "relay"
        PAYEE = "payee"

    role = models.CharField(max_length=5, choices=Role.choices)
    hashlock = models.CharField(
        max_length=64, unique=True, null=True, blank=True, help_text="The payment's id on the wire, hex"
    )
    request_id = models.CharField(max_length=64, blank=True, help_text="The payer's SYNC_PAYMENT id")
    payment = models.OneToOneField(
        "trust.Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="transit"
    )
    amount = models.BigIntegerField()
    upstream = models.ForeignKey(Pair, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    downstream = models.ForeignKey(Pair, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    counterpart = models.ForeignKey(Pair, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    branches = models.JSONField(default=list, help_text="The pairs the path search went out over")
    refused = models.JSONField(default=list, help_text="The branches that refused the search")
    hops = models.PositiveSmallIntegerField(default=0, help_text="Search: hops left; payer: instances after it")
    search_until = models.DateTimeField()
    deadline_in = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    asked_at = models.DateTimeField(null=True, blank=True, help_text="VERIFY_COMMIT last sent downstream")
    error = models.CharField(max_length=40, blank=True, help_text="Why it ended cancelled (an error code)")
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Ended here: settled or released")
    conflict = models.BooleanField(default=False, help_text="A preimage came for a payment already cancelled here")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["role", "updated_at"]), models.Index(fields=["request_id"])]

    def __str__(self) -> str:
        return f"{self.role} {self.hashlock or self.request_id}"[:40]
